import { given } from '../../test/support/decider-spec';
import { circleDecider, type CircleEvent } from './circle';

const at = '2026-11-22T10:00:00.000Z';
const later = '2026-11-30T10:00:00.000Z';
const expiresAt = '2026-11-29T10:00:00.000Z';
const c = 'c-1';
const created: CircleEvent[] = [
  { type: 'CircleCreated', data: { circleId: c, name: 'Tuesday group', description: null, ownerId: 'ann', createdAt: at } },
  { type: 'CircleMemberAdded', data: { circleId: c, userId: 'ann', role: 'owner', inviteId: null, addedAt: at } },
];
const invited: CircleEvent[] = [
  ...created,
  { type: 'CircleInviteIssued', data: { circleId: c, inviteId: 'i-1', email: 'bob@example.com', tokenHash: 'hash-1', expiresAt, issuedBy: 'ann', issuedAt: at } },
];
const withBob: CircleEvent[] = [
  ...invited,
  { type: 'CircleInviteAccepted', data: { circleId: c, inviteId: 'i-1', userId: 'bob', acceptedAt: at } },
  { type: 'CircleMemberAdded', data: { circleId: c, userId: 'bob', role: 'member', inviteId: 'i-1', addedAt: at } },
];
const accept = (actorId: string, actorEmail: string, tokenHash = 'hash-1', when = at) => ({ type: 'AcceptInvite', tokenHash, actorEmail, actorId, at: when }) as const;

