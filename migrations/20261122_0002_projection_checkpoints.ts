/**
 * One row per projection: how far into the log it has applied, written in the same transaction as
 * the projection's rows, and the last error it met (for `projections status`).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE projection_checkpoints (
      projection   text PRIMARY KEY,
      position     text,            -- NULL: nothing applied yet
      events_seen  bigint NOT NULL DEFAULT 0,
      updated_at   timestamptz NOT NULL DEFAULT now(),
      last_error   text,
      last_error_at timestamptz
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS projection_checkpoints');
}
