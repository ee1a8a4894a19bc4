/**
 * Prayer points and the cross-reference graph (Scribes).
 *
 * `prayer_points` is the read model of the prayer point aggregate; `sync_prayer_points` is the sync
 * feed's copy (kept by the `sync` projection, stamped with the log position of its last change).
 *
 * The graph's tables, kept by the `graph` projection, hold what related-note queries need as indexed
 * rows, so that edges are found by index lookups at query time rather than stored pair by pair:
 *  - `graph_notes`: each note's owner, title, tags and cited passages (OSIS), and whether it is deleted;
 *  - `graph_segments`: the verses a note cites, merged into disjoint ranges and cut at chapter
 *    boundaries, one row per (note, chapter, range); `chapter` is the absolute index of the chapter's
 *    first verse (domain/scripture/verse-index.ts). Shared verses and shared chapters are joins on
 *    (owner_id, chapter);
 *  - `graph_links`: the Treasury of Scripture Knowledge links out of the verses a note cites, one row
 *    per (note, from verse, to verse), with the target's chapter so that "which notes cite the target"
 *    is the same (owner_id, chapter) lookup, and "which notes link into these verses" is a range scan of
 *    (owner_id, to_verse).
 * Rows of a deleted note stay, flagged, so that a restore needs nothing but the flag; the partial
 * indexes leave them out.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE prayer_points (
      id          uuid PRIMARY KEY,
      owner_id    uuid NOT NULL,
      title       text NOT NULL,
      details     text NOT NULL,
      note_ids    text[] NOT NULL,
      passages    text[] NOT NULL,
      status      text NOT NULL CHECK (status IN ('open', 'answered')),
      answered_at timestamptz,
      testimony   text,
      revision    bigint NOT NULL,
      created_at  timestamptz NOT NULL,
      updated_at  timestamptz NOT NULL,
      deleted     boolean NOT NULL DEFAULT false
    );
    CREATE INDEX prayer_points_by_owner ON prayer_points (owner_id, updated_at DESC, id DESC) WHERE NOT deleted;
    CREATE INDEX prayer_points_by_owner_status ON prayer_points (owner_id, status, updated_at DESC, id DESC) WHERE NOT deleted;

    CREATE TABLE sync_prayer_points (
      id          uuid PRIMARY KEY,
      owner_id    uuid NOT NULL,
      title       text NOT NULL,
      details     text NOT NULL,
      note_ids    text[] NOT NULL,
      passages    text[] NOT NULL,
      status      text NOT NULL,
      answered_at timestamptz,
      testimony   text,
      revision    bigint NOT NULL,
      created_at  timestamptz NOT NULL,
      updated_at  timestamptz NOT NULL,
      deleted     boolean NOT NULL DEFAULT false,
      position    text COLLATE "C" NOT NULL,
      changed_at  timestamptz NOT NULL
    );
    CREATE INDEX sync_prayer_points_by_owner_position ON sync_prayer_points (owner_id, position);

    CREATE TABLE graph_notes (
      note_id   uuid PRIMARY KEY,
      owner_id  uuid NOT NULL,
      title     text NOT NULL,
      tags      text[] NOT NULL,
      scripture text[] NOT NULL,
      deleted   boolean NOT NULL DEFAULT false,
      revision  bigint NOT NULL
    );
    CREATE INDEX graph_notes_tags ON graph_notes USING gin (tags) WHERE NOT deleted;

    CREATE TABLE graph_segments (
      note_id  uuid NOT NULL,
      owner_id uuid NOT NULL,
      chapter  integer NOT NULL,
      first    integer NOT NULL,
      last     integer NOT NULL,
      deleted  boolean NOT NULL DEFAULT false,
      revision bigint NOT NULL,
      PRIMARY KEY (note_id, chapter, first)
    );
    CREATE INDEX graph_segments_by_chapter ON graph_segments (owner_id, chapter) INCLUDE (first, last, note_id) WHERE NOT deleted;

    CREATE TABLE graph_links (
      note_id    uuid NOT NULL,
      owner_id   uuid NOT NULL,
      from_verse integer NOT NULL,
      to_verse   integer NOT NULL,
      to_chapter integer NOT NULL,
      weight     smallint NOT NULL,
      deleted    boolean NOT NULL DEFAULT false,
      revision   bigint NOT NULL,
      PRIMARY KEY (note_id, from_verse, to_verse)
    );
    CREATE INDEX graph_links_by_target ON graph_links (owner_id, to_verse) INCLUDE (note_id, from_verse, weight) WHERE NOT deleted;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS graph_links, graph_segments, graph_notes, sync_prayer_points, prayer_points');
}
