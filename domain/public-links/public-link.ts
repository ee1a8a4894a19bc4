/**
 * A public link: a read-only view of one document or note for anyone holding its token, with no
 * account. Only the token's hash is recorded (the token itself is shown once, at creation). Whoever may
 * share the item (a member of the document's workspace, the note's owner) creates and revokes links;
 * the caller looks that up and passes it in. A revoked or expired link serves nothing.
 */
import type { Decider } from '../shared/decider';
import { DomainError, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export type LinkableType = 'document' | 'note';

export const publicLinkStreamId = (linkId: string) => `public_link-${linkId}`;

export type PublicLinkEvent =
  | DomainEvent<'PublicLinkCreated', { linkId: string; itemType: LinkableType; itemId: string; tokenHash: string; expiresAt: string | null; createdBy: string; createdAt: string }>
  | DomainEvent<'PublicLinkRevoked', { linkId: string; itemType: LinkableType; itemId: string; revokedBy: string; revokedAt: string }>;

export type PublicLink =
  | { readonly status: 'none' }
  | {
      readonly status: 'active' | 'revoked';
      readonly id: string;
      readonly itemType: LinkableType;
      readonly itemId: string;
      readonly expiresAt: string | null;
      readonly createdAt: string;
      readonly createdBy: string;
    };

interface Actor {
  readonly actorId: string;
  readonly at: string;
}

export type PublicLinkCommand =
  | ({
      readonly type: 'CreatePublicLink';
      readonly linkId: string;
      readonly itemType: LinkableType;
      readonly itemId: string;
      readonly tokenHash: string;
      readonly expiresAt: string | null;
      /** The actor may read and share the item (workspace member, note owner), and it is not deleted. */
      readonly actorMayShare: boolean;
    } & Actor)
  | ({ readonly type: 'RevokePublicLink'; readonly itemType: LinkableType; readonly itemId: string; readonly actorMayShare: boolean } & Actor);

const itemNotFound = (itemType: LinkableType) =>
  itemType === 'document' ? notFound('DOCUMENT.NOT_FOUND', 'no such document') : notFound('NOTE.NOT_FOUND', 'no such note');

export const publicLinkDecider: Decider<PublicLinkCommand, PublicLinkEvent, PublicLink> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'CreatePublicLink': {
        if (!command.actorMayShare) throw itemNotFound(command.itemType);
        if (state.status !== 'none') throw new DomainError('conflict', 'LINK.ALREADY_EXISTS', 'a link with this id already exists');
        if (command.expiresAt !== null && command.expiresAt <= command.at) throw new DomainError('unprocessable', 'LINK.EXPIRY_IN_PAST', 'a link must expire in the future');
        const { linkId, itemType, itemId, tokenHash, expiresAt, actorId, at } = command;
        return [{ type: 'PublicLinkCreated', data: { linkId, itemType, itemId, tokenHash, expiresAt, createdBy: actorId, createdAt: at } }];
      }
      case 'RevokePublicLink': {
        if (!command.actorMayShare) throw itemNotFound(command.itemType);
        if (state.status === 'none' || state.itemType !== command.itemType || state.itemId !== command.itemId) throw notFound('LINK.NOT_FOUND', 'no such link');
        if (state.status === 'revoked') return [];
        return [{ type: 'PublicLinkRevoked', data: { linkId: state.id, itemType: state.itemType, itemId: state.itemId, revokedBy: command.actorId, revokedAt: command.at } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'PublicLinkCreated': {
        const { linkId, itemType, itemId, expiresAt, createdAt, createdBy } = event.data;
        return { status: 'active', id: linkId, itemType, itemId, expiresAt, createdAt, createdBy };
      }
      case 'PublicLinkRevoked':
        return state.status === 'none' ? state : { ...state, status: 'revoked' };
      default:
        return unreachable(event);
    }
  },
};
