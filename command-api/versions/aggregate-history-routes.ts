/**
 * Versions and history of any versioned aggregate (documents, notes), rebuilt from its stream rather
 * than from any copy: the aggregate as it was at a revision, a line diff of its title and content
 * between two revisions, its raw events for auditors, and naming the current revision (a label kept in
 * a stream of its own, domain/shared/version-labels.ts). They read the log, so they live with the command
 * side (the proxy routes these paths here). Each aggregate gives its paths, stream names, decider, who
 * may see it and how it is shown; the version list itself is a read model (query-api/versions).
 */
import type { Request, Response } from 'express';
import { createTwoFilesPatch, structuredPatch } from 'diff';
import { z } from 'zod';
import type { Decider } from '../../domain/shared/decider';
import type { DomainEvent } from '../../domain/shared/events';
import type { NameVersion, VersionLabels } from '../../domain/shared/version-labels';
import type { EventStore, RecordedEvent } from '../../infra/event-store/event-store';
import { etagOf } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { handleCommand, loadAggregate, type Snapshotting } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';

const revisionParam = z.coerce.bigint().min(0n).max(2n ** 63n - 1n);
const diffQuery = z.strictObject({ from: revisionParam, to: revisionParam });
const historyQuery = z.strictObject({
  fromRevision: revisionParam.optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
export const nameVersionBody = z.strictObject({ label: z.string().trim().min(1).max(200).optional() });

export interface VersionedAggregate<State> {
  /** '/api/documents': the routes are `<basePath>/:id/...`. */
  readonly basePath: string;
  /** 'document', 'note': summaries and messages. */
  readonly noun: string;
  /** 'DOCUMENT': codes are `<prefix>.NOT_FOUND`, `<prefix>.REVISION_NOT_FOUND`, `<prefix>.DELETED`. */
  readonly codePrefix: string;
  /** The id's key in a named version's answer ('documentId'). */
  readonly idKey: string;
  readonly streamId: (id: string) => string;
  readonly labelsStreamId: (id: string) => string;
  readonly decider: Pick<Decider<unknown, DomainEvent, State>, 'evolve' | 'initialState'>;
  readonly labelsDecider: Decider<NameVersion, DomainEvent, VersionLabels>;
  readonly snapshotting?: Snapshotting;
  /** May `userId` see the aggregate whose stream starts with `first`? (False for no stream at all.) */
  canSee(first: RecordedEvent | undefined, userId: string): Promise<boolean>;
  /** May `userId` see the aggregate in this state? (For naming a version, decided on current state.) */
  canSeeState(state: State, userId: string): Promise<boolean>;
  isDeleted(state: State): boolean;
  /** The aggregate's JSON at a revision, or undefined while it does not exist. */
  view(state: State, revision: bigint): unknown;
  /** What the diff compares, or undefined while it does not exist. */
  text(state: State): { readonly title: string; readonly content: string } | undefined;
}

export function aggregateHistoryRoutes<State>(deps: { store: EventStore; clock: () => Date }, aggregate: VersionedAggregate<State>): RouteSpec[] {
  const { store, clock } = deps;
  const notFound = `${aggregate.codePrefix}.NOT_FOUND`;
  const revisionNotFound = () => new Problem('not_found', `${aggregate.codePrefix}.REVISION_NOT_FOUND`, `the ${aggregate.noun} has no such revision`);

  /** The aggregate's id, once the caller is known to be allowed to see it (from the stream's first event). */
  async function visibleId(req: Request): Promise<string> {
    const id = pathId(req, 'id', notFound);
    const [first] = await store.readStream(aggregate.streamId(id), { maxCount: 1 });
    if (!(await aggregate.canSee(first, req.auth!.userId))) throw new Problem('not_found', notFound, `no such ${aggregate.noun}`);
    return id;
  }

  /** Reads the stream from its start up to `revision`, after checking that the caller may see it. */
  async function readUpTo(req: Request, revision: bigint): Promise<RecordedEvent[]> {
    const id = await visibleId(req);
    return store.readStream(aggregate.streamId(id), { maxCount: Number(revision) + 1 });
  }

  function stateAt(events: readonly RecordedEvent[], revision: bigint): State {
    const upTo = events.filter((event) => event.streamRevision <= revision);
    if (upTo.length === 0 || upTo[upTo.length - 1]!.streamRevision !== revision) throw revisionNotFound();
    return upTo.reduce((state, event) => aggregate.decider.evolve(state, { type: event.type, data: event.data as object }), aggregate.decider.initialState);
  }

  async function atRevision(req: Request, res: Response) {
    const revision = parseRequest(revisionParam, req.params.revision, 'path');
    const view = aggregate.view(stateAt(await readUpTo(req, revision), revision), revision);
    if (view === undefined) throw revisionNotFound();
    res.setHeader('ETag', etagOf(revision));
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable'); // a past revision never changes
    res.json(view);
  }

  async function diff(req: Request, res: Response) {
    const { from, to } = parseRequest(diffQuery, req.query, 'query');
    const events = await readUpTo(req, from > to ? from : to);
    const before = aggregate.text(stateAt(events, from));
    const after = aggregate.text(stateAt(events, to));
    if (before === undefined || after === undefined) throw revisionNotFound();
    const patch = structuredPatch(`revision ${from}`, `revision ${to}`, before.content, after.content, '', '', { context: 3 });
    res.json({
      from: Number(from),
      to: Number(to),
      title: { from: before.title, to: after.title, changed: before.title !== after.title },
      hunks: patch.hunks.map((hunk) => ({ oldStart: hunk.oldStart, oldLines: hunk.oldLines, newStart: hunk.newStart, newLines: hunk.newLines, lines: hunk.lines })),
      unified: createTwoFilesPatch(`revision ${from}`, `revision ${to}`, before.content, after.content, '', '', { context: 3 }),
    });
  }

  async function history(req: Request, res: Response) {
    const params = parseRequest(historyQuery, req.query, 'query');
    const id = await visibleId(req);
    const read = await store.readStream(aggregate.streamId(id), { fromRevision: params.fromRevision ?? 0n, maxCount: params.limit + 1 });
    const page = read.slice(0, params.limit);
    const last = page[page.length - 1];
    res.json({
      items: page.map((event) => ({
        id: event.id,
        type: event.type,
        revision: Number(event.streamRevision),
        position: event.position,
        recordedAt: event.recordedAt.toISOString(),
        data: event.data,
        metadata: event.metadata,
      })),
      nextRevision: last && read.length > params.limit ? Number(last.streamRevision + 1n) : null,
    });
  }

  async function nameVersion(req: Request, res: Response) {
    const id = pathId(req, 'id', notFound);
    const body = parseRequest(nameVersionBody, req.body ?? {}, 'body');
    const actorId = actorOf(req);
    const current = await loadAggregate(store, aggregate.streamId(id), aggregate.decider, aggregate.snapshotting);
    if (typeof current.revision !== 'bigint' || !(await aggregate.canSeeState(current.state, actorId))) {
      throw new Problem('not_found', notFound, `no such ${aggregate.noun}`);
    }
    if (aggregate.isDeleted(current.state)) throw new Problem('conflict', `${aggregate.codePrefix}.DELETED`, `restore the ${aggregate.noun} before naming a version`);
    const now = clock();
    const labelled = await handleCommand(
      store,
      aggregate.labelsStreamId(id),
      aggregate.labelsDecider,
      { type: 'NameVersion', aggregateId: id, revision: current.revision.toString(), label: body.label ?? null, actorId, at: now.toISOString() },
      commandContext(req, now),
    );
    respond(
      res,
      201,
      { [aggregate.idKey]: id, revision: Number(current.revision), label: body.label ?? null, createdAt: now.toISOString(), createdBy: actorId },
      { position: labelled.position, location: `${aggregate.basePath}/${id}/versions/${current.revision}` },
    );
  }

  const { basePath, noun } = aggregate;
  return [
    { method: 'post', path: `${basePath}/:id/versions`, access: 'user', summary: 'Name the current revision', body: nameVersionBody, responses: { 201: 'The named version' }, handler: nameVersion },
    { method: 'get', path: `${basePath}/:id/versions/:revision`, access: 'user', summary: `The ${noun} as it was at a revision, rebuilt from its stream`, responses: { 200: `The ${noun} at that revision` }, handler: atRevision },
    { method: 'get', path: `${basePath}/:id/diff`, access: 'user', summary: 'A line diff between two revisions', query: diffQuery, responses: { 200: 'Title change, hunks and a unified diff' }, handler: diff },
    { method: 'get', path: `${basePath}/:id/history`, access: 'user', summary: `The ${noun}'s raw events with their metadata`, query: historyQuery, responses: { 200: 'The raw events and the next revision to page from' }, handler: history },
  ];
}
