/**
 * Sharing notes and prayer points with circles, read-only, and praying for shared prayer points.
 * These routes look up what the shared-item decider needs from the log itself (the item's owner from
 * its stream, circle membership from the circle's stream), so a share never rests on a lagging read
 * model. Shares and unshares wait for the query side and the sync feed before answering: an unshared
 * item is gone from members' next `GET /api/shared` and next pull.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { circleDecider, circleStreamId, isCircleMember } from '../../domain/circles/circle';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import { prayerPointDecider, prayerPointStreamId } from '../../domain/prayer-points/prayer-point';
import { sharedItemDecider, sharedItemStreamId, type ShareableType, type SharedItem } from '../../domain/shares/shared-item';
import type { EventStore } from '../../infra/event-store/event-store';
import type { LogPosition } from '../../infra/event-store/log-position';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { Logger } from '../../infra/logging/logger';
import type { ProjectionProgress } from '../../projectors/runtime/projection-progress';
import { MEMBERSHIP_PROJECTIONS } from '../circles/circles-routes';
import { handleCommand, loadAggregate } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';

export interface SharesDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly progress: ProjectionProgress;
  readonly logger: Logger;
  readonly waitMs?: number;
}

const shareBody = z.strictObject({ circleId: z.uuid() });

const NOT_FOUND: Record<ShareableType, string> = { note: 'NOTE.NOT_FOUND', prayerPoint: 'PRAYER_POINT.NOT_FOUND' };
const BASE_PATH: Record<ShareableType, string> = { note: '/api/notes', prayerPoint: '/api/prayer-points' };
const ITEM_PROJECTION: Record<ShareableType, string> = { note: 'notes', prayerPoint: 'prayer_points' };

export function sharesRoutes(deps: SharesDeps): RouteSpec[] {
  const { store, clock } = deps;

  /** The item's owner; null when it does not exist (or, unless `deletedToo`, is deleted). */
  async function ownerOf(itemType: ShareableType, itemId: string, deletedToo: boolean): Promise<string | null> {
    const { state } =
      itemType === 'note' ? await loadAggregate(store, noteStreamId(itemId), noteDecider) : await loadAggregate(store, prayerPointStreamId(itemId), prayerPointDecider);
    if (state.status === 'none' || (!deletedToo && state.status === 'deleted')) return null;
    return state.ownerId;
  }

  async function inCircle(circleId: string, userId: string): Promise<boolean> {
    const { state } = await loadAggregate(store, circleStreamId(circleId), circleDecider);
    return isCircleMember(state, userId);
  }

  /** The query side lists shared items from the item's own read model too: wait for it as well. */
  async function awaitReaders(position: LogPosition | undefined, itemType: ShareableType): Promise<void> {
    if (!position) return;
    const projections = [...MEMBERSHIP_PROJECTIONS, ITEM_PROJECTION[itemType]];
    const reached = await deps.progress.waitFor(position, deps.waitMs ?? 5_000, { projections });
    if (!reached) deps.logger.warn({ position }, 'share change not yet visible to queries');
  }

  const share = (itemType: ShareableType) => async (req: Request, res: Response) => {
    const itemId = pathId(req, 'id', NOT_FOUND[itemType]);
    const body = parseRequest(shareBody, req.body, 'body');
    const circleId = body.circleId.toLowerCase();
    const actorId = actorOf(req);
    const now = clock();
    const [ownerId, actorInCircle] = await Promise.all([ownerOf(itemType, itemId, false), inCircle(circleId, actorId)]);
    const result = await handleCommand(
      store,
      sharedItemStreamId(itemType, itemId),
      sharedItemDecider,
      { type: 'ShareWithCircle', itemType, itemId, circleId, ownerId, actorInCircle, actorId, at: now.toISOString() },
      commandContext(req, now),
    );
    await awaitReaders(result.position, itemType);
    respond(res, 201, { itemType, itemId, circleId, sharedAt: result.state.circles[circleId] ?? now.toISOString() }, { position: result.position });
  };

  const unshare = (itemType: ShareableType) => async (req: Request, res: Response) => {
    const itemId = pathId(req, 'id', NOT_FOUND[itemType]);
    const circleId = pathId(req, 'circleId', 'SHARE.NOT_FOUND');
    const actorId = actorOf(req);
    const now = clock();
    const result = await handleCommand(
      store,
      sharedItemStreamId(itemType, itemId),
      sharedItemDecider,
      { type: 'UnshareFromCircle', itemType, itemId, circleId, ownerId: await ownerOf(itemType, itemId, true), actorId, at: now.toISOString() },
      commandContext(req, now),
    );
    await awaitReaders(result.position, itemType);
    respond(res, 204, undefined, { position: result.position });
  };

  async function prayed(req: Request, res: Response) {
    const prayerPointId = pathId(req, 'id', NOT_FOUND.prayerPoint);
    const actorId = actorOf(req);
    const now = clock();
    const ownerId = await ownerOf('prayerPoint', prayerPointId, false);
    const result = await handleCommand(
      store,
      sharedItemStreamId('prayerPoint', prayerPointId),
      sharedItemDecider,
      async (state: SharedItem) => {
        // Its owner, or a member of a circle it is shared with by an owner who still belongs there.
        let actorMayPray = ownerId === actorId;
        for (const circleId of ownerId && !actorMayPray ? Object.keys(state.circles) : []) {
          const { state: circle } = await loadAggregate(store, circleStreamId(circleId), circleDecider);
          if (isCircleMember(circle, actorId) && isCircleMember(circle, ownerId!)) {
            actorMayPray = true;
            break;
          }
        }
        return { type: 'PrayFor', prayerPointId, actorMayPray, actorId, at: now.toISOString() } as const;
      },
      commandContext(req, now),
    );
    respond(res, 201, { prayerPointId, userId: actorId, prayedAt: now.toISOString(), count: result.state.prayers }, { position: result.position });
  }

  const routes = (itemType: ShareableType, noun: string): RouteSpec[] => [
    {
      method: 'post',
      path: `${BASE_PATH[itemType]}/:id/shares`,
      access: 'user',
      summary: `Share a ${noun} read-only with a circle (its owner, a member of the circle)`,
      body: shareBody,
      responses: { 201: '{itemType, itemId, circleId, sharedAt}' },
      handler: share(itemType),
    },
    {
      method: 'delete',
      path: `${BASE_PATH[itemType]}/:id/shares/:circleId`,
      access: 'user',
      summary: `Stop sharing a ${noun} with a circle (its owner)`,
      responses: { 204: 'Unshared' },
      handler: unshare(itemType),
    },
  ];

  return [
    ...routes('note', 'note'),
    ...routes('prayerPoint', 'prayer point'),
    {
      method: 'post',
      path: '/api/prayer-points/:id/prayed',
      access: 'user',
      summary: 'Mark a prayer point as prayed for (its owner, or a member of a circle it is shared with)',
      responses: { 201: '{prayerPointId, userId, prayedAt, count}' },
      handler: prayed,
    },
  ];
}
