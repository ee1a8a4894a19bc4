/**
 * Reminder commands: set a reminder on one of my notes (its note must exist and be mine: anything else
 * is the same 404), cancel it, review a spaced one (scheduled with my target retention, read from my
 * settings stream so the rating is decided on what I last set, not a lagging read model), and my
 * reminder settings: the target retention and the notification channels. A webhook's secret is sealed
 * here (infra/security/secret-box.ts) before it reaches the domain, so the log only ever holds it
 * sealed; the same secret sent again keeps its stored sealed form, so an unchanged PUT records nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import { reminderDecider, reminderStreamId, type ExistingReminder, type NoteAccess, type Reminder } from '../../domain/reminders/reminder';
import { reminderSettingsDecider, reminderSettingsStreamId, type ReminderSettings, type Webhook, webhookSecretContext } from '../../domain/reminders/reminder-settings';
import type { EventStore } from '../../infra/event-store/event-store';
import { Problem } from '../../infra/http/problem';
import type { SecretBox } from '../../infra/security/secret-box';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { handleCommand, loadAggregate, type CommandResult } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';
import { createReminderBody, notificationChannelsBody, reminderSettingsBody, reviewBody } from './reminder-schemas';

export interface RemindersDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  /** Whether e-mail can be sent at all (SMTP configured): e-mail delivery is refused otherwise. */
  readonly emailAvailable: boolean;
  /** Seals webhook secrets before they go into the log. */
  readonly secrets: SecretBox;
}

const NOT_FOUND = 'REMINDER.NOT_FOUND';

export function reminderView(reminder: ExistingReminder, revision: bigint) {
  return {
    id: reminder.id,
    noteId: reminder.noteId,
    kind: reminder.kind,
    status: reminder.status,
    at: reminder.at,
    rule: reminder.rule,
    timezone: reminder.timezone,
    nextDueAt: reminder.status === 'active' ? reminder.nextDueAt : null,
    awaitingReview: reminder.kind === 'spaced' && reminder.lastFiredFor !== null && reminder.lastFiredFor === reminder.nextDueAt,
    lastFiredAt: reminder.lastFiredAt,
    reviews: reminder.reviews,
    stability: reminder.card?.stability ?? null,
    difficulty: reminder.card?.difficulty ?? null,
    createdAt: reminder.createdAt,
    revision: Number(revision),
  };
}

export function settingsView(settings: ReminderSettings) {
  return { targetRetention: settings.targetRetention, webhook: settings.webhook ? { url: settings.webhook.url, hasSecret: true } : null, email: settings.email };
}

