/**
 * Public links: create and revoke read-only links to a document (any member of its workspace) or a
 * note (its owner). The token is 256 random bits, answered once inside the link's URL; only its hash is
 * recorded. Who may share is looked up here (the item's stream, workspace membership) and passed to the
 * public-link decider. Links wait for the `circles` projection, which `GET /api/public/:token` reads, so
 * a revoked link is dead by the time its revocation answers.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { documentDecider, documentStreamId } from '../../domain/documents/document';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import { publicLinkDecider, publicLinkStreamId, type LinkableType } from '../../domain/public-links/public-link';
import type { EventStore } from '../../infra/event-store/event-store';
import type { LogPosition } from '../../infra/event-store/log-position';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { Logger } from '../../infra/logging/logger';
import type { AggregateSnapshots } from '../../infra/snapshots/aggregate-snapshots';
import type { ProjectionProgress } from '../../projectors/runtime/projection-progress';
import { handleCommand, loadAggregate } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';
import { isWorkspaceMember } from '../workspaces/membership';
import { hashToken, newSecretToken } from './tokens';

export interface PublicLinksDeps {
  readonly store: EventStore;
  readonly db: Knex;
  readonly clock: () => Date;
  readonly snapshots: AggregateSnapshots;
  readonly progress: ProjectionProgress;
  readonly logger: Logger;
  readonly waitMs?: number;
}

const createLinkBody = z.strictObject({ expiresAt: z.iso.datetime({ offset: true }).optional() });

const NOT_FOUND: Record<LinkableType, string> = { document: 'DOCUMENT.NOT_FOUND', note: 'NOTE.NOT_FOUND' };
const BASE_PATH: Record<LinkableType, string> = { document: '/api/documents', note: '/api/notes' };
const ITEM_PROJECTION: Record<LinkableType, string> = { document: 'documents', note: 'notes' };

export function publicLinksRoutes(deps: PublicLinksDeps): RouteSpec[] {
  const { store, clock } = deps;

  /** Whether `actorId` may share the item: it exists (and, to create a link, is not deleted) and is theirs to share. */
  async function mayShare(itemType: LinkableType, itemId: string, actorId: string, purpose: 'create' | 'revoke'): Promise<boolean> {
    if (itemType === 'document') {
      const { state } = await loadAggregate(store, documentStreamId(itemId), documentDecider, { snapshots: deps.snapshots, kind: 'document', version: 1, every: 50 });
      if (state.status === 'none' || (purpose === 'create' && state.status === 'deleted')) return false;
      return isWorkspaceMember(deps.db, state.workspaceId, actorId);
    }
    const { state } = await loadAggregate(store, noteStreamId(itemId), noteDecider);
    if (state.status === 'none' || (purpose === 'create' && state.status === 'deleted')) return false;
    return state.ownerId === actorId;
  }

  /** `GET /api/public/:token` reads the link and the item's own read model: wait for both. */
  async function awaitReaders(position: LogPosition | undefined, itemType: LinkableType): Promise<void> {
    if (!position) return;
    const reached = await deps.progress.waitFor(position, deps.waitMs ?? 5_000, { projections: ['circles', ITEM_PROJECTION[itemType]] });
    if (!reached) deps.logger.warn({ position }, 'public link change not yet visible to queries');
  }

  const create = (itemType: LinkableType) => async (req: Request, res: Response) => {
    const itemId = pathId(req, 'id', NOT_FOUND[itemType]);
    const body = parseRequest(createLinkBody, req.body ?? {}, 'body');
    const actorId = actorOf(req);
    const now = clock();
    const linkId = randomUUID();
    const token = newSecretToken();
    const expiresAt = body.expiresAt ? new Date(body.expiresAt).toISOString() : null;
    const result = await handleCommand(
      store,
      publicLinkStreamId(linkId),
      publicLinkDecider,
      {
        type: 'CreatePublicLink',
        linkId,
        itemType,
        itemId,
        tokenHash: hashToken(token),
        expiresAt,
        actorMayShare: await mayShare(itemType, itemId, actorId, 'create'),
        actorId,
        at: now.toISOString(),
      },
      commandContext(req, now),
      { expectedRevision: 'no_stream' },
    );
    await awaitReaders(result.position, itemType);
    // The token is shown here, once; only its hash is recorded.
    respond(
      res,
      201,
      { id: linkId, itemType, itemId, token, url: `/api/public/${token}`, expiresAt, createdAt: now.toISOString() },
      { position: result.position, location: `${BASE_PATH[itemType]}/${itemId}/links` },
    );
  };

  const revoke = (itemType: LinkableType) => async (req: Request, res: Response) => {
    const itemId = pathId(req, 'id', NOT_FOUND[itemType]);
    const linkId = pathId(req, 'linkId', 'LINK.NOT_FOUND');
    const actorId = actorOf(req);
    const now = clock();
    const result = await handleCommand(
      store,
      publicLinkStreamId(linkId),
      publicLinkDecider,
      { type: 'RevokePublicLink', itemType, itemId, actorMayShare: await mayShare(itemType, itemId, actorId, 'revoke'), actorId, at: now.toISOString() },
      commandContext(req, now),
    );
    await awaitReaders(result.position, itemType);
    respond(res, 204, undefined, { position: result.position });
  };

  const routes = (itemType: LinkableType, noun: string): RouteSpec[] => [
    {
      method: 'post',
      path: `${BASE_PATH[itemType]}/:id/links`,
      access: 'user',
      summary: `Create a read-only public link to a ${noun}: an unguessable token, shown once`,
      body: createLinkBody,
      responses: { 201: '{id, itemType, itemId, token, url, expiresAt, createdAt}' },
      handler: create(itemType),
    },
    {
      method: 'delete',
      path: `${BASE_PATH[itemType]}/:id/links/:linkId`,
      access: 'user',
      summary: `Revoke a public link to a ${noun}`,
      responses: { 204: 'Revoked' },
      handler: revoke(itemType),
    },
  ];

  return [...routes('document', 'document (workspace members)'), ...routes('note', 'note (its owner)')];
}
