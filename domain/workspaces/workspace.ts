/**
 * The workspace aggregate: a named space with owners and members. It decides who may do what: members
 * read and write the workspace's content; only owners rename or delete it and manage members; a member
 * may leave; the last owner may neither leave nor be demoted. To anyone who is not a member, a
 * workspace does not exist (the same NOT_FOUND as for a missing one), so nothing leaks.
 */
import type { Decider } from '../shared/decider';
import { conflict, forbidden, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const workspaceStreamId = (workspaceId: string) => `workspace-${workspaceId}`;

export type WorkspaceRole = 'owner' | 'member';

export type WorkspaceEvent =
  | DomainEvent<'WorkspaceCreated', { workspaceId: string; name: string; ownerId: string; createdAt: string }>
  | DomainEvent<'WorkspaceRenamed', { workspaceId: string; name: string; renamedAt: string }>
  | DomainEvent<'WorkspaceDeleted', { workspaceId: string; deletedAt: string }>
  | DomainEvent<'MemberAdded', { workspaceId: string; userId: string; role: WorkspaceRole; addedAt: string }>
  | DomainEvent<'MemberRoleChanged', { workspaceId: string; userId: string; role: WorkspaceRole; changedAt: string }>
  | DomainEvent<'MemberRemoved', { workspaceId: string; userId: string; removedAt: string }>;

export interface ActiveWorkspace {
  readonly status: 'active';
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly members: Readonly<Record<string, WorkspaceRole>>;
}

export type Workspace = { readonly status: 'none' } | ActiveWorkspace | { readonly status: 'deleted'; readonly id: string };

export type WorkspaceCommand =
  | { readonly type: 'CreateWorkspace'; readonly workspaceId: string; readonly name: string; readonly actorId: string; readonly at: string }
  | { readonly type: 'RenameWorkspace'; readonly name: string; readonly actorId: string; readonly at: string }
  | { readonly type: 'DeleteWorkspace'; readonly actorId: string; readonly at: string }
  | { readonly type: 'AddMember'; readonly userId: string; readonly role: WorkspaceRole; readonly actorId: string; readonly at: string }
  | { readonly type: 'ChangeMemberRole'; readonly userId: string; readonly role: WorkspaceRole; readonly actorId: string; readonly at: string }
  | { readonly type: 'RemoveMember'; readonly userId: string; readonly actorId: string; readonly at: string };

const WORKSPACE_NOT_FOUND = () => notFound('WORKSPACE.NOT_FOUND', 'no such workspace');

/** The workspace as `actorId` may see it: throws NOT_FOUND unless it exists and they are a member. */
export function visibleTo(state: Workspace, actorId: string): ActiveWorkspace {
  if (state.status !== 'active' || !Object.hasOwn(state.members, actorId)) throw WORKSPACE_NOT_FOUND();
  return state;
}

/** The workspace if `actorId` owns it: NOT_FOUND for strangers, OWNER_REQUIRED for plain members. */
export function ownedBy(state: Workspace, actorId: string): ActiveWorkspace {
  const workspace = visibleTo(state, actorId);
  if (workspace.members[actorId] !== 'owner') throw forbidden('WORKSPACE.OWNER_REQUIRED', 'only an owner may do this');
  return workspace;
}

function ownerCount(workspace: ActiveWorkspace): number {
  return Object.values(workspace.members).filter((role) => role === 'owner').length;
}

function memberOf(workspace: ActiveWorkspace, userId: string): WorkspaceRole {
  const role = Object.hasOwn(workspace.members, userId) ? workspace.members[userId] : undefined;
  if (!role) throw notFound('WORKSPACE.MEMBER_NOT_FOUND', 'no such member');
  return role;
}

export const workspaceDecider: Decider<WorkspaceCommand, WorkspaceEvent, Workspace> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateWorkspace': {
        if (state.status !== 'none') throw conflict('WORKSPACE.ALREADY_EXISTS', 'the workspace already exists');
        const { workspaceId, name, actorId, at } = command;
        return [
          { type: 'WorkspaceCreated', data: { workspaceId, name, ownerId: actorId, createdAt: at } },
          { type: 'MemberAdded', data: { workspaceId, userId: actorId, role: 'owner', addedAt: at } },
        ];
      }
      case 'RenameWorkspace': {
        const workspace = ownedBy(state, command.actorId);
        if (workspace.name === command.name) return [];
        return [{ type: 'WorkspaceRenamed', data: { workspaceId: workspace.id, name: command.name, renamedAt: command.at } }];
      }
      case 'DeleteWorkspace': {
        const workspace = ownedBy(state, command.actorId);
        return [{ type: 'WorkspaceDeleted', data: { workspaceId: workspace.id, deletedAt: command.at } }];
      }
      case 'AddMember': {
        const workspace = ownedBy(state, command.actorId);
        if (Object.hasOwn(workspace.members, command.userId)) throw conflict('WORKSPACE.ALREADY_MEMBER', 'the user is already a member');
        return [{ type: 'MemberAdded', data: { workspaceId: workspace.id, userId: command.userId, role: command.role, addedAt: command.at } }];
      }
      case 'ChangeMemberRole': {
        const workspace = ownedBy(state, command.actorId);
        const current = memberOf(workspace, command.userId);
        if (current === command.role) return [];
        if (current === 'owner' && ownerCount(workspace) === 1) throw conflict('WORKSPACE.LAST_OWNER', 'the last owner cannot be demoted');
        return [{ type: 'MemberRoleChanged', data: { workspaceId: workspace.id, userId: command.userId, role: command.role, changedAt: command.at } }];
      }
      case 'RemoveMember': {
        const leaving = command.userId === command.actorId;
        const workspace = leaving ? visibleTo(state, command.actorId) : ownedBy(state, command.actorId);
        const role = memberOf(workspace, command.userId);
        if (role === 'owner' && ownerCount(workspace) === 1) throw conflict('WORKSPACE.LAST_OWNER', 'the last owner cannot leave');
        return [{ type: 'MemberRemoved', data: { workspaceId: workspace.id, userId: command.userId, removedAt: command.at } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'WorkspaceCreated':
        return { status: 'active', id: event.data.workspaceId, name: event.data.name, createdAt: event.data.createdAt, updatedAt: event.data.createdAt, members: {} };
      case 'WorkspaceRenamed':
        return state.status === 'active' ? { ...state, name: event.data.name, updatedAt: event.data.renamedAt } : state;
      case 'WorkspaceDeleted':
        return { status: 'deleted', id: event.data.workspaceId };
      case 'MemberAdded':
        return state.status === 'active' ? { ...state, members: { ...state.members, [event.data.userId]: event.data.role } } : state;
      case 'MemberRoleChanged':
        return state.status === 'active' ? { ...state, members: { ...state.members, [event.data.userId]: event.data.role } } : state;
      case 'MemberRemoved': {
        if (state.status !== 'active') return state;
        const { [event.data.userId]: _removed, ...members } = state.members;
        return { ...state, members };
      }
      default:
        return unreachable(event);
    }
  },
};
