/**
 * Moving a projection's checkpoint as one statement that fails when the checkpoint was not where the
 * runner expected it. A runner can then send a whole batch, the checkpoint move and COMMIT in one
 * round trip: a checkpoint someone else moved (another runner, a rebuild's swap) aborts the
 * transaction with SQLSTATE SCR01 instead of committing rows the runner had no right to write.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION move_projection_checkpoint(p_projection text, p_expected text, p_next text, p_events_seen bigint)
    RETURNS void
    LANGUAGE plpgsql AS $fn$
    BEGIN
      IF p_expected IS NULL THEN
        INSERT INTO projection_checkpoints AS c (projection, position, events_seen, updated_at)
        VALUES (p_projection, p_next, p_events_seen, now())
        ON CONFLICT (projection) DO UPDATE
          SET position = EXCLUDED.position, events_seen = EXCLUDED.events_seen, updated_at = now(), last_error = NULL, last_error_at = NULL
        WHERE c.position IS NULL;
      ELSE
        UPDATE projection_checkpoints
           SET position = p_next, events_seen = events_seen + p_events_seen, updated_at = now(), last_error = NULL, last_error_at = NULL
         WHERE projection = p_projection AND position = p_expected;
      END IF;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'checkpoint of projection % was moved by another runner', p_projection USING ERRCODE = 'SCR01';
      END IF;
    END;
    $fn$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION IF EXISTS move_projection_checkpoint(text, text, text, bigint)');
}
