import { given } from '../../test/support/decider-spec';
import { workspaceDecider, type WorkspaceEvent } from './workspace';

const at = '2026-11-22T10:00:00.000Z';
const ws = 'w-1';
const created: WorkspaceEvent[] = [
  { type: 'WorkspaceCreated', data: { workspaceId: ws, name: 'Notes', ownerId: 'ann', createdAt: at } },
  { type: 'MemberAdded', data: { workspaceId: ws, userId: 'ann', role: 'owner', addedAt: at } },
];
const withBob: WorkspaceEvent[] = [...created, { type: 'MemberAdded', data: { workspaceId: ws, userId: 'bob', role: 'member', addedAt: at } }];

describe('workspace', () => {
  it('creating one makes its creator the owner', () => {
    given(workspaceDecider).when({ type: 'CreateWorkspace', workspaceId: ws, name: 'Notes', actorId: 'ann', at }).then(created);
  });

  it('creating an existing one is a conflict', () => {
    given(workspaceDecider, ...created).when({ type: 'CreateWorkspace', workspaceId: ws, name: 'Again', actorId: 'ann', at }).thenFails('WORKSPACE.ALREADY_EXISTS');
  });

  it('an owner renames it; renaming to the same name records nothing', () => {
    given(workspaceDecider, ...created)
      .when({ type: 'RenameWorkspace', name: 'Study', actorId: 'ann', at })
      .then([{ type: 'WorkspaceRenamed', data: { workspaceId: ws, name: 'Study', renamedAt: at } }]);
    given(workspaceDecider, ...created).when({ type: 'RenameWorkspace', name: 'Notes', actorId: 'ann', at }).thenNothing();
  });

  it('a member may not rename, delete or manage members', () => {
    given(workspaceDecider, ...withBob).when({ type: 'RenameWorkspace', name: 'Mine', actorId: 'bob', at }).thenFails('WORKSPACE.OWNER_REQUIRED');
    given(workspaceDecider, ...withBob).when({ type: 'DeleteWorkspace', actorId: 'bob', at }).thenFails('WORKSPACE.OWNER_REQUIRED');
    given(workspaceDecider, ...withBob).when({ type: 'AddMember', userId: 'eve', role: 'member', actorId: 'bob', at }).thenFails('WORKSPACE.OWNER_REQUIRED');
    given(workspaceDecider, ...withBob).when({ type: 'RemoveMember', userId: 'ann', actorId: 'bob', at }).thenFails('WORKSPACE.OWNER_REQUIRED');
  });

  it('to a non-member it does not exist, whatever they try', () => {
    for (const command of [
      { type: 'RenameWorkspace', name: 'x', actorId: 'eve', at },
      { type: 'DeleteWorkspace', actorId: 'eve', at },
      { type: 'AddMember', userId: 'eve', role: 'owner', actorId: 'eve', at },
      { type: 'RemoveMember', userId: 'eve', actorId: 'eve', at },
      { type: 'ChangeMemberRole', userId: 'bob', role: 'owner', actorId: 'eve', at },
    ] as const) {
      given(workspaceDecider, ...withBob).when(command).thenFails('WORKSPACE.NOT_FOUND');
    }
    given(workspaceDecider).when({ type: 'DeleteWorkspace', actorId: 'eve', at }).thenFails('WORKSPACE.NOT_FOUND');
  });

  it('a deleted workspace does not exist for anyone', () => {
    given(workspaceDecider, ...created, { type: 'WorkspaceDeleted', data: { workspaceId: ws, deletedAt: at } })
      .when({ type: 'RenameWorkspace', name: 'x', actorId: 'ann', at })
      .thenFails('WORKSPACE.NOT_FOUND');
  });

  it('an owner adds a member once', () => {
    given(workspaceDecider, ...created)
      .when({ type: 'AddMember', userId: 'bob', role: 'member', actorId: 'ann', at })
      .then([{ type: 'MemberAdded', data: { workspaceId: ws, userId: 'bob', role: 'member', addedAt: at } }]);
    given(workspaceDecider, ...withBob).when({ type: 'AddMember', userId: 'bob', role: 'owner', actorId: 'ann', at }).thenFails('WORKSPACE.ALREADY_MEMBER');
  });

  it('a member may leave; the last owner may neither leave nor be demoted', () => {
    given(workspaceDecider, ...withBob)
      .when({ type: 'RemoveMember', userId: 'bob', actorId: 'bob', at })
      .then([{ type: 'MemberRemoved', data: { workspaceId: ws, userId: 'bob', removedAt: at } }]);
    given(workspaceDecider, ...withBob).when({ type: 'RemoveMember', userId: 'ann', actorId: 'ann', at }).thenFails('WORKSPACE.LAST_OWNER');
    given(workspaceDecider, ...withBob).when({ type: 'ChangeMemberRole', userId: 'ann', role: 'member', actorId: 'ann', at }).thenFails('WORKSPACE.LAST_OWNER');
  });

  it('with a second owner, the first may step down or leave', () => {
    const twoOwners: WorkspaceEvent[] = [...withBob, { type: 'MemberRoleChanged', data: { workspaceId: ws, userId: 'bob', role: 'owner', changedAt: at } }];
    given(workspaceDecider, ...twoOwners)
      .when({ type: 'RemoveMember', userId: 'ann', actorId: 'ann', at })
      .then([{ type: 'MemberRemoved', data: { workspaceId: ws, userId: 'ann', removedAt: at } }]);
    given(workspaceDecider, ...twoOwners)
      .when({ type: 'ChangeMemberRole', userId: 'ann', role: 'member', actorId: 'bob', at })
      .then([{ type: 'MemberRoleChanged', data: { workspaceId: ws, userId: 'ann', role: 'member', changedAt: at } }]);
  });

  it('a removed member is a stranger again', () => {
    given(workspaceDecider, ...withBob, { type: 'MemberRemoved', data: { workspaceId: ws, userId: 'bob', removedAt: at } })
      .when({ type: 'RemoveMember', userId: 'bob', actorId: 'bob', at })
      .thenFails('WORKSPACE.NOT_FOUND');
  });

  it('prototype keys are not members', () => {
    given(workspaceDecider, ...created).when({ type: 'RenameWorkspace', name: 'x', actorId: 'constructor', at }).thenFails('WORKSPACE.NOT_FOUND');
    given(workspaceDecider, ...created).when({ type: 'RenameWorkspace', name: 'x', actorId: '__proto__', at }).thenFails('WORKSPACE.NOT_FOUND');
  });
});
