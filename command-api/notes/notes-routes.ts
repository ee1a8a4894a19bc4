/**
 * Note commands: create (idempotent for offline clients that choose the id), edit with a mandatory
 * If-Match, soft delete, restore, and the user's review of the passages a note cites (confirm or reject
 * references; a rejected one stays rejected across later edits). Passages are detected by the decider
 * whenever the title or content is written. A note is its owner's alone: to anyone else every route
 * answers the same 404 as for a note that does not exist.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { isSameNoteCreate, noteDecider, noteStreamId, scriptureOf, type ExistingNote, type Note, type NoteCommand, type NoteEvent } from '../../domain/notes/note';
import { normalizeReference, type OsisRange } from '../../domain/scripture/references';
import type { EventStore } from '../../infra/event-store/event-store';
import { etagOf, expectedRevisionFor, parseIfMatch } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { AggregateSnapshots } from '../../infra/snapshots/aggregate-snapshots';
import type { AggregateCache } from '../aggregate-cache';
import { handleCommand, StaleRevision, type CommandResult, type HandleOptions } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';
import { normalizeLabels } from '../../infra/text/labels';
import { createNoteBody, reviewScriptureBody, updateNoteBody } from './note-schemas';

export interface NotesDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly snapshots: AggregateSnapshots;
  readonly cache: AggregateCache;
  /** The same bound as documents' content (DOCUMENT_MAX_CONTENT_BYTES). */
  readonly maxContentBytes: number;
}

const NOT_FOUND = 'NOTE.NOT_FOUND';

/** How note state is snapshotted (shared with the version routes, which fold the same streams). */
export const NOTE_SNAPSHOTS = { kind: 'note', version: 1, every: 50 } as const;

/** A note as every API answers it (the query side builds the same JSON from the read model). */
export function noteView(note: ExistingNote, revision: bigint) {
  return {
    id: note.id,
    ownerId: note.ownerId,
    title: note.title,
    content: note.content,
    dateTime: note.dateTime,
    tags: [...note.tags],
    topics: [...note.topics],
    scripture: scriptureOf(note),
    revision: Number(revision),
    createdAt: note.createdAt,
    updatedAt: note.updatedAt,
    deleted: note.status === 'deleted',
  };
}

type ReferenceProblem = { in: 'body'; path: string; code: string; message: string };

/** References as the user wrote them ('Rom 8:28', 'John.3.16-18'), each made canonical; the bad ones go to `errors`. */
function normalizeReferences(values: readonly string[] | undefined, field: 'add' | 'remove', errors: ReferenceProblem[]): OsisRange[] {
  const normalized: OsisRange[] = [];
  (values ?? []).forEach((value, index) => {
    const osis = normalizeReference(value);
    if (osis === undefined) errors.push({ in: 'body', path: `${field}.${index}`, code: 'invalid_reference', message: `not a scripture reference: ${JSON.stringify(value)}` });
    else normalized.push(osis);
  });
  return [...new Set(normalized)];
}

