/**
 * A user's storage account: the attachments they uploaded (to documents of their workspaces or to their
 * own notes) and the bytes these hold against their quota. One stream per user, so that the quota holds
 * even when completions race: two uploads that each fit but not together cannot both be recorded.
 *
 * An attachment is added once its object is in the bucket (the caller checked it with a HEAD and passes
 * what it found), removed by anyone who may edit what it is attached to, and its object's deletion (by
 * a reactor, after the removal) is recorded so that the reactor's work is visible and never repeated.
 * Who may touch the document or note is looked up by the caller and passed in, as for documents.
 */
import type { Decider } from '../shared/decider';
import { conflict, DomainError, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const storageAccountStreamId = (ownerId: string) => `storage-${ownerId}`;

export type AttachmentTarget = { readonly kind: 'document'; readonly id: string } | { readonly kind: 'note'; readonly id: string };

export interface AttachmentFacts {
  readonly attachmentId: string;
  readonly target: AttachmentTarget;
  /** The document's workspace (null for a note): who else may see the attachment. */
  readonly workspaceId: string | null;
  readonly key: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
}

export type StorageAccountEvent =
  | DomainEvent<'AttachmentAdded', AttachmentFacts & { ownerId: string; addedAt: string }>
  | DomainEvent<'AttachmentRemoved', { attachmentId: string; ownerId: string; key: string; size: number; removedAt: string; removedBy: string }>
  | DomainEvent<'AttachmentObjectDeleted', { attachmentId: string; ownerId: string; key: string; deletedAt: string }>;

export interface StoredAttachment {
  readonly key: string;
  readonly size: number;
  readonly status: 'attached' | 'removed' | 'object_deleted';
}

export interface StorageAccount {
  readonly usedBytes: number;
  readonly attachments: Readonly<Record<string, StoredAttachment>>;
}

export type StorageAccountCommand =
  | ({
      readonly type: 'AddAttachment';
      readonly ownerId: string;
      /** Whether the owner may still edit the target (member of the document's workspace, owner of the note). */
      readonly ownerHasAccess: boolean;
      readonly quotaBytes: number;
      readonly at: string;
    } & AttachmentFacts)
  | { readonly type: 'RemoveAttachment'; readonly attachmentId: string; readonly ownerId: string; readonly actorId: string; readonly actorHasAccess: boolean; readonly at: string }
  | { readonly type: 'RecordObjectDeleted'; readonly attachmentId: string; readonly ownerId: string; readonly at: string };

const ATTACHMENT_NOT_FOUND = () => notFound('ATTACHMENT.NOT_FOUND', 'no such attachment');

export function quotaExceeded(usedBytes: number, size: number, quotaBytes: number): DomainError {
  return new DomainError('unprocessable', 'STORAGE.QUOTA_EXCEEDED', `${size} more bytes would exceed the storage quota (${usedBytes} of ${quotaBytes} bytes used)`);
}

/** Whether `size` more bytes fit into the quota (what presigning asks before it signs anything). */
export const fitsQuota = (account: StorageAccount, size: number, quotaBytes: number) => account.usedBytes + size <= quotaBytes;

export const storageAccountDecider: Decider<StorageAccountCommand, StorageAccountEvent, StorageAccount> = {
  initialState: { usedBytes: 0, attachments: {} },

  decide(command, state) {
    switch (command.type) {
      case 'AddAttachment': {
        if (!command.ownerHasAccess) {
          throw command.target.kind === 'document' ? notFound('DOCUMENT.NOT_FOUND', 'no such document') : notFound('NOTE.NOT_FOUND', 'no such note');
        }
        const existing = state.attachments[command.attachmentId];
        if (existing) {
          // Completing the same upload again (a retry) changes nothing; anything else reuses an id.
          if (existing.key === command.key && existing.status === 'attached') return [];
          throw conflict('ATTACHMENT.ALREADY_COMPLETED', 'this upload was completed before (and may have been removed since)');
        }
        if (!fitsQuota(state, command.size, command.quotaBytes)) throw quotaExceeded(state.usedBytes, command.size, command.quotaBytes);
        const { attachmentId, target, workspaceId, key, fileName, contentType, size, ownerId, at } = command;
        return [{ type: 'AttachmentAdded', data: { attachmentId, target, workspaceId, key, fileName, contentType, size, ownerId, addedAt: at } }];
      }
      case 'RemoveAttachment': {
        const attachment = state.attachments[command.attachmentId];
        if (!attachment || !command.actorHasAccess) throw ATTACHMENT_NOT_FOUND();
        if (attachment.status !== 'attached') return [];
        return [
          {
            type: 'AttachmentRemoved',
            data: { attachmentId: command.attachmentId, ownerId: command.ownerId, key: attachment.key, size: attachment.size, removedAt: command.at, removedBy: command.actorId },
          },
        ];
      }
      case 'RecordObjectDeleted': {
        const attachment = state.attachments[command.attachmentId];
        if (!attachment) throw ATTACHMENT_NOT_FOUND();
        if (attachment.status !== 'removed') return [];
        return [{ type: 'AttachmentObjectDeleted', data: { attachmentId: command.attachmentId, ownerId: command.ownerId, key: attachment.key, deletedAt: command.at } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'AttachmentAdded':
        return {
          usedBytes: state.usedBytes + event.data.size,
          attachments: { ...state.attachments, [event.data.attachmentId]: { key: event.data.key, size: event.data.size, status: 'attached' } },
        };
      case 'AttachmentRemoved': {
        const attachment = state.attachments[event.data.attachmentId];
        if (!attachment) return state;
        return { usedBytes: state.usedBytes - attachment.size, attachments: { ...state.attachments, [event.data.attachmentId]: { ...attachment, status: 'removed' } } };
      }
      case 'AttachmentObjectDeleted': {
        const attachment = state.attachments[event.data.attachmentId];
        if (!attachment) return state;
        return { ...state, attachments: { ...state.attachments, [event.data.attachmentId]: { ...attachment, status: 'object_deleted' } } };
      }
      default:
        return unreachable(event);
    }
  },
};
