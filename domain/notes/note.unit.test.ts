import { given } from '../../test/support/decider-spec';
import { fold } from '../shared/decider';
import type { OsisRange } from '../scripture/verse-index';
import { isSameNoteCreate, noteDecider, scriptureOf, type ExistingNote, type NoteEvent } from './note';

const at = '2026-11-22T10:00:00.000Z';
const fields = { title: 'Hope', content: 'Romans 8:28 and Gen 50:20 say the same', dateTime: at, tags: ['hope'], topics: ['providence'] };
const created: NoteEvent = {
  type: 'NoteCreated',
  data: { noteId: 'n1', ownerId: 'ann', ...fields, detected: ['Gen.50.20', 'Rom.8.28'], scripture: ['Gen.50.20', 'Rom.8.28'], createdAt: at },
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
      .then([{ type: 'NoteEdited', data: { noteId: 'n1', ...fields, content: 'John 3:16', detected: ['John.3.16'], scripture: ['John.3.16'], editedAt: at, editedBy: 'ann' } }]);
  });

  it('a rejected passage stays rejected across later edits, and a confirmed one stays cited', () => {
    const reviewed: NoteEvent = {
      type: 'NoteScriptureReviewed',
      data: { noteId: 'n1', confirmed: ['Ps.23'], rejected: ['Gen.50.20'], scripture: ['Ps.23', 'Rom.8.28'], reviewedAt: at, reviewedBy: 'ann' },
    };
    given(noteDecider, created)
      .when({ type: 'ReviewScripture', actorId: 'ann', at, add: ['Ps.23' as OsisRange], remove: ['Gen.50.20' as OsisRange] })
      .then([reviewed]);
    const edited: NoteEvent = {
      type: 'NoteEdited',
      data: { noteId: 'n1', ...fields, content: 'Romans 8:28 and Gen 50:20 again', detected: ['Gen.50.20', 'Rom.8.28'], scripture: ['Ps.23', 'Rom.8.28'], editedAt: at, editedBy: 'ann' },
    };
    given(noteDecider, created, reviewed).when({ type: 'EditNote', actorId: 'ann', at, ...fields, content: 'Romans 8:28 and Gen 50:20 again' }).then([edited]);
    const state = fold(noteDecider, [created, reviewed, edited]) as ExistingNote;
    expect(scriptureOf(state)).toEqual(['Ps.23', 'Rom.8.28']);
  });

  it('every event that changes the citations carries the effective passages in canon order', () => {
    const reviewed: NoteEvent = {
      type: 'NoteScriptureReviewed',
      data: { noteId: 'n1', confirmed: [], rejected: ['Rom.8.28'], scripture: ['Gen.50.20'], reviewedAt: at, reviewedBy: 'ann' },
    };
    given(noteDecider, created).when({ type: 'ReviewScripture', actorId: 'ann', at, add: [], remove: ['Rom.8.28' as OsisRange] }).then([reviewed]);
    // confirming a passage that the text does not cite adds it in canon order, ahead of later books
    given(noteDecider, created, reviewed)
      .when({ type: 'ReviewScripture', actorId: 'ann', at, add: ['Exod.3.14' as OsisRange, 'Rev.21' as OsisRange], remove: [] })
      .then([
        {
          type: 'NoteScriptureReviewed',
          data: { noteId: 'n1', confirmed: ['Exod.3.14', 'Rev.21'], rejected: ['Rom.8.28'], scripture: ['Gen.50.20', 'Exod.3.14', 'Rev.21'], reviewedAt: at, reviewedBy: 'ann' },
        },
      ]);
    given(noteDecider)
      .when({ type: 'CreateNote', noteId: 'n2', actorId: 'ann', at, ...fields, title: 'Rev 1', content: 'then John 3:16 and Genesis 1' })
      .then([
        {
          type: 'NoteCreated',
          data: {
            noteId: 'n2',
            ownerId: 'ann',
            ...fields,
            title: 'Rev 1',
            content: 'then John 3:16 and Genesis 1',
            detected: expect.any(Array) as unknown as string[],
            scripture: ['Gen.1', 'John.3.16', 'Rev.1'],
            createdAt: at,
          },
        },
      ]);
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

  it('recognises the same create sent again, by the same owner only', () => {
    const command = { type: 'CreateNote', noteId: 'n1', actorId: 'ann', at: '2026-11-23T00:00:00.000Z', ...fields } as const;
    expect(isSameNoteCreate(created, command)).toBe(true);
    expect(isSameNoteCreate(created, { ...command, actorId: 'eve' })).toBe(false);
    expect(isSameNoteCreate(created, { ...command, tags: ['other'] })).toBe(false);
    expect(isSameNoteCreate(undefined, command)).toBe(false);
  });
});
