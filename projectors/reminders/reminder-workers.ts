/**
 * The reminder and notification workers of the projectors part, built from the configuration: the
 * dispatcher that fires due reminders and the worker that delivers notifications by webhook and
 * e-mail. Every projector process runs both; the dispatcher's revision-checked appends and the
 * delivery worker's row claims make that safe.
 */
import type { Knex } from 'knex';
import type { Config } from '../../infra/config/config';
import type { EventStore } from '../../infra/event-store/event-store';
import type { Logger } from '../../infra/logging/logger';
import type { SecretBox } from '../../infra/security/secret-box';
import { createMailer } from '../../infra/mail/mailer';
import type { Wakeups } from '../../infra/wakeups/wakeups';
import { WebhookSender } from '../../infra/webhooks/webhook-sender';
import { NotificationDelivery } from '../notifications/notification-delivery';
import { ReminderDispatcher } from './reminder-dispatcher';

export interface ReminderWorkers {
  readonly dispatcher: ReminderDispatcher;
  readonly delivery: NotificationDelivery;
  stop(): Promise<void>;
}

export function startReminderWorkers(deps: { store: EventStore; db: Knex; wakeups: Wakeups; clock: () => Date; logger: Logger; config: Config; secrets: SecretBox }): ReminderWorkers {
  const { config } = deps;
  const dispatcher = new ReminderDispatcher({
    store: deps.store,
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger.child({ worker: 'reminder-dispatcher' }),
    wakeups: deps.wakeups,
    intervalMs: config.REMINDER_DISPATCH_INTERVAL_MS,
    concurrency: config.REMINDER_DISPATCH_CONCURRENCY,
  });
  const mailer = config.SMTP_URL ? createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, timeoutMs: config.WEBHOOK_TIMEOUT_MS }) : undefined;
  const delivery = new NotificationDelivery({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger.child({ worker: 'notification-delivery' }),
    webhooks: new WebhookSender({ timeoutMs: config.WEBHOOK_TIMEOUT_MS, allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS }),
    mailer,
    secrets: deps.secrets,
    intervalMs: config.NOTIFICATION_DELIVERY_INTERVAL_MS,
    maxAttempts: config.NOTIFICATION_DELIVERY_MAX_ATTEMPTS,
    retryBaseMs: config.NOTIFICATION_RETRY_BASE_MS,
    retryMaxMs: config.NOTIFICATION_RETRY_MAX_MS,
  });
  dispatcher.start();
  delivery.start();
  return {
    dispatcher,
    delivery,
    async stop() {
      await Promise.all([dispatcher.stop(), delivery.stop()]);
      mailer?.close();
    },
  };
}
