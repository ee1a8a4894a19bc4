/**
 * The prayer point aggregate (Scribes): something a user prays about, with optional details, the notes
 * and scripture passages it leans on, and whether (and when) it was answered, with an optional
 * testimony. A prayer point belongs to its owner alone; to anyone else it does not exist.
 *
 * Linked notes must be the owner's own live notes when they are linked. The caller looks them up and
 * says which of the ids are linkable; a note already linked stays linked whatever became of it since
 * (the client sees the id and may drop it). Passages arrive normalized (canonical OSIS) and are kept
 * once each, in canon order.
 */
import { compareRanges, toVerseRange, type OsisRange } from '../scripture/verse-index';
import type { Decider } from '../shared/decider';
import { conflict, DomainError, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const prayerPointStreamId = (prayerPointId: string) => `prayer_point-${prayerPointId}`;

interface PrayerPointFields {
  readonly title: string;
  readonly details: string;
  readonly noteIds: readonly string[];
  readonly passages: readonly string[];
}

export interface Answer {
  /** When the prayer was answered: the user's say (it may be long before they record it). */
  readonly answeredAt: string;
  readonly testimony: string | null;
}

export type PrayerPointEvent =
  | DomainEvent<'PrayerPointCreated', PrayerPointFields & { prayerPointId: string; ownerId: string; createdAt: string }>
  | DomainEvent<'PrayerPointEdited', PrayerPointFields & { prayerPointId: string; editedAt: string; editedBy: string }>
  | DomainEvent<'PrayerPointAnswered', Answer & { prayerPointId: string; recordedAt: string; recordedBy: string }>
  | DomainEvent<'PrayerPointReopened', { prayerPointId: string; reopenedAt: string; reopenedBy: string }>
  | DomainEvent<'PrayerPointDeleted', { prayerPointId: string; deletedAt: string; deletedBy: string }>
  | DomainEvent<'PrayerPointRestored', { prayerPointId: string; restoredAt: string; restoredBy: string }>;

export interface ExistingPrayerPoint extends PrayerPointFields {
  readonly status: 'active' | 'deleted';
  readonly id: string;
  readonly ownerId: string;
  /** null while the prayer point is open. */
  readonly answer: Answer | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type PrayerPoint = { readonly status: 'none' } | ExistingPrayerPoint;

interface Actor {
  readonly actorId: string;
  readonly at: string;
}

interface Written {
  readonly title: string;
  readonly details: string;
  readonly noteIds: readonly string[];
  readonly passages: readonly OsisRange[];
  /** The ids among `noteIds` that the caller found to be the actor's own live notes. */
  readonly linkableNoteIds: readonly string[];
}

export type PrayerPointCommand =
  | ({ readonly type: 'CreatePrayerPoint'; readonly prayerPointId: string } & Written & Actor)
  | ({ readonly type: 'EditPrayerPoint' } & Written & Actor)
  /** Unset fields keep what an earlier answer said (answeredAt: else `at`; testimony: else none). */
  | ({ readonly type: 'AnswerPrayerPoint'; readonly answeredAt?: string; readonly testimony?: string | null } & Actor)
  | ({ readonly type: 'ReopenPrayerPoint' } & Actor)
  | ({ readonly type: 'DeletePrayerPoint' } & Actor)
  | ({ readonly type: 'RestorePrayerPoint' } & Actor);

const NOT_FOUND = () => notFound('PRAYER_POINT.NOT_FOUND', 'no such prayer point');

function owned(state: PrayerPoint, actorId: string): ExistingPrayerPoint {
  if (state.status === 'none' || state.ownerId !== actorId) throw NOT_FOUND();
  return state;
}

function live(state: PrayerPoint, actorId: string): ExistingPrayerPoint {
  const point = owned(state, actorId);
  if (point.status === 'deleted') throw conflict('PRAYER_POINT.DELETED', 'the prayer point is deleted; restore it first');
  return point;
}

/** Each passage once, in canon order (then shorter first). */
export function orderedPassages(passages: readonly OsisRange[]): OsisRange[] {
  return [...new Set(passages)].sort((a, b) => compareRanges(toVerseRange(a), toVerseRange(b)));
}

/** The fields as recorded: note ids once each in the order given, passages in canon order. */
function fieldsOf(command: Written, alreadyLinked: readonly string[]): PrayerPointFields {
  const noteIds = [...new Set(command.noteIds)];
  const linkable = new Set([...command.linkableNoteIds, ...alreadyLinked]);
  const unknown = noteIds.filter((noteId) => !linkable.has(noteId));
  if (unknown.length > 0) {
    throw new DomainError('unprocessable', 'PRAYER_POINT.UNKNOWN_NOTE', `no such note of yours: ${unknown.join(', ')}`);
  }
  return { title: command.title, details: command.details, noteIds, passages: orderedPassages(command.passages) };
}

const sameFields = (a: PrayerPointFields, b: PrayerPointFields) =>
  a.title === b.title && a.details === b.details && a.noteIds.join('\n') === b.noteIds.join('\n') && a.passages.join('\n') === b.passages.join('\n');

/** Whether a recorded first event is this very create (a client repeating it after a lost answer). */
export function isSameCreate(event: PrayerPointEvent | undefined, command: Extract<PrayerPointCommand, { type: 'CreatePrayerPoint' }>): boolean {
  if (event?.type !== 'PrayerPointCreated' || event.data.ownerId !== command.actorId || event.data.prayerPointId !== command.prayerPointId) return false;
  const noteIds = [...new Set(command.noteIds)];
  return sameFields(event.data, { title: command.title, details: command.details, noteIds, passages: orderedPassages(command.passages) });
}

export const prayerPointDecider: Decider<PrayerPointCommand, PrayerPointEvent, PrayerPoint> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'CreatePrayerPoint': {
        if (state.status !== 'none') throw conflict('PRAYER_POINT.ALREADY_EXISTS', 'a prayer point with this id already exists');
        const fields = fieldsOf(command, []);
        return [{ type: 'PrayerPointCreated', data: { prayerPointId: command.prayerPointId, ownerId: command.actorId, ...fields, createdAt: command.at } }];
      }
      case 'EditPrayerPoint': {
        const point = live(state, command.actorId);
        const fields = fieldsOf(command, point.noteIds);
        if (sameFields(point, fields)) return [];
        return [{ type: 'PrayerPointEdited', data: { prayerPointId: point.id, ...fields, editedAt: command.at, editedBy: command.actorId } }];
      }
      case 'AnswerPrayerPoint': {
        const point = live(state, command.actorId);
        const answeredAt = command.answeredAt ?? point.answer?.answeredAt ?? command.at;
        const testimony = command.testimony === undefined ? (point.answer?.testimony ?? null) : command.testimony;
        if (point.answer && point.answer.answeredAt === answeredAt && point.answer.testimony === testimony) return [];
        return [{ type: 'PrayerPointAnswered', data: { prayerPointId: point.id, answeredAt, testimony, recordedAt: command.at, recordedBy: command.actorId } }];
      }
      case 'ReopenPrayerPoint': {
        const point = live(state, command.actorId);
        if (point.answer === null) return [];
        return [{ type: 'PrayerPointReopened', data: { prayerPointId: point.id, reopenedAt: command.at, reopenedBy: command.actorId } }];
      }
      case 'DeletePrayerPoint': {
        const point = owned(state, command.actorId);
        if (point.status === 'deleted') return [];
        return [{ type: 'PrayerPointDeleted', data: { prayerPointId: point.id, deletedAt: command.at, deletedBy: command.actorId } }];
      }
      case 'RestorePrayerPoint': {
        const point = owned(state, command.actorId);
        if (point.status === 'active') return [];
        return [{ type: 'PrayerPointRestored', data: { prayerPointId: point.id, restoredAt: command.at, restoredBy: command.actorId } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'PrayerPointCreated': {
        const { prayerPointId, ownerId, title, details, noteIds, passages, createdAt } = event.data;
        return { status: 'active', id: prayerPointId, ownerId, title, details, noteIds, passages, answer: null, createdAt, updatedAt: createdAt };
      }
      case 'PrayerPointEdited': {
        if (state.status === 'none') return state;
        const { title, details, noteIds, passages, editedAt } = event.data;
        return { ...state, title, details, noteIds, passages, updatedAt: editedAt };
      }
      case 'PrayerPointAnswered':
        return state.status === 'none' ? state : { ...state, answer: { answeredAt: event.data.answeredAt, testimony: event.data.testimony }, updatedAt: event.data.recordedAt };
      case 'PrayerPointReopened':
        return state.status === 'none' ? state : { ...state, answer: null, updatedAt: event.data.reopenedAt };
      case 'PrayerPointDeleted':
        return state.status === 'none' ? state : { ...state, status: 'deleted', updatedAt: event.data.deletedAt };
      case 'PrayerPointRestored':
        return state.status === 'none' ? state : { ...state, status: 'active', updatedAt: event.data.restoredAt };
      default:
        return unreachable(event);
    }
  },
};
