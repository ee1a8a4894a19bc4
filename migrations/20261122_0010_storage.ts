/**
 * Attachments and exports on object storage: the `attachments` read model (live and removed ones, the
 * latter until their object is deleted), `storage_deletions` (objects a reactor still has to delete),
 * the `exports` read model (status, progress, where the file is) and `export_jobs` (exports a reactor
 * still has to build, with a lease so that of several projector processes one builds each), and
 * `upload_intents`, operational state of the command side: every signed upload, so that objects
 * uploaded but never completed can be found and deleted once their URLs are long expired. The job
 * tables are written by the projections alone (a row appears with the event that asks for the work
 * and goes with the event that records it done), so a rebuild from the log recreates exactly the
 * work still pending; the reactors keep their leases apart, in `job_leases`.
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
      requested_at  timestamptz NOT NULL
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

    CREATE TABLE upload_intents (
      key           text PRIMARY KEY,
      owner_id      uuid NOT NULL,
      expires_at    timestamptz NOT NULL,
      lease_until   timestamptz
    );
    CREATE INDEX upload_intents_expiry ON upload_intents (expires_at);

    CREATE TABLE export_jobs (
      export_id     uuid PRIMARY KEY,
      owner_id      uuid NOT NULL,
      format        text NOT NULL,
      scope         jsonb NOT NULL,
      requested_at  timestamptz NOT NULL
    );

    -- The reactors' leases on those jobs: operational state beside the read models, not part of them
    -- (so that verify and rebuild, which compare and recreate projection tables, never see it).
    CREATE TABLE job_leases (
      job           text PRIMARY KEY,  -- 'export:<id>' or 'deletion:<attachment id>'
      lease_until   timestamptz NOT NULL,
      attempts      integer NOT NULL
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS job_leases, export_jobs, upload_intents, exports, storage_deletions, attachments');
}
