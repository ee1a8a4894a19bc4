/**
 * Rows of `documents` and `notes` carry the text and its search vector, about 2.5 KB for 1 KB of
 * markdown. Past 2 KB PostgreSQL tries to compress a row's long values on every write, and for text
 * of this size the attempt mostly fails (pglz gives up when the first kilobyte yields nothing) or
 * saves little: on an edit-heavy table that is CPU spent on every update for nothing. Rows up to the
 * largest that fits a page stay as they are; longer documents are compressed and moved out of line as
 * before. `pgbench` on a copy of `documents` (docs/benchmarks.md): 2,840-3,160 updates/s before,
 * 3,570-3,700 after.
 */
import type { Knex } from 'knex';

/** The largest toast_tuple_target PostgreSQL accepts with 8 KB pages. */
const INLINE_UP_TO_BYTES = 8160;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE documents SET (toast_tuple_target = ${INLINE_UP_TO_BYTES})`);
  await knex.raw(`ALTER TABLE notes SET (toast_tuple_target = ${INLINE_UP_TO_BYTES})`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE documents RESET (toast_tuple_target)');
  await knex.raw('ALTER TABLE notes RESET (toast_tuple_target)');
}
