import { given } from '../../test/support/decider-spec';
import type { OsisRange } from '../scripture/verse-index';
import { isSameCreate, prayerPointDecider, type PrayerPointEvent } from './prayer-point';

const at = '2026-11-22T10:00:00.000Z';
const later = '2026-11-23T09:00:00.000Z';
const id = 'p-1';
const osis = (...passages: string[]) => passages as OsisRange[];

const created: PrayerPointEvent = {
  type: 'PrayerPointCreated',
  data: { prayerPointId: id, ownerId: 'ann', title: 'Healing for Joe', details: 'surgery on Friday', noteIds: ['n-1'], passages: ['Jas.5.14-Jas.5.16'], createdAt: at },
};
const answered: PrayerPointEvent = { type: 'PrayerPointAnswered', data: { prayerPointId: id, answeredAt: later, testimony: 'home again', recordedAt: later, recordedBy: 'ann' } };
const deleted: PrayerPointEvent = { type: 'PrayerPointDeleted', data: { prayerPointId: id, deletedAt: later, deletedBy: 'ann' } };

const write = { title: 'Healing for Joe', details: 'surgery on Friday', noteIds: ['n-1'], passages: osis('Jas.5.14-Jas.5.16'), linkableNoteIds: ['n-1'] };

describe('prayer point', () => {
  it('is created by its owner with notes linked and passages in canon order, each once', () => {
    given(prayerPointDecider)
      .when({ type: 'CreatePrayerPoint', prayerPointId: id, ...write, passages: osis('Rom.8.28', 'Gen.50.20', 'Rom.8.28'), actorId: 'ann', at })
      .then([{ type: 'PrayerPointCreated', data: { ...created.data, passages: ['Gen.50.20', 'Rom.8.28'] } }]);
  });

  it('refuses a note the caller did not find to be the actor’s own live note', () => {
    given(prayerPointDecider)
      .when({ type: 'CreatePrayerPoint', prayerPointId: id, ...write, noteIds: ['n-1', 'n-bob'], actorId: 'ann', at })
      .thenFails('PRAYER_POINT.UNKNOWN_NOTE');
  });

  it('an existing id is a conflict; the same create again is recognised as such', () => {
    given(prayerPointDecider, created).when({ type: 'CreatePrayerPoint', prayerPointId: id, ...write, actorId: 'ann', at }).thenFails('PRAYER_POINT.ALREADY_EXISTS');
    const command = { type: 'CreatePrayerPoint', prayerPointId: id, ...write, actorId: 'ann', at } as const;
    expect(isSameCreate(created, command)).toBe(true);
    expect(isSameCreate(created, { ...command, title: 'Other' })).toBe(false);
    expect(isSameCreate(created, { ...command, actorId: 'eve' })).toBe(false);
  });

  it('an edit keeps already linked notes without asking again, but a newly linked one must be linkable', () => {
    given(prayerPointDecider, created)
      .when({ type: 'EditPrayerPoint', ...write, title: 'Healing for Joe and Sue', linkableNoteIds: [], actorId: 'ann', at: later })
      .then([{ type: 'PrayerPointEdited', data: { prayerPointId: id, title: 'Healing for Joe and Sue', details: 'surgery on Friday', noteIds: ['n-1'], passages: ['Jas.5.14-Jas.5.16'], editedAt: later, editedBy: 'ann' } }]);
    given(prayerPointDecider, created)
      .when({ type: 'EditPrayerPoint', ...write, noteIds: ['n-1', 'n-2'], linkableNoteIds: [], actorId: 'ann', at: later })
      .thenFails('PRAYER_POINT.UNKNOWN_NOTE');
    given(prayerPointDecider, created).when({ type: 'EditPrayerPoint', ...write, actorId: 'ann', at: later }).thenNothing();
  });

  it('is answered with a date and testimony; answering again the same way records nothing; an amendment is recorded', () => {
    given(prayerPointDecider, created)
      .when({ type: 'AnswerPrayerPoint', answeredAt: later, testimony: 'home again', actorId: 'ann', at: later })
      .then([answered]);
    given(prayerPointDecider, created, answered).when({ type: 'AnswerPrayerPoint', actorId: 'ann', at: '2026-12-01T00:00:00.000Z' }).thenNothing();
    given(prayerPointDecider, created, answered)
      .when({ type: 'AnswerPrayerPoint', testimony: null, actorId: 'ann', at: '2026-12-01T00:00:00.000Z' })
      .then([{ type: 'PrayerPointAnswered', data: { prayerPointId: id, answeredAt: later, testimony: null, recordedAt: '2026-12-01T00:00:00.000Z', recordedBy: 'ann' } }]);
  });

  it('without a date, the answer is dated when it is recorded', () => {
    given(prayerPointDecider, created)
      .when({ type: 'AnswerPrayerPoint', actorId: 'ann', at: later })
      .then([{ type: 'PrayerPointAnswered', data: { prayerPointId: id, answeredAt: later, testimony: null, recordedAt: later, recordedBy: 'ann' } }]);
  });

  it('an answered prayer point reopens; an open one does not', () => {
    given(prayerPointDecider, created, answered)
      .when({ type: 'ReopenPrayerPoint', actorId: 'ann', at: later })
      .then([{ type: 'PrayerPointReopened', data: { prayerPointId: id, reopenedAt: later, reopenedBy: 'ann' } }]);
    given(prayerPointDecider, created).when({ type: 'ReopenPrayerPoint', actorId: 'ann', at: later }).thenNothing();
  });

  it('deleting and restoring are soft and idempotent; a deleted one cannot be edited or answered', () => {
    given(prayerPointDecider, created).when({ type: 'DeletePrayerPoint', actorId: 'ann', at: later }).then([deleted]);
    given(prayerPointDecider, created, deleted).when({ type: 'DeletePrayerPoint', actorId: 'ann', at: later }).thenNothing();
    given(prayerPointDecider, created, deleted).when({ type: 'EditPrayerPoint', ...write, actorId: 'ann', at: later }).thenFails('PRAYER_POINT.DELETED');
    given(prayerPointDecider, created, deleted).when({ type: 'AnswerPrayerPoint', actorId: 'ann', at: later }).thenFails('PRAYER_POINT.DELETED');
    given(prayerPointDecider, created, deleted)
      .when({ type: 'RestorePrayerPoint', actorId: 'ann', at: later })
      .then([{ type: 'PrayerPointRestored', data: { prayerPointId: id, restoredAt: later, restoredBy: 'ann' } }]);
    given(prayerPointDecider, created).when({ type: 'RestorePrayerPoint', actorId: 'ann', at: later }).thenNothing();
  });

  it('to anyone but its owner it does not exist', () => {
    for (const command of [
      { type: 'EditPrayerPoint', ...write, actorId: 'eve', at },
      { type: 'AnswerPrayerPoint', actorId: 'eve', at },
      { type: 'ReopenPrayerPoint', actorId: 'eve', at },
      { type: 'DeletePrayerPoint', actorId: 'eve', at },
      { type: 'RestorePrayerPoint', actorId: 'eve', at },
    ] as const) {
      given(prayerPointDecider, created).when(command).thenFails('PRAYER_POINT.NOT_FOUND');
      given(prayerPointDecider).when({ ...command, actorId: 'ann' }).thenFails('PRAYER_POINT.NOT_FOUND');
    }
  });
});
