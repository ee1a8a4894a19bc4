/**
 * The notification delivery worker (projectors part): sends each notification to its recipient's
 * webhook and e-mail, and keeps every attempt where the user can see it.
 *
 * Planning: in one transaction holding the `notification_delivery_cursor` row, the inbox rows after
 * the cursor (in log order) each get one `notification_deliveries` row per channel the recipient has
 * set, and the cursor moves past them; so every notification is planned once, by one process.
 * Sending: due deliveries are claimed with a lease (`FOR UPDATE SKIP LOCKED`, so concurrent workers
 * take different rows), sent outside any transaction, and the outcome recorded: delivered, or retried
 * after an exponential backoff (`retryBaseMs` doubled per failed attempt, at most `retryMaxMs`), or
 * failed for good after `maxAttempts`. A worker killed mid-send leaves a lease that expires, and the
 * delivery is sent again: at least once, with a delivery id that is the same on every attempt.
 * All times come from the injected clock.
 */
import type { Knex } from 'knex';
import type { Logger } from '../../infra/logging/logger';
import type { Mailer } from '../../infra/mail/mailer';
import type { SecretBox } from '../../infra/security/secret-box';
import { webhookSecretContext } from '../../domain/reminders/reminder-settings';
import type { DeliveryOutcome, WebhookSender } from '../../infra/webhooks/webhook-sender';
import { WakeableSleep } from '../../infra/wakeups/wakeable-sleep';

export interface NotificationDeliveryOptions {
  readonly db: Knex;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly webhooks: WebhookSender;
  /** Opens the webhook secrets (kept sealed in the log and in `notification_channels`) to sign with. */
  readonly secrets: SecretBox;
  /** Unset: e-mail is not configured, and e-mail deliveries fail with that reason. */
  readonly mailer: Mailer | undefined;
  readonly intervalMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** How long a claimed delivery stays with its worker before another may take it. */
  readonly leaseMs?: number;
  readonly batchSize?: number;
}

interface DeliveryRow {
  id: string;
  notification_id: string;
  user_id: string;
  channel: 'webhook' | 'email';
  target: string;
  attempts: number;
}

/** What one attempt came to: `target` is where it went (a webhook's current URL); `final` failures are not retried. */
type Sent = DeliveryOutcome & { readonly target?: string; readonly final?: boolean };

interface NotificationRow {
  id: string;
  kind: string;
  reminder_id: string;
  note_id: string;
  title: string;
  due_at: Date;
  created_at: Date;
}

export class NotificationDelivery {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly pause = new WakeableSleep();

  constructor(private readonly options: NotificationDeliveryOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pause.wake();
    await this.loop;
    this.loop = undefined;
  }

  /** Plans deliveries for new notifications, then sends what is due; answers how many were attempted. */
  async tick(): Promise<{ planned: number; attempted: number }> {
    const planned = await this.plan();
    let attempted = 0;
    for (;;) {
      const claimed = await this.claim();
      if (claimed.length === 0) break;
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      attempted += claimed.length;
    }
    return { planned, attempted };
  }

  private async plan(): Promise<number> {
    const now = this.options.clock();
    let planned = 0;
    for (;;) {
      const more = await this.options.db.transaction(async (trx) => {
        const cursor = await trx('notification_delivery_cursor').where({ id: 1 }).forUpdate().first<{ position: string }>('position');
        const rows = await trx('notifications as n')
          .leftJoin('notification_channels as c', 'c.user_id', 'n.user_id')
          .leftJoin('users as u', 'u.id', 'n.user_id')
          .where('n.position', '>', cursor.position)
          .orderBy('n.position')
          .limit(500)
          .select<{ id: string; user_id: string; position: string; webhook_url: string | null; email: boolean | null; address: string | null }[]>(
            'n.id',
            'n.user_id',
            'n.position',
            'c.webhook_url',
            'c.email',
            'u.email as address',
          );
        if (rows.length === 0) return false;
        const deliveries = rows.flatMap((row) => [
          ...(row.webhook_url ? [{ channel: 'webhook', target: row.webhook_url, row }] : []),
          ...(row.email && row.address ? [{ channel: 'email', target: row.address, row }] : []),
        ]);
        if (deliveries.length > 0) {
          await trx('notification_deliveries')
            .insert(
              deliveries.map(({ channel, target, row }) => ({
                id: trx.raw('gen_random_uuid()'),
                notification_id: row.id,
                user_id: row.user_id,
                channel,
                target,
                status: 'pending',
                next_attempt_at: now,
                created_at: now,
              })),
            )
            .onConflict(['notification_id', 'channel'])
            .ignore();
        }
        await trx('notification_delivery_cursor').where({ id: 1 }).update({ position: rows[rows.length - 1]!.position });
        planned += deliveries.length;
        return rows.length === 500;
      });
      if (!more) return planned;
    }
  }

