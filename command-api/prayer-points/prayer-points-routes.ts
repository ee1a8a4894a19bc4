/**
 * Prayer point commands: create (idempotent for offline clients that choose the id), replace with a
 * mandatory If-Match, answer (with the date and an optional testimony), reopen, soft delete and
 * restore. The prayer point's revision is its ETag; a stale If-Match is a 412 carrying the current one.
 *
 * Linked notes are checked here, on the command side, against the notes' own streams: only the
 * caller's live notes may be newly linked. Passages are normalized (any reference the scripture module
 * reads, 'Romans 8:28' or 'Rom.8.28') before the domain sees them.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import {
  isSameCreate,
  prayerPointDecider,
  prayerPointStreamId,
  type ExistingPrayerPoint,
  type PrayerPoint,
  type PrayerPointCommand,
  type PrayerPointEvent,
} from '../../domain/prayer-points/prayer-point';
import { normalizeReference, type OsisRange } from '../../domain/scripture/references';
import type { EventStore } from '../../infra/event-store/event-store';
import { etagOf, expectedRevisionFor, parseIfMatch } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { AggregateCache } from '../aggregate-cache';
import { handleCommand, loadAggregate, StaleRevision, type CommandResult, type HandleOptions } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';

export interface PrayerPointsDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly cache?: AggregateCache;
}

const NOT_FOUND = 'PRAYER_POINT.NOT_FOUND';
export const MAX_LINKED_NOTES = 50;
export const MAX_LINKED_PASSAGES = 50;

/** NUL and unpaired surrogates: text PostgreSQL cannot store (nor JSON carry faithfully). */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const storable = (value: string) => !UNSTORABLE.test(value);
const title = z
  .string()
  .refine((value) => [...value].length >= 1 && [...value].length <= 500, { message: 'title must be 1 to 500 characters' })
  .refine(storable, { message: 'no NUL characters or unpaired surrogates' });
const fields = {
  title,
  details: z.string().max(20_000).refine(storable, { message: 'no NUL characters or unpaired surrogates' }).default(''),
  noteIds: z.array(z.uuid()).max(MAX_LINKED_NOTES).default([]),
  passages: z.array(z.string().max(120)).max(MAX_LINKED_PASSAGES).default([]),
};
export const createPrayerPointBody = z.strictObject({ id: z.uuid().optional(), ...fields });
export const updatePrayerPointBody = z.strictObject(fields);
export const answerPrayerPointBody = z.strictObject({
  answeredAt: z.iso.datetime({ offset: true }).optional(),
  testimony: z.string().max(20_000).refine(storable, { message: 'no NUL characters or unpaired surrogates' }).nullable().optional(),
});

/** The JSON of a prayer point: what GET answers and what the sync feed carries. */
export function prayerPointView(point: ExistingPrayerPoint, revision: bigint) {
  return {
    id: point.id,
    title: point.title,
    details: point.details,
    noteIds: [...point.noteIds],
    passages: [...point.passages],
    status: point.answer ? 'answered' : 'open',
    answeredAt: point.answer ? point.answer.answeredAt : null,
    testimony: point.answer ? point.answer.testimony : null,
    revision: Number(revision),
    createdAt: point.createdAt,
    updatedAt: point.updatedAt,
    deleted: point.status === 'deleted',
  };
}

/** Each reference as one canonical passage; a 400 naming the ones that are not. */
function normalizedPassages(references: readonly string[]): OsisRange[] {
  const invalid: string[] = [];
  const passages: OsisRange[] = [];
  for (const reference of references) {
    const passage = normalizeReference(reference);
    if (passage === undefined) invalid.push(reference);
    else passages.push(passage);
  }
  if (invalid.length > 0) {
    throw new Problem('invalid', 'PRAYER_POINT.INVALID_PASSAGE', 'each passage must be one scripture reference', { passages: invalid });
  }
  return passages;
}