export function notesRoutes(deps: NotesDeps): RouteSpec[] {
  const { store, clock } = deps;
  const options: HandleOptions = { cache: deps.cache, snapshotting: { snapshots: deps.snapshots, ...NOTE_SNAPSHOTS } };

  function assertContentSize(content: string): void {
    if (Buffer.byteLength(content, 'utf8') > deps.maxContentBytes) {
      throw new Problem('payload_too_large', 'NOTE.CONTENT_TOO_LARGE', `content may be at most ${deps.maxContentBytes} bytes`);
    }
  }

  /** The fields of a create or replace, normalized: the date in UTC, labels de-duplicated. */
  function fieldsOf(body: { title: string; content: string; dateTime: string; tags?: string[] | undefined; topics?: string[] | undefined }) {
    assertContentSize(body.content);
    return { title: body.title, content: body.content, dateTime: new Date(body.dateTime).toISOString(), tags: normalizeLabels(body.tags), topics: normalizeLabels(body.topics) };
  }

  /** Decides a command on an existing note, If-Match becoming the expected revision. */
  async function decide(req: Request, noteId: string, build: (actor: { actorId: string; at: string }) => NoteCommand, ifMatch: 'required' | 'optional') {
    const actorId = actorOf(req);
    const condition = parseIfMatch(req.header('if-match'));
    if (condition === undefined && ifMatch === 'required') {
      throw new Problem('precondition_required', 'HTTP.PRECONDITION_REQUIRED', 'send If-Match with the ETag of the revision you edited');
    }
    const now = clock();
    try {
      return await handleCommand(store, noteStreamId(noteId), noteDecider, build({ actorId, at: now.toISOString() }), commandContext(req, now), {
        ...options,
        ...(condition ? { expectedRevision: await expectedRevision(noteId, condition) } : {}),
      });
    } catch (error) {
      if (error instanceof StaleRevision) throw staleProblem(error as StaleRevision<Note>, actorId);
      throw error;
    }
  }

  async function expectedRevision(noteId: string, condition: NonNullable<ReturnType<typeof parseIfMatch>>): Promise<bigint | 'no_stream'> {
    if (condition.kind === 'revisions' && condition.revisions.length === 1) return condition.revisions[0]!;
    const head = await store.readStream(noteStreamId(noteId), { direction: 'backwards', maxCount: 1 });
    return expectedRevisionFor(condition, head[0]?.streamRevision ?? 'no_stream');
  }

  /** 412 with the current note for the client's merge dialog, but only for its owner. */
  function staleProblem(error: StaleRevision<Note>, actorId: string): Problem {
    const current = error.state;
    if (current.status === 'none' || typeof error.current !== 'bigint' || current.ownerId !== actorId) return new Problem('not_found', NOT_FOUND, 'no such note');
    const etag = etagOf(error.current);
    return new Problem('precondition_failed', 'NOTE.REVISION_CONFLICT', 'the note has changed since the revision in If-Match', { current: noteView(current, error.current), etag }, { ETag: etag });
  }

  function sendNote(res: Response, status: number, result: CommandResult<Note>, location?: string) {
    if (result.state.status === 'none' || typeof result.revision !== 'bigint') throw new Problem('not_found', NOT_FOUND, 'no such note');
    respond(res, status, noteView(result.state, result.revision), { revision: result.revision, position: result.position, ...(location ? { location } : {}) });
  }

  async function create(req: Request, res: Response) {
    const body = parseRequest(createNoteBody, req.body, 'body');
    const fields = fieldsOf(body);
    const actorId = actorOf(req);
    const noteId = (body.id ?? randomUUID()).toLowerCase();
    const now = clock();
    const command = { type: 'CreateNote', noteId, ...fields, actorId, at: now.toISOString() } as const;
    const location = `/api/notes/${noteId}`;
    try {
      const created = await handleCommand(store, noteStreamId(noteId), noteDecider, command, commandContext(req, now), { ...options, expectedRevision: 'no_stream' });
      sendNote(res, 201, created, location);
    } catch (error) {
      if (!(error instanceof StaleRevision) && !(error instanceof Error && 'code' in error && error.code === 'NOTE.ALREADY_EXISTS')) throw error;
      // The id is taken: by this very create sent before (answer it again), or by something else.
      const [first] = await store.readStream(noteStreamId(noteId), { maxCount: 1 });
      const recorded = first && ({ type: first.type, data: first.data } as unknown as NoteEvent);
      if (!first || !isSameNoteCreate(recorded, command)) throw new Problem('conflict', 'NOTE.ALREADY_EXISTS', 'a different note already has this id');
      const state = noteDecider.evolve(noteDecider.initialState, recorded!);
      sendNote(res, 201, { state, revision: 0n, position: first.position, events: [] }, location);
    }
  }

  async function update(req: Request, res: Response) {
    const noteId = pathId(req, 'id', NOT_FOUND);
    const fields = fieldsOf(parseRequest(updateNoteBody, req.body, 'body'));
    sendNote(res, 200, await decide(req, noteId, (actor) => ({ type: 'EditNote', ...fields, ...actor }), 'required'));
  }

  async function remove(req: Request, res: Response) {
    const noteId = pathId(req, 'id', NOT_FOUND);
    const result = await decide(req, noteId, (actor) => ({ type: 'DeleteNote', ...actor }), 'required');
    respond(res, 204, undefined, { position: result.position });
  }

  async function restore(req: Request, res: Response) {
    const noteId = pathId(req, 'id', NOT_FOUND);
    sendNote(res, 200, await decide(req, noteId, (actor) => ({ type: 'RestoreNote', ...actor }), 'optional'));
  }

  async function reviewScripture(req: Request, res: Response) {
    const noteId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(reviewScriptureBody, req.body ?? {}, 'body');
    const errors: ReferenceProblem[] = [];
    const add = normalizeReferences(body.add, 'add', errors);
    const remove = normalizeReferences(body.remove, 'remove', errors);
    if (errors.length > 0) throw new Problem('invalid', 'SCRIPTURE.INVALID_REFERENCE', 'a reference is not one the canon has', { errors: errors.slice(0, 20) });
    sendNote(res, 200, await decide(req, noteId, (actor) => ({ type: 'ReviewScripture', add, remove, ...actor }), 'optional'));
  }

  return [
    { method: 'post', path: '/api/notes', access: 'user', summary: 'Create a note; its scripture references are detected (idempotent for a client-chosen id)', body: createNoteBody, responses: { 201: 'The note (ETag, Location)' }, handler: create },
    { method: 'put', path: '/api/notes/:id', access: 'user', summary: "Replace a note's title, content, date, tags and topics (If-Match required)", body: updateNoteBody, responses: { 200: 'The note (new ETag)' }, handler: update },
    { method: 'delete', path: '/api/notes/:id', access: 'user', summary: 'Soft-delete a note (If-Match required)', responses: { 204: 'Deleted (a tombstone for sync)' }, handler: remove },
    { method: 'post', path: '/api/notes/:id/restore', access: 'user', summary: 'Restore a deleted note', responses: { 200: 'The note' }, handler: restore },
    { method: 'post', path: '/api/notes/:id/scripture', access: 'user', summary: 'Confirm (add) or reject (remove) scripture references of a note', body: reviewScriptureBody, responses: { 200: 'The note with its passages' }, handler: reviewScripture },
  ];
}