describe('circle', () => {
  it('creating one makes its creator the owner; creating it again is a conflict', () => {
    given(circleDecider).when({ type: 'CreateCircle', circleId: c, name: 'Tuesday group', description: null, actorId: 'ann', at }).then(created);
    given(circleDecider, ...created).when({ type: 'CreateCircle', circleId: c, name: 'x', description: null, actorId: 'ann', at }).thenFails('CIRCLE.ALREADY_EXISTS');
  });

  it('the owner updates it; an unchanged update records nothing', () => {
    given(circleDecider, ...created)
      .when({ type: 'UpdateCircle', description: 'Romans', openInvites: true, actorId: 'ann', at })
      .then([{ type: 'CircleUpdated', data: { circleId: c, name: 'Tuesday group', description: 'Romans', openInvites: true, updatedAt: at } }]);
    given(circleDecider, ...created).when({ type: 'UpdateCircle', name: 'Tuesday group', actorId: 'ann', at }).thenNothing();
  });

  it('a member may not update, delete, invite, revoke or remove others', () => {
    given(circleDecider, ...withBob).when({ type: 'UpdateCircle', name: 'Mine', actorId: 'bob', at }).thenFails('CIRCLE.OWNER_REQUIRED');
    given(circleDecider, ...withBob).when({ type: 'DeleteCircle', actorId: 'bob', at }).thenFails('CIRCLE.OWNER_REQUIRED');
    given(circleDecider, ...withBob).when({ type: 'IssueInvite', inviteId: 'i-2', email: 'x@example.com', tokenHash: 'h', expiresAt, actorId: 'bob', at }).thenFails('CIRCLE.OWNER_REQUIRED');
    given(circleDecider, ...withBob).when({ type: 'RevokeInvite', inviteId: 'i-1', actorId: 'bob', at }).thenFails('CIRCLE.OWNER_REQUIRED');
    given(circleDecider, ...withBob).when({ type: 'RemoveCircleMember', userId: 'ann', actorId: 'bob', at }).thenFails('CIRCLE.OWNER_REQUIRED');
  });

  it('to a stranger it does not exist, whatever they try', () => {
    for (const command of [
      { type: 'UpdateCircle', name: 'x', actorId: 'eve', at },
      { type: 'DeleteCircle', actorId: 'eve', at },
      { type: 'IssueInvite', inviteId: 'i-9', email: 'eve@example.com', tokenHash: 'h', expiresAt, actorId: 'eve', at },
      { type: 'RevokeInvite', inviteId: 'i-1', actorId: 'eve', at },
      { type: 'RemoveCircleMember', userId: 'eve', actorId: 'eve', at },
    ] as const) {
      given(circleDecider, ...withBob).when(command).thenFails('CIRCLE.NOT_FOUND');
    }
  });

  it('an invite names an address unless the circle allows open invites, and expires in the future', () => {
    given(circleDecider, ...created).when({ type: 'IssueInvite', inviteId: 'i-2', email: null, tokenHash: 'h', expiresAt, actorId: 'ann', at }).thenFails('INVITE.EMAIL_REQUIRED');
    given(circleDecider, ...created).when({ type: 'IssueInvite', inviteId: 'i-2', email: 'x@example.com', tokenHash: 'h', expiresAt: at, actorId: 'ann', at }).thenFails('INVITE.EXPIRY_IN_PAST');
    given(circleDecider, ...invited).when({ type: 'IssueInvite', inviteId: 'i-1', email: 'x@example.com', tokenHash: 'h', expiresAt, actorId: 'ann', at }).thenFails('INVITE.ALREADY_EXISTS');
  });

  it('the invitee accepts once and becomes a member', () => {
    given(circleDecider, ...invited).when(accept('bob', 'BOB@example.com')).then(withBob.slice(invited.length));
    // The same person again: nothing more happens. Anyone else: it is used.
    given(circleDecider, ...withBob).when(accept('bob', 'bob@example.com')).thenNothing();
    given(circleDecider, ...withBob, { type: 'CircleUpdated', data: { circleId: c, name: 'x', description: null, openInvites: true, updatedAt: at } })
      .when(accept('cat', 'cat@example.com'))
      .thenFails('INVITE.ALREADY_USED');
  });

  it('another address, an unknown token, a revoked or expired invite, or a deleted circle: refused', () => {
    given(circleDecider, ...invited).when(accept('eve', 'eve@example.com')).thenFails('INVITE.NOT_FOUND');
    given(circleDecider, ...invited).when(accept('bob', 'bob@example.com', 'other-hash')).thenFails('INVITE.NOT_FOUND');
    given(circleDecider, ...invited, { type: 'CircleInviteRevoked', data: { circleId: c, inviteId: 'i-1', revokedAt: at } }).when(accept('bob', 'bob@example.com')).thenFails('INVITE.NOT_FOUND');
    given(circleDecider, ...invited).when(accept('bob', 'bob@example.com', 'hash-1', later)).thenFails('INVITE.EXPIRED');
    given(circleDecider, ...invited, { type: 'CircleDeleted', data: { circleId: c, deletedAt: at } }).when(accept('bob', 'bob@example.com')).thenFails('INVITE.NOT_FOUND');
  });

  it('with open invites anyone signed in may accept', () => {
    const open: CircleEvent = { type: 'CircleUpdated', data: { circleId: c, name: 'Tuesday group', description: null, openInvites: true, updatedAt: at } };
    given(circleDecider, ...invited, open)
      .when(accept('cat', 'cat@example.com'))
      .then([
        { type: 'CircleInviteAccepted', data: { circleId: c, inviteId: 'i-1', userId: 'cat', acceptedAt: at } },
        { type: 'CircleMemberAdded', data: { circleId: c, userId: 'cat', role: 'member', inviteId: 'i-1', addedAt: at } },
      ]);
  });

  it('a member already in the circle does not use up an invite', () => {
    const second: CircleEvent = { type: 'CircleInviteIssued', data: { circleId: c, inviteId: 'i-2', email: 'bob@example.com', tokenHash: 'hash-2', expiresAt, issuedBy: 'ann', issuedAt: at } };
    given(circleDecider, ...withBob, second).when(accept('bob', 'bob@example.com', 'hash-2')).thenFails('CIRCLE.ALREADY_MEMBER');
  });

  it('revoking: pending ones only; a used one is a conflict; revoking twice records nothing', () => {
    given(circleDecider, ...invited).when({ type: 'RevokeInvite', inviteId: 'i-1', actorId: 'ann', at }).then([{ type: 'CircleInviteRevoked', data: { circleId: c, inviteId: 'i-1', revokedAt: at } }]);
    given(circleDecider, ...withBob).when({ type: 'RevokeInvite', inviteId: 'i-1', actorId: 'ann', at }).thenFails('INVITE.ALREADY_USED');
    given(circleDecider, ...invited, { type: 'CircleInviteRevoked', data: { circleId: c, inviteId: 'i-1', revokedAt: at } }).when({ type: 'RevokeInvite', inviteId: 'i-1', actorId: 'ann', at }).thenNothing();
    given(circleDecider, ...invited).when({ type: 'RevokeInvite', inviteId: 'nope', actorId: 'ann', at }).thenFails('INVITE.NOT_FOUND');
  });

  it('a member leaves, the owner removes a member, the owner cannot leave', () => {
    const removed = (by: string): CircleEvent[] => [{ type: 'CircleMemberRemoved', data: { circleId: c, userId: 'bob', removedBy: by, removedAt: at } }];
    given(circleDecider, ...withBob).when({ type: 'RemoveCircleMember', userId: 'bob', actorId: 'bob', at }).then(removed('bob'));
    given(circleDecider, ...withBob).when({ type: 'RemoveCircleMember', userId: 'bob', actorId: 'ann', at }).then(removed('ann'));
    given(circleDecider, ...withBob).when({ type: 'RemoveCircleMember', userId: 'ann', actorId: 'ann', at }).thenFails('CIRCLE.LAST_OWNER');
    given(circleDecider, ...withBob, ...removed('ann')).when({ type: 'RemoveCircleMember', userId: 'bob', actorId: 'bob', at }).thenFails('CIRCLE.NOT_FOUND');
    given(circleDecider, ...created).when({ type: 'RemoveCircleMember', userId: 'bob', actorId: 'ann', at }).thenFails('CIRCLE.MEMBER_NOT_FOUND');
  });
});
