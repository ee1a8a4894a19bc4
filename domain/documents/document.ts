/**
 * The document aggregate: a titled markdown (or JSON) text in a workspace, edited in whole-content
 * events so that every revision can be rebuilt from the stream. Deleting is soft (a tombstone that sync
 * clients receive); a deleted document can be restored. Who may touch it is decided by the workspace's
 * membership, which the caller looks up and passes in.
 */
import type { Decider } from '../shared/decider';
import { conflict, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const documentStreamId = (documentId: string) => `document-${documentId}`;

export type DocumentEvent =
  | DomainEvent<'DocumentCreated', { documentId: string; workspaceId: string; title: string; content: string; createdAt: string; createdBy: string }>
  | DomainEvent<'DocumentEdited', { documentId: string; title: string; content: string; editedAt: string; editedBy: string }>
  | DomainEvent<'DocumentDeleted', { documentId: string; deletedAt: string; deletedBy: string }>
  | DomainEvent<'DocumentRestored', { documentId: string; restoredAt: string; restoredBy: string }>;

export interface ExistingDocument {
  readonly status: 'active' | 'deleted';
  readonly id: string;
  readonly workspaceId: string;
  readonly title: string;
  readonly content: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export type Document = { readonly status: 'none' } | ExistingDocument;

/** What the caller found out before deciding: is the actor a member of the document's workspace? */
interface Access {
  readonly actorId: string;
  readonly actorIsMember: boolean;
  readonly at: string;
}

export type DocumentCommand =
  | ({ readonly type: 'CreateDocument'; readonly documentId: string; readonly workspaceId: string; readonly title: string; readonly content: string } & Access)
  | ({ readonly type: 'EditDocument'; readonly title: string; readonly content: string } & Access)
  | ({ readonly type: 'DeleteDocument' } & Access)
  | ({ readonly type: 'RestoreDocument' } & Access);

const DOCUMENT_NOT_FOUND = () => notFound('DOCUMENT.NOT_FOUND', 'no such document');

/** The document if the actor may see it (deleted ones included): NOT_FOUND otherwise. */
function visible(state: Document, access: Access): ExistingDocument {
  if (state.status === 'none' || !access.actorIsMember) throw DOCUMENT_NOT_FOUND();
  return state;
}

function live(state: Document, access: Access): ExistingDocument {
  const document = visible(state, access);
  if (document.status === 'deleted') throw conflict('DOCUMENT.DELETED', 'the document is deleted; restore it first');
  return document;
}

export const documentDecider: Decider<DocumentCommand, DocumentEvent, Document> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateDocument': {
        if (!command.actorIsMember) throw notFound('WORKSPACE.NOT_FOUND', 'no such workspace');
        if (state.status !== 'none') throw conflict('DOCUMENT.ALREADY_EXISTS', 'a document with this id already exists');
        const { documentId, workspaceId, title, content, actorId, at } = command;
        return [{ type: 'DocumentCreated', data: { documentId, workspaceId, title, content, createdAt: at, createdBy: actorId } }];
      }
      case 'EditDocument': {
        const document = live(state, command);
        if (document.title === command.title && document.content === command.content) return [];
        return [{ type: 'DocumentEdited', data: { documentId: document.id, title: command.title, content: command.content, editedAt: command.at, editedBy: command.actorId } }];
      }
      case 'DeleteDocument': {
        const document = visible(state, command);
        if (document.status === 'deleted') return [];
        return [{ type: 'DocumentDeleted', data: { documentId: document.id, deletedAt: command.at, deletedBy: command.actorId } }];
      }
      case 'RestoreDocument': {
        const document = visible(state, command);
        if (document.status === 'active') return [];
        return [{ type: 'DocumentRestored', data: { documentId: document.id, restoredAt: command.at, restoredBy: command.actorId } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DocumentCreated':
        return {
          status: 'active',
          id: event.data.documentId,
          workspaceId: event.data.workspaceId,
          title: event.data.title,
          content: event.data.content,
          createdAt: event.data.createdAt,
          createdBy: event.data.createdBy,
          updatedAt: event.data.createdAt,
          updatedBy: event.data.createdBy,
        };
      case 'DocumentEdited':
        return state.status === 'none' ? state : { ...state, title: event.data.title, content: event.data.content, updatedAt: event.data.editedAt, updatedBy: event.data.editedBy };
      case 'DocumentDeleted':
        return state.status === 'none' ? state : { ...state, status: 'deleted', updatedAt: event.data.deletedAt, updatedBy: event.data.deletedBy };
      case 'DocumentRestored':
        return state.status === 'none' ? state : { ...state, status: 'active', updatedAt: event.data.restoredAt, updatedBy: event.data.restoredBy };
      default:
        return unreachable(event);
    }
  },
};

/** Whether a repeated create (an offline client's retry) is the same create as the one recorded. */
export function isSameCreate(created: DocumentEvent | undefined, command: Extract<DocumentCommand, { type: 'CreateDocument' }>): boolean {
  return (
    created?.type === 'DocumentCreated' &&
    created.data.workspaceId === command.workspaceId &&
    created.data.title === command.title &&
    created.data.content === command.content &&
    created.data.createdBy === command.actorId
  );
}
