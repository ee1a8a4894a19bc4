/**
 * Idempotency keys (draft-ietf-httpapi-idempotency-key-header): one row per key a signed-in user sent
 * with a mutating request, holding the request's fingerprint and, once the handler answered, the
 * answer to replay. Operational state, not history: rows expire and are purged, so it lives beside the
 * log, not in it. The table is owned by infra/http/idempotency.ts.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- A key is the user's own: two users may choose the same one. state 'in_flight' is a lock held
    -- by the request that runs the handler (locked_at: when it was taken, also the fence that keeps a
    -- request whose lock was taken over from writing its answer); 'completed' holds the answer.
    -- A 5xx answer deletes the row instead, so the client's retry runs again.
    CREATE TABLE idempotency_keys (
      user_id          text NOT NULL,
      key              text NOT NULL,
      request_hash     text NOT NULL,   -- SHA-256 (hex) of method, path and canonical JSON body
      state            text NOT NULL CHECK (state IN ('in_flight', 'completed')),
      response_status  integer,
      response_headers jsonb,
      response_body    bytea,
      created_at       timestamptz NOT NULL,
      locked_at        timestamptz,
      expires_at       timestamptz NOT NULL,
      PRIMARY KEY (user_id, key),
      CHECK (state = 'completed' OR locked_at IS NOT NULL),
      CHECK (state = 'in_flight' OR (response_status IS NOT NULL AND response_headers IS NOT NULL AND response_body IS NOT NULL))
    );
    CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS idempotency_keys');
}
