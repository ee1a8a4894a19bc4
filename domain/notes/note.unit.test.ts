import { given } from '../../test/support/decider-spec';
import { fold } from '../shared/decider';
import type { OsisRange } from '../scripture/verse-index';
import { noteDecider, scriptureOf, type ExistingNote, type NoteEvent } from './note';

const at = '2026-11-22T10:00:00.000Z';
const fields = { title: 'Hope', content: 'Romans 8:28 and Gen 50:20 say the same', dateTime: at, tags: ['hope'], topics: ['providence'] };
const created: NoteEvent = {
  type: 'NoteCreated',
  data: { noteId: 'n1', ownerId: 'ann', ...fields, detected: ['Gen.50.20', 'Rom.8.28'], createdAt: at },
};

describe('note', () => {
  it('detects the passages a new note cites', () => {
    given(noteDecider).when({ type: 'CreateNote', noteId: 'n1', actorId: 'ann', at, ...fields }).then([created]);
  });

  it('to anyone but its owner a note does not exist', () => {
    given(noteDecider, created).when({ type: 'EditNote', actorId: 'eve', at, ...fields, title: 'Mine' }).thenFails('NOTE.NOT_FOUND');
    given(noteDecider, created).when({ type: 'DeleteNote', actorId: 'eve', at }).thenFails('NOTE.NOT_FOUND');
  });

  it('an unchanged edit records nothing; a changed one detects again', () => {
    given(noteDecider, created).when({ type: 'EditNote', actorId: 'ann', at, ...fields }).thenNothing();
    given(noteDecider, created)
      .when({ type: 'EditNote', actorId: 'ann', at, ...fields, content: 'John 3:16' })
      .then([{ type: 'NoteEdited', data: { noteId: 'n1', ...fields, content: 'John 3:16', detected: ['John.3.16'], editedAt: at, editedBy: 'ann' } }]);
  });

  it('a rejected passage stays rejected across later edits, and a confirmed one stays cited', () => {
    const reviewed: NoteEvent = { type: 'NoteScriptureReviewed', data: { noteId: 'n1', confirmed: ['Ps.23'], rejected: ['Gen.50.20'], reviewedAt: at, reviewedBy: 'ann' } };
    given(noteDecider, created)
      .when({ type: 'ReviewScripture', actorId: 'ann', at, add: ['Ps.23' as OsisRange], remove: ['Gen.50.20' as OsisRange] })
      .then([reviewed]);
    const edited: NoteEvent = {
      type: 'NoteEdited',
      data: { noteId: 'n1', ...fields, content: 'Romans 8:28 and Gen 50:20 again', detected: ['Gen.50.20', 'Rom.8.28'], editedAt: at, editedBy: 'ann' },
    };
    const state = fold(noteDecider, [created, reviewed, edited]) as ExistingNote;
    expect(scriptureOf(state)).toEqual(['Ps.23', 'Rom.8.28']);
  });

  it('passages come in canon order', () => {
    expect(scriptureOf({ detected: ['Rev.1', 'Gen.1', 'John.3.16'], confirmed: [], rejected: [] })).toEqual(['Gen.1', 'John.3.16', 'Rev.1']);
  });

  it('a deleted note can be restored but not edited', () => {
    const deleted: NoteEvent = { type: 'NoteDeleted', data: { noteId: 'n1', deletedAt: at, deletedBy: 'ann' } };
    given(noteDecider, created, deleted).when({ type: 'EditNote', actorId: 'ann', at, ...fields, title: 'x' }).thenFails('NOTE.DELETED');
    given(noteDecider, created, deleted)
      .when({ type: 'RestoreNote', actorId: 'ann', at })
      .then([{ type: 'NoteRestored', data: { noteId: 'n1', restoredAt: at, restoredBy: 'ann' } }]);
  });
});
