/**
 * The circle aggregate (Scribes): a small group that notes and prayer points are shared with. It
 * decides who belongs: the creator owns it and alone renames, deletes, invites and removes; a member
 * may leave; the owner may not (delete the circle instead). People join by accepting an invite: a
 * single-use token (only its hash is recorded) that expires, is revocable, and is bound to the
 * invitee's e-mail address unless the owner allows open invites. To anyone who is not a member a
 * circle does not exist, and to anyone but its invitee an invite does not exist either.
 */
import type { Decider } from '../shared/decider';
import { conflict, DomainError, forbidden, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const circleStreamId = (circleId: string) => `circle-${circleId}`;

export type CircleRole = 'owner' | 'member';

export type CircleEvent =
  | DomainEvent<'CircleCreated', { circleId: string; name: string; description: string | null; ownerId: string; createdAt: string }>
  | DomainEvent<'CircleUpdated', { circleId: string; name: string; description: string | null; openInvites: boolean; updatedAt: string }>
  | DomainEvent<'CircleDeleted', { circleId: string; deletedAt: string }>
  | DomainEvent<'CircleMemberAdded', { circleId: string; userId: string; role: CircleRole; inviteId: string | null; addedAt: string }>
  | DomainEvent<'CircleMemberRemoved', { circleId: string; userId: string; removedBy: string; removedAt: string }>
  | DomainEvent<'CircleInviteIssued', { circleId: string; inviteId: string; email: string | null; tokenHash: string; expiresAt: string; issuedBy: string; issuedAt: string }>
  | DomainEvent<'CircleInviteRevoked', { circleId: string; inviteId: string; revokedAt: string }>
  | DomainEvent<'CircleInviteAccepted', { circleId: string; inviteId: string; userId: string; acceptedAt: string }>;

export interface CircleInvite {
  readonly id: string;
  readonly email: string | null;
  readonly tokenHash: string;
  readonly expiresAt: string;
  readonly status: 'pending' | 'accepted' | 'revoked';
  readonly acceptedBy: string | null;
}

export interface ActiveCircle {
  readonly status: 'active';
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  /** Invites any signed-in holder of the token may accept, not only the invited address. */
  readonly openInvites: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly members: Readonly<Record<string, CircleRole>>;
  readonly invites: Readonly<Record<string, CircleInvite>>;
}

export type Circle = { readonly status: 'none' } | ActiveCircle | { readonly status: 'deleted'; readonly id: string };

interface Actor {
  readonly actorId: string;
  readonly at: string;
}

export type CircleCommand =
  | ({ readonly type: 'CreateCircle'; readonly circleId: string; readonly name: string; readonly description: string | null } & Actor)
  | ({ readonly type: 'UpdateCircle'; readonly name?: string; readonly description?: string | null; readonly openInvites?: boolean } & Actor)
  | ({ readonly type: 'DeleteCircle' } & Actor)
  | ({ readonly type: 'IssueInvite'; readonly inviteId: string; readonly email: string | null; readonly tokenHash: string; readonly expiresAt: string } & Actor)
  | ({ readonly type: 'RevokeInvite'; readonly inviteId: string } & Actor)
  /** `actorEmail` is the signed-in user's address, looked up by the caller. */
  | ({ readonly type: 'AcceptInvite'; readonly tokenHash: string; readonly actorEmail: string } & Actor)
  | ({ readonly type: 'RemoveCircleMember'; readonly userId: string } & Actor);

const CIRCLE_NOT_FOUND = () => notFound('CIRCLE.NOT_FOUND', 'no such circle');
const INVITE_NOT_FOUND = () => notFound('INVITE.NOT_FOUND', 'no such invite');

/** The circle as `actorId` may see it: NOT_FOUND unless it exists and they belong to it. */
export function circleVisibleTo(state: Circle, actorId: string): ActiveCircle {
  if (state.status !== 'active' || !Object.hasOwn(state.members, actorId)) throw CIRCLE_NOT_FOUND();
  return state;
}

/** The circle if `actorId` owns it: NOT_FOUND for strangers, OWNER_REQUIRED for plain members. */
export function circleOwnedBy(state: Circle, actorId: string): ActiveCircle {
  const circle = circleVisibleTo(state, actorId);
  if (circle.members[actorId] !== 'owner') throw forbidden('CIRCLE.OWNER_REQUIRED', 'only the owner may do this');
  return circle;
}

export function isCircleMember(state: Circle, userId: string): boolean {
  return state.status === 'active' && Object.hasOwn(state.members, userId);
}

function inviteOf(circle: ActiveCircle, inviteId: string): CircleInvite {
  const invite = Object.hasOwn(circle.invites, inviteId) ? circle.invites[inviteId] : undefined;
  if (!invite) throw INVITE_NOT_FOUND();
  return invite;
}

function ownerCount(circle: ActiveCircle): number {
  return Object.values(circle.members).filter((role) => role === 'owner').length;
}

export const circleDecider: Decider<CircleCommand, CircleEvent, Circle> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateCircle': {
        if (state.status !== 'none') throw conflict('CIRCLE.ALREADY_EXISTS', 'the circle already exists');
        const { circleId, name, description, actorId, at } = command;
        return [
          { type: 'CircleCreated', data: { circleId, name, description, ownerId: actorId, createdAt: at } },
          { type: 'CircleMemberAdded', data: { circleId, userId: actorId, role: 'owner', inviteId: null, addedAt: at } },
        ];
      }
      case 'UpdateCircle': {
        const circle = circleOwnedBy(state, command.actorId);
        const name = command.name ?? circle.name;
        const description = command.description === undefined ? circle.description : command.description;
        const openInvites = command.openInvites ?? circle.openInvites;
        if (name === circle.name && description === circle.description && openInvites === circle.openInvites) return [];
        return [{ type: 'CircleUpdated', data: { circleId: circle.id, name, description, openInvites, updatedAt: command.at } }];
      }
      case 'DeleteCircle': {
        const circle = circleOwnedBy(state, command.actorId);
        return [{ type: 'CircleDeleted', data: { circleId: circle.id, deletedAt: command.at } }];
      }
      case 'IssueInvite': {
        const circle = circleOwnedBy(state, command.actorId);
        if (Object.hasOwn(circle.invites, command.inviteId)) throw conflict('INVITE.ALREADY_EXISTS', 'an invite with this id already exists');
        if (command.email === null && !circle.openInvites) {
          throw new DomainError('unprocessable', 'INVITE.EMAIL_REQUIRED', 'name the invitee, or allow open invites on the circle first');
        }
        if (command.expiresAt <= command.at) throw new DomainError('unprocessable', 'INVITE.EXPIRY_IN_PAST', 'an invite must expire in the future');
        const { inviteId, email, tokenHash, expiresAt, actorId, at } = command;
        return [{ type: 'CircleInviteIssued', data: { circleId: circle.id, inviteId, email, tokenHash, expiresAt, issuedBy: actorId, issuedAt: at } }];
      }
      case 'RevokeInvite': {
        const circle = circleOwnedBy(state, command.actorId);
        const invite = inviteOf(circle, command.inviteId);
        if (invite.status === 'revoked') return [];
        if (invite.status === 'accepted') throw conflict('INVITE.ALREADY_USED', 'the invite has been accepted already');
        return [{ type: 'CircleInviteRevoked', data: { circleId: circle.id, inviteId: invite.id, revokedAt: command.at } }];
      }
      case 'AcceptInvite': {
        if (state.status !== 'active') throw INVITE_NOT_FOUND();
        const invite = Object.values(state.invites).find((candidate) => candidate.tokenHash === command.tokenHash);
        // Whoever the invite is not for learns nothing about it, not even that it was used.
        if (!invite || invite.status === 'revoked') throw INVITE_NOT_FOUND();
        const open = state.openInvites || invite.email === null;
        if (!open && invite.email !== command.actorEmail.toLowerCase()) throw INVITE_NOT_FOUND();
        if (invite.status === 'accepted') {
          if (invite.acceptedBy === command.actorId && Object.hasOwn(state.members, command.actorId)) return [];
          throw conflict('INVITE.ALREADY_USED', 'the invite has been used already');
        }
        if (command.at >= invite.expiresAt) throw notFound('INVITE.EXPIRED', 'the invite has expired; ask for a new one');
        if (Object.hasOwn(state.members, command.actorId)) throw conflict('CIRCLE.ALREADY_MEMBER', 'you already belong to this circle');
        return [
          { type: 'CircleInviteAccepted', data: { circleId: state.id, inviteId: invite.id, userId: command.actorId, acceptedAt: command.at } },
          { type: 'CircleMemberAdded', data: { circleId: state.id, userId: command.actorId, role: 'member', inviteId: invite.id, addedAt: command.at } },
        ];
      }
      case 'RemoveCircleMember': {
        const leaving = command.userId === command.actorId;
        const circle = leaving ? circleVisibleTo(state, command.actorId) : circleOwnedBy(state, command.actorId);
        const role = Object.hasOwn(circle.members, command.userId) ? circle.members[command.userId] : undefined;
        if (!role) throw notFound('CIRCLE.MEMBER_NOT_FOUND', 'no such member');
        if (role === 'owner' && ownerCount(circle) === 1) throw conflict('CIRCLE.LAST_OWNER', 'the owner cannot leave; delete the circle instead');
        return [{ type: 'CircleMemberRemoved', data: { circleId: circle.id, userId: command.userId, removedBy: command.actorId, removedAt: command.at } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'CircleCreated':
        return {
          status: 'active',
          id: event.data.circleId,
          name: event.data.name,
          description: event.data.description,
          openInvites: false,
          createdAt: event.data.createdAt,
          updatedAt: event.data.createdAt,
          members: {},
          invites: {},
        };
      case 'CircleUpdated':
        return state.status === 'active'
          ? { ...state, name: event.data.name, description: event.data.description, openInvites: event.data.openInvites, updatedAt: event.data.updatedAt }
          : state;
      case 'CircleDeleted':
        return { status: 'deleted', id: event.data.circleId };
      case 'CircleMemberAdded':
        return state.status === 'active' ? { ...state, members: { ...state.members, [event.data.userId]: event.data.role } } : state;
      case 'CircleMemberRemoved': {
        if (state.status !== 'active') return state;
        const { [event.data.userId]: _removed, ...members } = state.members;
        return { ...state, members };
      }
      case 'CircleInviteIssued': {
        if (state.status !== 'active') return state;
        const { inviteId, email, tokenHash, expiresAt } = event.data;
        return { ...state, invites: { ...state.invites, [inviteId]: { id: inviteId, email, tokenHash, expiresAt, status: 'pending', acceptedBy: null } } };
      }
      case 'CircleInviteRevoked':
        return withInvite(state, event.data.inviteId, (invite) => ({ ...invite, status: 'revoked' }));
      case 'CircleInviteAccepted':
        return withInvite(state, event.data.inviteId, (invite) => ({ ...invite, status: 'accepted', acceptedBy: event.data.userId }));
      default:
        return unreachable(event);
    }
  },
};

function withInvite(state: Circle, inviteId: string, change: (invite: CircleInvite) => CircleInvite): Circle {
  if (state.status !== 'active' || !Object.hasOwn(state.invites, inviteId)) return state;
  return { ...state, invites: { ...state.invites, [inviteId]: change(state.invites[inviteId]!) } };
}