  private async claim(): Promise<DeliveryRow[]> {
    const now = this.options.clock();
    const leaseUntil = new Date(now.getTime() + (this.options.leaseMs ?? 60_000));
    const result = await this.options.db.raw<{ rows: DeliveryRow[] }>(
      `UPDATE notification_deliveries SET lease_until = ?
        WHERE id IN (SELECT id FROM notification_deliveries
                      WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                      ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING id, notification_id, user_id, channel, target, attempts`,
      [leaseUntil, now, now, this.options.batchSize ?? 50],
    );
    return result.rows;
  }

  private async attempt(delivery: DeliveryRow): Promise<void> {
    const { db, clock } = this.options;
    const at = clock();
    const started = Date.now();
    let outcome: Sent;
    try {
      outcome = await this.send(delivery, at);
    } catch (error) {
      outcome = { ok: false, statusCode: null, error: error instanceof Error ? error.message.slice(0, 300) : 'sending failed' };
    }
    const attempt = delivery.attempts + 1;
    const finalFailure = !outcome.ok && (attempt >= this.options.maxAttempts || outcome.final === true);
    const retryAt = new Date(clock().getTime() + Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (attempt - 1)));
    await db.transaction(async (trx) => {
      await trx('notification_delivery_attempts')
        .insert({ delivery_id: delivery.id, attempt, attempted_at: at, ok: outcome.ok, status_code: outcome.statusCode, error: outcome.error, duration_ms: Date.now() - started })
        .onConflict(['delivery_id', 'attempt'])
        .ignore();
      await trx('notification_deliveries')
        .where({ id: delivery.id, attempts: delivery.attempts })
        .update({
          attempts: attempt,
          status: outcome.ok ? 'delivered' : finalFailure ? 'failed' : 'pending',
          next_attempt_at: outcome.ok || finalFailure ? null : retryAt,
          lease_until: null,
          last_error: outcome.error,
          delivered_at: outcome.ok ? at : null,
          ...(outcome.target ? { target: outcome.target } : {}),
        });
    });
    if (!outcome.ok) this.options.logger.info({ deliveryId: delivery.id, channel: delivery.channel, attempt, error: outcome.error, final: finalFailure }, 'notification delivery failed');
  }

  private async send(delivery: DeliveryRow, at: Date): Promise<Sent> {
    const notification = await this.options.db('notifications').where({ id: delivery.notification_id }).first<NotificationRow | undefined>();
    if (!notification) return { ok: false, statusCode: null, error: 'the notification no longer exists', final: true };
    const payload = {
      id: notification.id,
      kind: notification.kind,
      reminderId: notification.reminder_id,
      noteId: notification.note_id,
      title: notification.title,
      dueAt: notification.due_at.toISOString(),
      createdAt: notification.created_at.toISOString(),
    };
    if (delivery.channel === 'webhook') {
      const channel = await this.options.db('notification_channels').where({ user_id: delivery.user_id }).first<{ webhook_url: string | null; webhook_secret: string | null } | undefined>();
      // The webhook may have been changed or removed since the delivery was planned: use the current one.
      if (!channel?.webhook_url) return { ok: false, statusCode: null, error: 'the webhook was removed', final: true };
      let secret: string;
      try {
        if (!channel.webhook_secret) throw new Error('no sealed secret');
        secret = this.options.secrets.open(channel.webhook_secret, webhookSecretContext(delivery.user_id));
      } catch {
        // Not the reason in detail (it names no secret anyway): a key missing from SECRETS_KEY, or a webhook set before secrets were sealed.
        this.options.logger.warn({ deliveryId: delivery.id, userId: delivery.user_id }, 'a webhook secret does not open with the configured keys');
        return { ok: false, statusCode: null, error: 'the webhook secret cannot be opened on this server: set the webhook again', final: true };
      }
      const body = JSON.stringify({ type: 'notification.created', deliveryId: delivery.id, sentAt: at.toISOString(), notification: payload });
      const outcome = await this.options.webhooks.send({ url: channel.webhook_url, secret, deliveryId: delivery.id, body, at });
      return { ...outcome, target: channel.webhook_url };
    }
    if (!this.options.mailer) return { ok: false, statusCode: null, error: 'e-mail is not configured on this server', final: true };
    await this.options.mailer.send({
      to: delivery.target,
      subject: `Reminder: ${payload.title || 'a note'}`,
      text: `Your reminder for the note "${payload.title}" came due at ${payload.dueAt}.\n\nNote: ${payload.noteId}\nReminder: ${payload.reminderId}\n`,
      messageId: `<${delivery.id}@scriptorium>`,
    });
    return { ok: true, statusCode: null, error: null };
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.tick();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'notification delivery pass failed; retrying');
      }
      if (!this.running) break;
      await this.pause.sleep(this.options.intervalMs);
    }
  }
}
