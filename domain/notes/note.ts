/**
 * The note aggregate (Scribes): a user's Bible-study note with its date, tags, topics and the scripture
 * passages it cites. Passages are detected in the title and content whenever the note is written; the
 * user has the last word: a passage they confirm stays even if no longer detected, and a passage they
 * reject stays rejected across later edits. A note belongs to its owner alone (sharing comes with
 * circles); to anyone else it does not exist.
 */
import { detectReferences } from '../scripture/references';
import { toVerseRange, type OsisRange } from '../scripture/verse-index';
import type { Decider } from '../shared/decider';
import { conflict, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const noteStreamId = (noteId: string) => `note-${noteId}`;

interface NoteFields {
  readonly title: string;
  readonly content: string;
  /** ISO-8601: when the note was taken (the user's say, not the server's clock). */
  readonly dateTime: string;
  readonly tags: readonly string[];
  readonly topics: readonly string[];
}

export type NoteEvent =
  | DomainEvent<'NoteCreated', NoteFields & { noteId: string; ownerId: string; detected: readonly string[]; scripture: readonly string[]; createdAt: string }>
  | DomainEvent<'NoteEdited', NoteFields & { noteId: string; detected: readonly string[]; scripture: readonly string[]; editedAt: string; editedBy: string }>
  | DomainEvent<'NoteDeleted', { noteId: string; deletedAt: string; deletedBy: string }>
  | DomainEvent<'NoteRestored', { noteId: string; restoredAt: string; restoredBy: string }>
  | DomainEvent<
      'NoteScriptureReviewed',
      { noteId: string; confirmed: readonly string[]; rejected: readonly string[]; scripture: readonly string[]; reviewedAt: string; reviewedBy: string }
    >;

/**
 * Every event that changes what a note cites (NoteCreated, NoteEdited, NoteScriptureReviewed) carries
 * `scripture`: the note's effective passages after the event (scriptureOf), in canon order, so that
 * projections and reactors need not repeat the detected/confirmed/rejected arithmetic.
 */

export interface ExistingNote extends NoteFields {
  readonly status: 'active' | 'deleted';
  readonly id: string;
  readonly ownerId: string;
  readonly detected: readonly string[];
  readonly confirmed: readonly string[];
  readonly rejected: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type Note = { readonly status: 'none' } | ExistingNote;

interface Actor {
  readonly actorId: string;
  readonly at: string;
}

export type NoteCommand =
  | ({ readonly type: 'CreateNote'; readonly noteId: string } & NoteFields & Actor)
  | ({ readonly type: 'EditNote' } & NoteFields & Actor)
  | ({ readonly type: 'DeleteNote' } & Actor)
  | ({ readonly type: 'RestoreNote' } & Actor)
  | ({ readonly type: 'ReviewScripture'; readonly add: readonly OsisRange[]; readonly remove: readonly OsisRange[] } & Actor);

/** The passages a note cites: detected or confirmed, less the rejected ones, in canon order. */
export function scriptureOf(note: Pick<ExistingNote, 'detected' | 'confirmed' | 'rejected'>): OsisRange[] {
  const rejected = new Set(note.rejected);
  const cited = [...new Set([...note.detected, ...note.confirmed])].filter((passage) => !rejected.has(passage)) as OsisRange[];
  return cited.sort((a, b) => {
    const x = toVerseRange(a);
    const y = toVerseRange(b);
    return x.first - y.first || x.last - y.last;
  });
}

const detect = (fields: NoteFields): string[] => detectReferences(`${fields.title}\n${fields.content}`);

function owned(state: Note, actorId: string): ExistingNote {
  if (state.status === 'none' || state.ownerId !== actorId) throw notFound('NOTE.NOT_FOUND', 'no such note');
  return state;
}

function live(state: Note, actorId: string): ExistingNote {
  const note = owned(state, actorId);
  if (note.status === 'deleted') throw conflict('NOTE.DELETED', 'the note is deleted; restore it first');
  return note;
}

const fieldsOf = (command: NoteFields): NoteFields => ({
  title: command.title,
  content: command.content,
  dateTime: command.dateTime,
  tags: command.tags,
  topics: command.topics,
});

const sameFields = (a: NoteFields, b: NoteFields) =>
  a.title === b.title && a.content === b.content && a.dateTime === b.dateTime && a.tags.join('\n') === b.tags.join('\n') && a.topics.join('\n') === b.topics.join('\n');

/** Whether a stream's first event records exactly this create (the same request sent again, by the same owner). */
export function isSameNoteCreate(created: NoteEvent | undefined, command: Extract<NoteCommand, { type: 'CreateNote' }>): boolean {
  return created?.type === 'NoteCreated' && created.data.noteId === command.noteId && created.data.ownerId === command.actorId && sameFields(created.data, command);
}

export const noteDecider: Decider<NoteCommand, NoteEvent, Note> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateNote': {
        if (state.status !== 'none') throw conflict('NOTE.ALREADY_EXISTS', 'a note with this id already exists');
        const fields = fieldsOf(command);
        const detected = detect(fields);
        const scripture = scriptureOf({ detected, confirmed: [], rejected: [] });
        return [{ type: 'NoteCreated', data: { noteId: command.noteId, ownerId: command.actorId, ...fields, detected, scripture, createdAt: command.at } }];
      }
      case 'EditNote': {
        const note = live(state, command.actorId);
        const fields = fieldsOf(command);
        if (sameFields(note, fields)) return [];
        const detected = detect(fields);
        const scripture = scriptureOf({ detected, confirmed: note.confirmed, rejected: note.rejected });
        return [{ type: 'NoteEdited', data: { noteId: note.id, ...fields, detected, scripture, editedAt: command.at, editedBy: command.actorId } }];
      }
      case 'DeleteNote': {
        const note = owned(state, command.actorId);
        if (note.status === 'deleted') return [];
        return [{ type: 'NoteDeleted', data: { noteId: note.id, deletedAt: command.at, deletedBy: command.actorId } }];
      }
      case 'RestoreNote': {
        const note = owned(state, command.actorId);
        if (note.status === 'active') return [];
        return [{ type: 'NoteRestored', data: { noteId: note.id, restoredAt: command.at, restoredBy: command.actorId } }];
      }
      case 'ReviewScripture': {
        const note = live(state, command.actorId);
        const removing = new Set<string>(command.remove);
        const adding = command.add.filter((passage) => !removing.has(passage));
        const confirmed = [...new Set([...note.confirmed.filter((passage) => !removing.has(passage)), ...adding])].sort();
        const rejected = [...new Set([...note.rejected.filter((passage) => !adding.includes(passage as OsisRange)), ...removing])].sort();
        if (confirmed.join() === [...note.confirmed].sort().join() && rejected.join() === [...note.rejected].sort().join()) return [];
        const scripture = scriptureOf({ detected: note.detected, confirmed, rejected });
        return [{ type: 'NoteScriptureReviewed', data: { noteId: note.id, confirmed, rejected, scripture, reviewedAt: command.at, reviewedBy: command.actorId } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'NoteCreated': {
        const { noteId, ownerId, title, content, dateTime, tags, topics, detected, createdAt } = event.data;
        return { status: 'active', id: noteId, ownerId, title, content, dateTime, tags, topics, detected, confirmed: [], rejected: [], createdAt, updatedAt: createdAt };
      }
      case 'NoteEdited': {
        if (state.status === 'none') return state;
        const { title, content, dateTime, tags, topics, detected, editedAt } = event.data;
        return { ...state, title, content, dateTime, tags, topics, detected, updatedAt: editedAt };
      }
      case 'NoteDeleted':
        return state.status === 'none' ? state : { ...state, status: 'deleted', updatedAt: event.data.deletedAt };
      case 'NoteRestored':
        return state.status === 'none' ? state : { ...state, status: 'active', updatedAt: event.data.restoredAt };
      case 'NoteScriptureReviewed':
        return state.status === 'none' ? state : { ...state, confirmed: event.data.confirmed, rejected: event.data.rejected, updatedAt: event.data.reviewedAt };
      default:
        return unreachable(event);
    }
  },
};
