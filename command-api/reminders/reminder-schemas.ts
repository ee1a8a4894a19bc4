/** Request bodies of the reminder routes (rule grammar in domain/reminders/recurrence.ts). */
import { z } from 'zod';

export const createReminderBody = z.strictObject({
  kind: z.enum(['spaced', 'once', 'recurring']),
  /** once: when it fires; recurring: not before; spaced: first due (default a day from now). */
  at: z.iso.datetime({ offset: true }).optional(),
  /** recurring only, e.g. `FREQ=WEEKLY;BYDAY=SU;BYHOUR=8;BYMINUTE=0`. */
  rule: z.string().min(1).max(200).optional(),
  /** IANA time zone, e.g. `Europe/Berlin` (required for recurring). */
  timezone: z.string().min(1).max(64).optional(),
});

export const reviewBody = z.strictObject({ rating: z.enum(['again', 'hard', 'good', 'easy']) });

export const reminderSettingsBody = z.strictObject({ targetRetention: z.number().min(0.7).max(0.97) });

const webhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2_000)
  .refine((value) => !/^[a-z]+:\/\/[^/]*@/i.test(value), { message: 'credentials in the URL are not allowed' });

export const notificationChannelsBody = z.strictObject({
  /** null: no webhook. The secret signs each delivery (HMAC-SHA256); it is never shown again. */
  webhook: z.strictObject({ url: webhookUrl, secret: z.string().min(16).max(256) }).nullable(),
  /** Also send each notification by e-mail to the account's address (needs SMTP_URL on the server). */
  email: z.boolean(),
});
