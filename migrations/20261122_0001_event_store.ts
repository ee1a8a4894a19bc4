/**
 * The PostgreSQL event store: one row per event, one row per stream holding its revision, and one
 * function that appends a batch in a single round trip.
 *
 * Global order is (transaction_id, global_position). A sequence value is taken before its transaction
 * commits, so ordering by the sequence alone lets a reader pass an event that commits late. Readers
 * therefore only read events whose transaction id is below the oldest transaction still running
 * (pg_snapshot_xmin): every such transaction has finished, so nothing can appear behind a reader later.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE streams (
      stream_id text PRIMARY KEY,
      revision  bigint NOT NULL
    );

    CREATE TABLE events (
      global_position bigint GENERATED ALWAYS AS IDENTITY,
      transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id       text NOT NULL,
      stream_revision bigint NOT NULL,
      event_id        uuid NOT NULL,
      event_type      text NOT NULL,
      data            jsonb NOT NULL,
      metadata        jsonb NOT NULL,
      recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (stream_id, stream_revision),
      CONSTRAINT events_event_id_unique UNIQUE (event_id)
    );

    CREATE UNIQUE INDEX events_global_order ON events (transaction_id, global_position);

    -- What became of ids that were already written: 'retry' when they are exactly this append (same
    -- stream, contiguous, same order, same type and data, at a place the expected revision allows),
    -- 'wrong_expected_version' when they are this append at another place, 'event_id_conflict' when
    -- they are other events. No row when none of the ids was written.
    CREATE FUNCTION classify_written_ids(
      p_stream text, p_expected text, p_expected_revision bigint, p_ids uuid[], p_types text[], p_data jsonb[]
    ) RETURNS TABLE (outcome text, actual_revision bigint, next_revision bigint, tx_id xid8, last_position bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      n bigint := cardinality(p_ids);
      first_revision bigint;
      found_count bigint;
      match_count bigint;
      current_revision bigint;
    BEGIN
      SELECT e.stream_revision INTO first_revision FROM events e WHERE e.event_id = p_ids[1] AND e.stream_id = p_stream;
      SELECT count(*),
             count(*) FILTER (WHERE e.stream_id = p_stream AND e.stream_revision = first_revision + o.ord - 1
                                AND e.event_type = p_types[o.ord] AND e.data = p_data[o.ord])
        INTO found_count, match_count
        FROM unnest(p_ids) WITH ORDINALITY AS o(id, ord)
        JOIN events e ON e.event_id = o.id;
      IF found_count = 0 THEN
        RETURN;
      END IF;
      SELECT s.revision INTO current_revision FROM streams s WHERE s.stream_id = p_stream;
      IF match_count < n THEN
        RETURN QUERY SELECT 'event_id_conflict'::text, coalesce(current_revision, -1), NULL::bigint, NULL::xid8, NULL::bigint;
      ELSIF p_expected IN ('any', 'stream_exists')
         OR (p_expected = 'no_stream' AND first_revision = 0)
         OR (p_expected = 'exact' AND first_revision = p_expected_revision + 1) THEN
        RETURN QUERY SELECT 'retry'::text, current_revision, e.stream_revision, e.transaction_id, e.global_position
          FROM events e WHERE e.stream_id = p_stream AND e.stream_revision = first_revision + n - 1;
      ELSE
        RETURN QUERY SELECT 'wrong_expected_version'::text, coalesce(current_revision, -1), NULL::bigint, NULL::xid8, NULL::bigint;
      END IF;
    END;
    $fn$;

    -- Appends a batch in one round trip. Outcomes: 'ok' (written), and those of classify_written_ids,
    -- plus 'wrong_expected_version' with actual_revision = -1 when the stream does not exist. Ids
    -- already used elsewhere raise a unique violation, which the adapter classifies.
    CREATE FUNCTION append_to_stream(
      p_stream text, p_expected text, p_expected_revision bigint,
      p_ids uuid[], p_types text[], p_data jsonb[], p_metadata jsonb[]
    ) RETURNS TABLE (outcome text, actual_revision bigint, next_revision bigint, tx_id xid8, last_position bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      n bigint := cardinality(p_ids);
      new_revision bigint;
      current_revision bigint;
    BEGIN
      -- An exact or no_stream retry fails the revision check below and is classified there; only
      -- any and stream_exists, which cannot fail it, look for their ids first.
      IF p_expected IN ('any', 'stream_exists') THEN
        RETURN QUERY SELECT * FROM classify_written_ids(p_stream, p_expected, p_expected_revision, p_ids, p_types, p_data);
        IF FOUND THEN
          RETURN;
        END IF;
      END IF;

      IF p_expected = 'exact' THEN
        UPDATE streams SET revision = revision + n
         WHERE stream_id = p_stream AND revision = p_expected_revision
         RETURNING revision INTO new_revision;
      ELSIF p_expected = 'no_stream' THEN
        INSERT INTO streams (stream_id, revision) VALUES (p_stream, n - 1)
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING revision INTO new_revision;
      ELSIF p_expected = 'stream_exists' THEN
        UPDATE streams SET revision = revision + n WHERE stream_id = p_stream
         RETURNING revision INTO new_revision;
      ELSIF p_expected = 'any' THEN
        INSERT INTO streams (stream_id, revision) VALUES (p_stream, n - 1)
        ON CONFLICT (stream_id) DO UPDATE SET revision = streams.revision + n
        RETURNING revision INTO new_revision;
      ELSE
        RAISE EXCEPTION 'unknown expected revision kind %', p_expected;
      END IF;

      IF new_revision IS NULL THEN
        -- Lost a race; the winner has committed by now (we waited on its row lock). It may have been
        -- this very append, sent twice.
        RETURN QUERY SELECT * FROM classify_written_ids(p_stream, p_expected, p_expected_revision, p_ids, p_types, p_data);
        IF FOUND THEN
          RETURN;
        END IF;
        SELECT revision INTO current_revision FROM streams WHERE stream_id = p_stream;
        RETURN QUERY SELECT 'wrong_expected_version'::text, coalesce(current_revision, -1), NULL::bigint, NULL::xid8, NULL::bigint;
        RETURN;
      END IF;

      RETURN QUERY
        INSERT INTO events (stream_id, stream_revision, event_id, event_type, data, metadata)
        SELECT p_stream, new_revision - n + o.ord, o.id, o.type, o.data, o.metadata
          FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS o(id, type, data, metadata, ord)
         ORDER BY o.ord
        RETURNING 'ok'::text, new_revision, new_revision, events.transaction_id, events.global_position;
    END;
    $fn$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP FUNCTION IF EXISTS append_to_stream(text, text, bigint, uuid[], text[], jsonb[], jsonb[]);
    DROP FUNCTION IF EXISTS classify_written_ids(text, text, bigint, uuid[], text[], jsonb[]);
    DROP TABLE IF EXISTS events;
    DROP TABLE IF EXISTS streams;
  `);
}
