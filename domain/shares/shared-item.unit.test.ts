import { given } from '../../test/support/decider-spec';
import { sharedItemDecider, type SharedItemEvent } from './shared-item';

const at = '2026-11-22T10:00:00.000Z';
const share = (overrides: Partial<{ ownerId: string | null; actorInCircle: boolean; actorId: string; itemType: 'note' | 'prayerPoint' }> = {}) =>
  ({ type: 'ShareWithCircle', itemType: 'note', itemId: 'n-1', circleId: 'c-1', ownerId: 'ann', actorInCircle: true, actorId: 'ann', at, ...overrides }) as const;
const shared: SharedItemEvent = { type: 'ItemSharedWithCircle', data: { itemType: 'note', itemId: 'n-1', circleId: 'c-1', ownerId: 'ann', sharedAt: at } };

describe('shared item', () => {
  it('the owner shares with a circle they belong to, once', () => {
    given(sharedItemDecider).when(share()).then([shared]);
    given(sharedItemDecider, shared).when(share()).thenNothing();
  });

  it('someone else, a missing item or a circle the owner is not in: refused', () => {
    given(sharedItemDecider).when(share({ actorId: 'eve' })).thenFails('NOTE.NOT_FOUND');
    given(sharedItemDecider).when(share({ ownerId: null })).thenFails('NOTE.NOT_FOUND');
    given(sharedItemDecider).when(share({ itemType: 'prayerPoint', actorId: 'eve' })).thenFails('PRAYER_POINT.NOT_FOUND');
    given(sharedItemDecider).when(share({ actorInCircle: false })).thenFails('CIRCLE.NOT_FOUND');
  });

  it('the owner unshares what is shared; nothing else', () => {
    const unshare = { type: 'UnshareFromCircle', itemType: 'note', itemId: 'n-1', circleId: 'c-1', ownerId: 'ann', actorId: 'ann', at } as const;
    given(sharedItemDecider, shared)
      .when(unshare)
      .then([{ type: 'ItemUnsharedFromCircle', data: { itemType: 'note', itemId: 'n-1', circleId: 'c-1', unsharedBy: 'ann', unsharedAt: at } }]);
    given(sharedItemDecider).when(unshare).thenFails('SHARE.NOT_FOUND');
    given(sharedItemDecider, shared).when({ ...unshare, actorId: 'eve' }).thenFails('NOTE.NOT_FOUND');
  });

  it('praying is recorded for those who may, each time; others find nothing', () => {
    const pray = { type: 'PrayFor', prayerPointId: 'p-1', actorMayPray: true, actorId: 'bob', at } as const;
    given(sharedItemDecider).when(pray).then([{ type: 'PrayerPointPrayedFor', data: { prayerPointId: 'p-1', userId: 'bob', prayedAt: at } }]);
    given(sharedItemDecider).when({ ...pray, actorMayPray: false }).thenFails('PRAYER_POINT.NOT_FOUND');
  });
});