export function remindersRoutes(deps: RemindersDeps): RouteSpec[] {
  const { store, clock } = deps;

  function sendReminder(res: Response, status: number, result: CommandResult<Reminder>, location?: string) {
    if (result.state.status === 'none' || typeof result.revision !== 'bigint') throw new Problem('not_found', NOT_FOUND, 'no such reminder');
    respond(res, status, reminderView(result.state, result.revision), { revision: result.revision, position: result.position, ...(location ? { location } : {}) });
  }

  async function noteAccess(noteId: string, actorId: string): Promise<NoteAccess> {
    const { state } = await loadAggregate(store, noteStreamId(noteId), noteDecider);
    if (state.status === 'none' || state.ownerId !== actorId) return 'none';
    return state.status === 'deleted' ? 'deleted' : 'owned';
  }

  async function create(req: Request, res: Response) {
    const noteId = pathId(req, 'id', 'NOTE.NOT_FOUND');
    const body = parseRequest(createReminderBody, req.body, 'body');
    const actorId = actorOf(req);
    const note = await noteAccess(noteId, actorId);
    const now = clock();
    const reminderId = randomUUID();
    const result = await handleCommand(
      store,
      reminderStreamId(reminderId),
      reminderDecider,
      { type: 'ScheduleReminder', reminderId, noteId, note, kind: body.kind, at: body.at, rule: body.rule, timezone: body.timezone, actorId, now: now.toISOString() },
      commandContext(req, now),
      { expectedRevision: 'no_stream' },
    );
    sendReminder(res, 201, result, `/api/reminders/${reminderId}`);
  }

  async function cancel(req: Request, res: Response) {
    const reminderId = pathId(req, 'id', NOT_FOUND);
    const actorId = actorOf(req);
    const now = clock();
    const result = await handleCommand(store, reminderStreamId(reminderId), reminderDecider, { type: 'CancelReminder', actorId, now: now.toISOString() }, commandContext(req, now));
    respond(res, 204, undefined, { position: result.position });
  }

  async function review(req: Request, res: Response) {
    const reminderId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(reviewBody, req.body, 'body');
    const actorId = actorOf(req);
    const { state: settings } = await loadAggregate(store, reminderSettingsStreamId(actorId), reminderSettingsDecider);
    const now = clock();
    const result = await handleCommand(
      store,
      reminderStreamId(reminderId),
      reminderDecider,
      { type: 'ReviewReminder', rating: body.rating, targetRetention: settings.targetRetention, actorId, now: now.toISOString() },
      commandContext(req, now),
    );
    if (result.state.status === 'none' || typeof result.revision !== 'bigint') throw new Problem('not_found', NOT_FOUND, 'no such reminder');
    respond(res, 200, { ...reminderView(result.state, result.revision), rating: body.rating, reviewedAt: now.toISOString(), targetRetention: settings.targetRetention }, { revision: result.revision, position: result.position });
  }

  async function setRetention(req: Request, res: Response) {
    const body = parseRequest(reminderSettingsBody, req.body, 'body');
    const userId = actorOf(req);
    const now = clock();
    const result = await handleCommand(
      store,
      reminderSettingsStreamId(userId),
      reminderSettingsDecider,
      { type: 'SetTargetRetention', userId, targetRetention: body.targetRetention, now: now.toISOString() },
      commandContext(req, now),
    );
    respond(res, 200, settingsView(result.state), { position: result.position });
  }

  async function setChannels(req: Request, res: Response) {
    const body = parseRequest(notificationChannelsBody, req.body, 'body');
    const userId = actorOf(req);
    let webhook: Webhook | null = null;
    if (body.webhook) {
      const context = webhookSecretContext(userId);
      const { state } = await loadAggregate(store, reminderSettingsStreamId(userId), reminderSettingsDecider);
      const stored = state.webhook?.sealedSecret;
      const sealedSecret = stored !== undefined && deps.secrets.holds(stored, context, body.webhook.secret) ? stored : deps.secrets.seal(body.webhook.secret, context);
      webhook = { url: body.webhook.url, sealedSecret };
    }
    const now = clock();
    const result = await handleCommand(
      store,
      reminderSettingsStreamId(userId),
      reminderSettingsDecider,
      { type: 'SetNotificationChannels', userId, webhook, email: body.email, emailAvailable: deps.emailAvailable, now: now.toISOString() },
      commandContext(req, now),
    );
    respond(res, 200, settingsView(result.state), { position: result.position });
  }

  return [
    { method: 'post', path: '/api/notes/:id/reminders', access: 'user', summary: 'Set a reminder on my note (spaced, once or recurring)', body: createReminderBody, responses: { 201: 'The reminder (Location)' }, handler: create },
    { method: 'delete', path: '/api/reminders/:id', access: 'user', summary: 'Cancel a reminder', responses: { 204: 'Cancelled' }, handler: cancel },
    { method: 'post', path: '/api/reminders/:id/review', access: 'user', summary: 'Rate my recall of a spaced reminder (FSRS); answers the next due time', body: reviewBody, responses: { 200: '{id, nextDueAt, ...}' }, handler: review },
    { method: 'put', path: '/api/me/reminder-settings', access: 'user', summary: 'Set my FSRS target retention (0.7 to 0.97, default 0.9)', body: reminderSettingsBody, responses: { 200: '{targetRetention, webhook, email}' }, handler: setRetention },
    { method: 'put', path: '/api/me/notification-channels', access: 'user', summary: 'Set where my notifications go besides the inbox (webhook, e-mail)', body: notificationChannelsBody, responses: { 200: '{targetRetention, webhook: {url, hasSecret} | null, email} (the secret is never answered)' }, handler: setChannels },
  ];
}
