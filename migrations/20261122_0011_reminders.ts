/**
 * Reminders and notifications.
 * Read models of the `reminders` projection: `reminder_schedule` (one row per reminder, with the next
 * due time and `fire_at`, the time the dispatcher owes it a firing, indexed for the dispatcher's scan)
 * and `reminder_settings`. Read models of the `notifications` projection: `notifications` (the in-app
 * inbox, ordered by log position for the live stream) and `notification_channels`.
 * Operational state of the delivery worker (not rebuilt with any projection, since a rebuild must not
 * send anything twice): `notification_deliveries` (one per notification and channel, with its retry
 * schedule), `notification_delivery_attempts`, and `notification_delivery_cursor` (how far through
 * the inbox deliveries have been planned).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE reminder_schedule (
      reminder_id      uuid PRIMARY KEY,
      owner_id         uuid NOT NULL,
      note_id          uuid NOT NULL,
      kind             text NOT NULL CHECK (kind IN ('spaced', 'once', 'recurring')),
      at               timestamptz,
      rule             text,
      timezone         text,
      status           text NOT NULL CHECK (status IN ('active', 'completed', 'cancelled')),
      next_due_at      timestamptz,
      fire_at          timestamptz,
      last_fired_at    timestamptz,
      reviews          integer NOT NULL DEFAULT 0,
      stability        double precision,
      difficulty       double precision,
      last_reviewed_at timestamptz,
      note_deleted     boolean NOT NULL DEFAULT false,
      created_at       timestamptz NOT NULL,
      revision         bigint NOT NULL
    );
    CREATE INDEX reminder_schedule_fire_at ON reminder_schedule (fire_at, reminder_id) WHERE fire_at IS NOT NULL AND NOT note_deleted;
    CREATE INDEX reminder_schedule_by_owner ON reminder_schedule (owner_id, next_due_at);
    CREATE INDEX reminder_schedule_by_note ON reminder_schedule (note_id);

    CREATE TABLE reminder_settings (
      user_id          uuid PRIMARY KEY,
      target_retention double precision NOT NULL,
      revision         bigint NOT NULL
    );

    CREATE TABLE notifications (
      id          uuid PRIMARY KEY,
      user_id     uuid NOT NULL,
      kind        text NOT NULL,
      reminder_id uuid NOT NULL,
      note_id     uuid NOT NULL,
      title       text NOT NULL,
      due_at      timestamptz NOT NULL,
      created_at  timestamptz NOT NULL,
      read_at     timestamptz,
      position    text COLLATE "C" NOT NULL
    );
    CREATE INDEX notifications_by_user ON notifications (user_id, position);
    CREATE INDEX notifications_by_position ON notifications (position);

    CREATE TABLE notification_channels (
      user_id        uuid PRIMARY KEY,
      webhook_url    text,
      webhook_secret text,
      email          boolean NOT NULL,
      updated_at     timestamptz NOT NULL,
      revision       bigint NOT NULL
    );

    CREATE TABLE notification_deliveries (
      id              uuid PRIMARY KEY,
      notification_id uuid NOT NULL,
      user_id         uuid NOT NULL,
      channel         text NOT NULL CHECK (channel IN ('webhook', 'email')),
      target          text NOT NULL,
      status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      lease_until     timestamptz,
      last_error      text,
      delivered_at    timestamptz,
      created_at      timestamptz NOT NULL,
      UNIQUE (notification_id, channel)
    );
    CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX notification_deliveries_by_user ON notification_deliveries (user_id, created_at DESC);

    CREATE TABLE notification_delivery_attempts (
      delivery_id  uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
      attempt      integer NOT NULL,
      attempted_at timestamptz NOT NULL,
      ok           boolean NOT NULL,
      status_code  integer,
      error        text,
      duration_ms  integer NOT NULL,
      PRIMARY KEY (delivery_id, attempt)
    );

    CREATE TABLE notification_delivery_cursor (
      id       integer PRIMARY KEY CHECK (id = 1),
      position text COLLATE "C" NOT NULL
    );
    INSERT INTO notification_delivery_cursor (id, position) VALUES (1, '');
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'DROP TABLE IF EXISTS notification_delivery_cursor, notification_delivery_attempts, notification_deliveries, notification_channels, notifications, reminder_settings, reminder_schedule',
  );
}
