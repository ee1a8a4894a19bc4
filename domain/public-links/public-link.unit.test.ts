import { given } from '../../test/support/decider-spec';
import { publicLinkDecider, type PublicLinkEvent } from './public-link';

const at = '2026-11-22T10:00:00.000Z';
const create = { type: 'CreatePublicLink', linkId: 'l-1', itemType: 'document', itemId: 'd-1', tokenHash: 'h', expiresAt: null, actorMayShare: true, actorId: 'ann', at } as const;
const created: PublicLinkEvent = { type: 'PublicLinkCreated', data: { linkId: 'l-1', itemType: 'document', itemId: 'd-1', tokenHash: 'h', expiresAt: null, createdBy: 'ann', createdAt: at } };
const revoke = { type: 'RevokePublicLink', itemType: 'document', itemId: 'd-1', actorMayShare: true, actorId: 'ann', at } as const;

describe('public link', () => {
  it('someone who may share the item creates one, expiring in the future or never', () => {
    given(publicLinkDecider).when(create).then([created]);
    given(publicLinkDecider).when({ ...create, expiresAt: at }).thenFails('LINK.EXPIRY_IN_PAST');
    given(publicLinkDecider).when({ ...create, actorMayShare: false }).thenFails('DOCUMENT.NOT_FOUND');
    given(publicLinkDecider).when({ ...create, itemType: 'note', actorMayShare: false }).thenFails('NOTE.NOT_FOUND');
    given(publicLinkDecider, created).when(create).thenFails('LINK.ALREADY_EXISTS');
  });

  it('revoking: once, through its own item, by someone who may share it', () => {
    given(publicLinkDecider, created).when(revoke).then([{ type: 'PublicLinkRevoked', data: { linkId: 'l-1', itemType: 'document', itemId: 'd-1', revokedBy: 'ann', revokedAt: at } }]);
    given(publicLinkDecider, created, { type: 'PublicLinkRevoked', data: { linkId: 'l-1', itemType: 'document', itemId: 'd-1', revokedBy: 'ann', revokedAt: at } }).when(revoke).thenNothing();
    given(publicLinkDecider, created).when({ ...revoke, itemId: 'd-2' }).thenFails('LINK.NOT_FOUND');
    given(publicLinkDecider).when(revoke).thenFails('LINK.NOT_FOUND');
    given(publicLinkDecider, created).when({ ...revoke, actorMayShare: false }).thenFails('DOCUMENT.NOT_FOUND');
  });
});
