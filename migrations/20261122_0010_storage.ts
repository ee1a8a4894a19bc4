/**
 * Attachments and exports on object storage: the `attachments` read model (live and removed ones, the
 * latter until their object is deleted), `storage_deletions` (objects a reactor still has to delete),
 * the `exports` read model (status, progress, where the file is) and `export_jobs` (exports a reactor
 * still has to build, with a lease so that of several projector processes one builds each). The job
 * tables are written by the projections alone (a row appears with the event that asks for the work
 * and goes with the event that records it done), so a rebuild from the log recreates exactly the
 * work still pending; the reactors only touch the lease columns.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE attachments (
      id            uuid PRIMARY KEY,
      owner_id      uuid NOT NULL,
      target_kind   text NOT NULL CHECK (target_kind IN ('document', 'note')),
      target_id     uuid NOT NULL,
      workspace_id  uuid,
      key           text NOT NULL,
      file_name     text NOT NULL,
      content_type  text NOT NULL,
      size          bigint NOT NULL,
      added_at      timestamptz NOT NULL,
      removed       boolean NOT NULL DEFAULT false,
      removed_at    timestamptz,
      revision      bigint NOT NULL
    );
    CREATE INDEX attachments_by_target ON attachments (target_kind, target_id, added_at, id);
    CREATE INDEX attachments_by_owner ON attachments (owner_id);

    CREATE TABLE storage_deletions (
      attachment_id uuid PRIMARY KEY,
      owner_id      uuid NOT NULL,
      key           text NOT NULL,
      requested_at  timestamptz NOT NULL,
      lease_until   timestamptz,
      attempts      integer NOT NULL DEFAULT 0
    );

    CREATE TABLE exports (
      id            uuid PRIMARY KEY,
      owner_id      uuid NOT NULL,
      format        text NOT NULL,
      scope         jsonb NOT NULL,
      status        text NOT NULL CHECK (status IN ('requested', 'running', 'ready', 'failed', 'expired')),
      done          integer NOT NULL DEFAULT 0,
      total         integer,
      key           text,
      file_name     text,
      size          bigint,
      error_code    text,
      requested_at  timestamptz NOT NULL,
      completed_at  timestamptz,
      expires_at    timestamptz,
      revision      bigint NOT NULL
    );
    CREATE INDEX exports_by_owner ON exports (owner_id, requested_at DESC);
    CREATE INDEX exports_expiring ON exports (expires_at) WHERE status = 'ready';

    CREATE TABLE export_jobs (
      export_id     uuid PRIMARY KEY,
      owner_id      uuid NOT NULL,
      format        text NOT NULL,
      scope         jsonb NOT NULL,
      requested_at  timestamptz NOT NULL,
      lease_until   timestamptz,
      attempts      integer NOT NULL DEFAULT 0
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS export_jobs, exports, storage_deletions, attachments');
}
