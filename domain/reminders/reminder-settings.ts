/**
 * A user's reminder settings: the FSRS target retention their reviews are scheduled with, and where
 * notifications go besides the in-app inbox (a webhook signed with their secret, e-mail to their
 * account address). One stream per user. The webhook secret is kept here because the delivery worker
 * needs it to sign, but only sealed (an opaque string the command side made with its secret box; the
 * domain never sees the secret itself, so the log never holds it); no query ever answers it.
 */
import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';
import { DEFAULT_TARGET_RETENTION, MAX_TARGET_RETENTION, MIN_TARGET_RETENTION } from './spaced-repetition';

export const reminderSettingsStreamId = (userId: string) => `reminder_settings-${userId}`;

/** What a webhook secret is sealed for: bound to its owner, so a sealed value copied into another user's settings does not open. */
export const webhookSecretContext = (userId: string) => `webhook-secret:${userId}`;

export interface Webhook {
  readonly url: string;
  /**
   * The shared secret, sealed (infra/security/secret-box.ts: `v1:<keyId>:<iv>:<ciphertext>`). The same
   * secret sent again arrives as the same sealed string (the command side reuses the stored one).
   */
  readonly sealedSecret: string;
}

export type ReminderSettingsEvent =
  | DomainEvent<'TargetRetentionSet', { userId: string; targetRetention: number; setAt: string }>
  | DomainEvent<'NotificationChannelsSet', { userId: string; webhook: Webhook | null; email: boolean; setAt: string }>;

export interface ReminderSettings {
  readonly targetRetention: number;
  readonly webhook: Webhook | null;
  readonly email: boolean;
}

export type ReminderSettingsCommand =
  | { readonly type: 'SetTargetRetention'; readonly userId: string; readonly targetRetention: number; readonly now: string }
  | { readonly type: 'SetNotificationChannels'; readonly userId: string; readonly webhook: Webhook | null; readonly email: boolean; readonly emailAvailable: boolean; readonly now: string };

const sameWebhook = (a: Webhook | null, b: Webhook | null) => (a === null ? b === null : b !== null && a.url === b.url && a.sealedSecret === b.sealedSecret);

export const reminderSettingsDecider: Decider<ReminderSettingsCommand, ReminderSettingsEvent, ReminderSettings> = {
  initialState: { targetRetention: DEFAULT_TARGET_RETENTION, webhook: null, email: false },

  decide(command, state) {
    switch (command.type) {
      case 'SetTargetRetention': {
        const { targetRetention } = command;
        if (!(targetRetention >= MIN_TARGET_RETENTION && targetRetention <= MAX_TARGET_RETENTION)) {
          throw new DomainError('invalid', 'REMINDER.INVALID_RETENTION', `target retention must be from ${MIN_TARGET_RETENTION} to ${MAX_TARGET_RETENTION}`);
        }
        if (targetRetention === state.targetRetention) return [];
        return [{ type: 'TargetRetentionSet', data: { userId: command.userId, targetRetention, setAt: command.now } }];
      }
      case 'SetNotificationChannels': {
        if (command.email && !command.emailAvailable) throw new DomainError('unprocessable', 'NOTIFICATIONS.EMAIL_NOT_CONFIGURED', 'this server has no SMTP server configured');
        if (command.email === state.email && sameWebhook(command.webhook, state.webhook)) return [];
        return [{ type: 'NotificationChannelsSet', data: { userId: command.userId, webhook: command.webhook, email: command.email, setAt: command.now } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'TargetRetentionSet':
        return { ...state, targetRetention: event.data.targetRetention };
      case 'NotificationChannelsSet':
        return { ...state, webhook: event.data.webhook, email: event.data.email };
      default:
        return unreachable(event);
    }
  },
};