export function prayerPointsRoutes(deps: PrayerPointsDeps): RouteSpec[] {
  const { store, clock } = deps;
  const options: HandleOptions = deps.cache ? { cache: deps.cache } : {};

  /** The ids among `noteIds` that are `actorId`'s live notes, read from the notes' streams. */
  async function linkableNotes(noteIds: readonly string[], actorId: string): Promise<string[]> {
    const found = await Promise.all(
      [...new Set(noteIds)].map(async (noteId) => {
        const { state } = await loadAggregate(store, noteStreamId(noteId), noteDecider);
        return state.status === 'active' && state.ownerId === actorId ? noteId : undefined;
      }),
    );
    return found.filter((noteId): noteId is string => noteId !== undefined);
  }

  /** Decides a command on an existing prayer point (built from its current state). */
  async function decide(req: Request, prayerPointId: string, build: (state: PrayerPoint, actor: { actorId: string; at: string }) => Promise<PrayerPointCommand> | PrayerPointCommand, ifMatch: 'required' | 'optional') {
    const actorId = actorOf(req);
    const condition = parseIfMatch(req.header('if-match'));
    if (condition === undefined && ifMatch === 'required') {
      throw new Problem('precondition_required', 'HTTP.PRECONDITION_REQUIRED', 'send If-Match with the ETag of the revision you edited');
    }
    const now = clock();
    const actor = { actorId, at: now.toISOString() };
    try {
      return await handleCommand(store, prayerPointStreamId(prayerPointId), prayerPointDecider, (state: PrayerPoint) => build(state, actor), commandContext(req, now), {
        ...options,
        ...(condition ? { expectedRevision: await expectedRevision(prayerPointId, condition) } : {}),
      });
    } catch (error) {
      if (error instanceof StaleRevision) throw staleProblem(error as StaleRevision<PrayerPoint>, actorId);
      throw error;
    }
  }

  async function expectedRevision(prayerPointId: string, condition: NonNullable<ReturnType<typeof parseIfMatch>>): Promise<bigint | 'no_stream'> {
    if (condition.kind === 'revisions' && condition.revisions.length === 1) return condition.revisions[0]!;
    const head = await store.readStream(prayerPointStreamId(prayerPointId), { direction: 'backwards', maxCount: 1 });
    return expectedRevisionFor(condition, head[0]?.streamRevision ?? 'no_stream');
  }

  /** 412 with the current prayer point, but only for its owner. */
  function staleProblem(error: StaleRevision<PrayerPoint>, actorId: string): Problem {
    const current = error.state;
    if (current.status === 'none' || current.ownerId !== actorId || typeof error.current !== 'bigint') return new Problem('not_found', NOT_FOUND, 'no such prayer point');
    const etag = etagOf(error.current);
    return new Problem('precondition_failed', 'PRAYER_POINT.REVISION_CONFLICT', 'the prayer point has changed since the revision in If-Match', { current: prayerPointView(current, error.current), etag }, { ETag: etag });
  }

  function send(res: Response, status: number, result: CommandResult<PrayerPoint>, location?: string) {
    if (result.state.status === 'none' || typeof result.revision !== 'bigint') throw new Problem('not_found', NOT_FOUND, 'no such prayer point');
    respond(res, status, prayerPointView(result.state, result.revision), { revision: result.revision, position: result.position, ...(location ? { location } : {}) });
  }

  async function create(req: Request, res: Response) {
    const body = parseRequest(createPrayerPointBody, req.body, 'body');
    const actorId = actorOf(req);
    const passages = normalizedPassages(body.passages);
    const prayerPointId = (body.id ?? randomUUID()).toLowerCase();
    const now = clock();
    const command = {
      type: 'CreatePrayerPoint',
      prayerPointId,
      title: body.title,
      details: body.details,
      noteIds: body.noteIds.map((id) => id.toLowerCase()),
      passages,
      linkableNoteIds: await linkableNotes(body.noteIds.map((id) => id.toLowerCase()), actorId),
      actorId,
      at: now.toISOString(),
    } as const;
    const location = `/api/prayer-points/${prayerPointId}`;
    try {
      const created = await handleCommand(store, prayerPointStreamId(prayerPointId), prayerPointDecider, command, commandContext(req, now), { ...options, expectedRevision: 'no_stream' });
      send(res, 201, created, location);
    } catch (error) {
      if (!(error instanceof StaleRevision) && !(error instanceof Error && 'code' in error && error.code === 'PRAYER_POINT.ALREADY_EXISTS')) throw error;
      // The id is taken: by this very create sent before (answer it again), or by something else.
      const [first] = await store.readStream(prayerPointStreamId(prayerPointId), { maxCount: 1 });
      const recorded = first && ({ type: first.type, data: first.data } as unknown as PrayerPointEvent);
      if (!first || !isSameCreate(recorded, command)) throw new Problem('conflict', 'PRAYER_POINT.ALREADY_EXISTS', 'a different prayer point already has this id');
      const state = prayerPointDecider.evolve(prayerPointDecider.initialState, recorded!);
      send(res, 201, { state, revision: 0n, position: first.position, events: [] }, location);
    }
  }

  async function update(req: Request, res: Response) {
    const prayerPointId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(updatePrayerPointBody, req.body, 'body');
    const passages = normalizedPassages(body.passages);
    const noteIds = body.noteIds.map((id) => id.toLowerCase());
    const result = await decide(
      req,
      prayerPointId,
      async (state, actor) => {
        // Only notes not linked yet are looked up (and only for the owner: to others it does not exist).
        const linked = new Set(state.status !== 'none' && state.ownerId === actor.actorId ? state.noteIds : noteIds);
        const linkableNoteIds = await linkableNotes(noteIds.filter((id) => !linked.has(id)), actor.actorId);
        return { type: 'EditPrayerPoint', title: body.title, details: body.details, noteIds, passages, linkableNoteIds, ...actor };
      },
      'required',
    );
    send(res, 200, result);
  }

  async function answer(req: Request, res: Response) {
    const prayerPointId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(answerPrayerPointBody, req.body ?? {}, 'body');
    const result = await decide(
      req,
      prayerPointId,
      (_state, actor) => ({
        type: 'AnswerPrayerPoint',
        ...(body.answeredAt === undefined ? {} : { answeredAt: new Date(body.answeredAt).toISOString() }),
        ...(body.testimony === undefined ? {} : { testimony: body.testimony }),
        ...actor,
      }),
      'optional',
    );
    send(res, 200, result);
  }

  async function reopen(req: Request, res: Response) {
    const prayerPointId = pathId(req, 'id', NOT_FOUND);
    send(res, 200, await decide(req, prayerPointId, (_state, actor) => ({ type: 'ReopenPrayerPoint', ...actor }), 'optional'));
  }

  async function remove(req: Request, res: Response) {
    const prayerPointId = pathId(req, 'id', NOT_FOUND);
    const result = await decide(req, prayerPointId, (_state, actor) => ({ type: 'DeletePrayerPoint', ...actor }), 'required');
    respond(res, 204, undefined, { position: result.position });
  }

  async function restore(req: Request, res: Response) {
    const prayerPointId = pathId(req, 'id', NOT_FOUND);
    send(res, 200, await decide(req, prayerPointId, (_state, actor) => ({ type: 'RestorePrayerPoint', ...actor }), 'optional'));
  }

  return [
    { method: 'post', path: '/api/prayer-points', access: 'user', summary: 'Create a prayer point (idempotent for a client-chosen id)', body: createPrayerPointBody, responses: { 201: 'The prayer point (ETag, Location)' }, handler: create },
    { method: 'put', path: '/api/prayer-points/:id', access: 'user', summary: 'Replace title, details, linked notes and passages (If-Match required)', body: updatePrayerPointBody, responses: { 200: 'The prayer point (new ETag)' }, handler: update },
    { method: 'post', path: '/api/prayer-points/:id/answer', access: 'user', summary: 'Mark a prayer point answered (date, optional testimony)', body: answerPrayerPointBody, responses: { 200: 'The prayer point' }, handler: answer },
    { method: 'post', path: '/api/prayer-points/:id/reopen', access: 'user', summary: 'Reopen an answered prayer point', responses: { 200: 'The prayer point' }, handler: reopen },
    { method: 'delete', path: '/api/prayer-points/:id', access: 'user', summary: 'Soft-delete a prayer point (If-Match required)', responses: { 204: 'Deleted (a tombstone for sync)' }, handler: remove },
    { method: 'post', path: '/api/prayer-points/:id/restore', access: 'user', summary: 'Restore a deleted prayer point', responses: { 200: 'The prayer point' }, handler: restore },
  ];
}
