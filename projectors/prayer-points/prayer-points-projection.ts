/**
 * The `prayer_points` read model: each prayer point's current state, its status (`open` or `answered`)
 * kept as a column so that the owner's list filters on an index. Rows carry the stream revision; an
 * event at or below it (a replay) changes nothing.
 */
import type { PrayerPointEvent } from '../../domain/prayer-points/prayer-point';
import { unreachable } from '../../domain/shared/events';
import type { Projection } from '../runtime/projection';

export const PRAYER_POINT_EVENTS = [
  'PrayerPointCreated',
  'PrayerPointEdited',
  'PrayerPointAnswered',
  'PrayerPointReopened',
  'PrayerPointDeleted',
  'PrayerPointRestored',
] as const satisfies ReadonlyArray<PrayerPointEvent['type']>;

/** The columns an event sets, shared with the sync projection's copy (same names, same values). */
export function prayerPointChanges(event: PrayerPointEvent): Record<string, unknown> {
  switch (event.type) {
    case 'PrayerPointCreated': {
      const { prayerPointId, ownerId, title, details, noteIds, passages, createdAt } = event.data;
      return {
        id: prayerPointId,
        owner_id: ownerId,
        title,
        details,
        note_ids: [...noteIds],
        passages: [...passages],
        status: 'open',
        answered_at: null,
        testimony: null,
        created_at: createdAt,
        updated_at: createdAt,
        deleted: false,
      };
    }
    case 'PrayerPointEdited': {
      const { title, details, noteIds, passages, editedAt } = event.data;
      return { title, details, note_ids: [...noteIds], passages: [...passages], updated_at: editedAt };
    }
    case 'PrayerPointAnswered':
      return { status: 'answered', answered_at: event.data.answeredAt, testimony: event.data.testimony, updated_at: event.data.recordedAt };
    case 'PrayerPointReopened':
      return { status: 'open', answered_at: null, testimony: null, updated_at: event.data.reopenedAt };
    case 'PrayerPointDeleted':
      return { deleted: true, updated_at: event.data.deletedAt };
    case 'PrayerPointRestored':
      return { deleted: false, updated_at: event.data.restoredAt };
    default:
      return unreachable(event);
  }
}

export const prayerPointsProjection: Projection = {
  name: 'prayer_points',
  tables: ['prayer_points'],
  handles: PRAYER_POINT_EVENTS,
  apply(recorded, sql) {
    const event = recorded as unknown as PrayerPointEvent;
    const revision = recorded.streamRevision.toString();
    const changes = prayerPointChanges(event);
    // The first event of its stream: a row already there reflects it or a later one.
    if (event.type === 'PrayerPointCreated') return sql('prayer_points').insert({ ...changes, revision }).onConflict('id').ignore();
    return sql('prayer_points').where('id', event.data.prayerPointId).andWhere('revision', '<', revision).update({ ...changes, revision });
  },
};
