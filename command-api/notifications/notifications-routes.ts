/**
 * Notification commands: mark one of my notifications read. Whose it is comes from the inbox read
 * model (the notification was shown from there); anyone else's is the same 404 as a missing one.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { notificationDecider, notificationStreamId } from '../../domain/notifications/notification';
import type { EventStore } from '../../infra/event-store/event-store';
import type { RouteSpec } from '../../infra/http/routes';
import { handleCommand } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';

export interface NotificationsDeps {
  readonly store: EventStore;
  readonly db: Knex;
  readonly clock: () => Date;
}

export function notificationsRoutes(deps: NotificationsDeps): RouteSpec[] {
  const { clock } = deps;

  async function markRead(req: Request, res: Response) {
    const notificationId = pathId(req, 'id', 'NOTIFICATION.NOT_FOUND');
    const actorId = actorOf(req);
    const row = await deps.db('notifications').where({ id: notificationId }).first<{ user_id: string } | undefined>('user_id');
    const now = clock();
    const result = await handleCommand(
      deps.store,
      notificationStreamId(notificationId),
      notificationDecider,
      { type: 'MarkNotificationRead', notificationId, recipientId: row?.user_id ?? null, actorId, now: now.toISOString() },
      commandContext(req, now),
    );
    const readAt = result.state.status === 'read' ? result.state.readAt : now.toISOString();
    respond(res, 200, { id: notificationId, read: true, readAt }, { position: result.position });
  }
  return [{ method: 'post', path: '/api/notifications/:id/read', access: 'user', summary: 'Mark one of my notifications read', responses: { 200: '{id, read, readAt}' }, handler: markRead }];
}
