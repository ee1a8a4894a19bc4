/**
 * Notes (Scribes): the `notes` read model (current state, searchable, with the passages it cites as OSIS
 * text), `note_passages` (one row per cited passage as an absolute verse range, GiST-indexed, so passage
 * search is range overlap `&&`, an index lookup), `note_versions` and `note_labels` (the same version
 * list and named versions documents have), and `sync_notes`, the sync feed's copy of a user's notes.
 *
 * Verse numbers are domain/scripture/verse-index.ts's absolute indexes (Gen.1.1 = 1 .. Rev.22.21); a
 * passage is the inclusive range of its verses, stored canonically as int4range '[first,last+1)'.
 *
 * When the btree_gist extension can be had (it is a trusted extension: a database owner may create it),
 * passages are also indexed on (owner_id, verses), so one user's passage search never reads another's
 * rows. Without it (the embedded PGlite build loads no contrib extension unless asked), the GiST index on
 * verses alone serves and owner_id is a filter. The extension is created in `public`, never in a
 * service schema, so that dropping one schema (tests give each file its own) cannot drop it for others.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE notes (
      id         uuid PRIMARY KEY,
      owner_id   uuid NOT NULL,
      title      text,
      content    text,
      date_time  timestamptz NOT NULL,
      tags       text[] NOT NULL,
      topics     text[] NOT NULL,
      scripture  text[] NOT NULL,
      revision   bigint NOT NULL,
      created_at timestamptz,
      updated_at timestamptz,
      deleted    boolean NOT NULL DEFAULT false,
      -- Like documents: the title and the first 100,000 characters (a tsvector holds at most 1 MB).
      search     tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(title, '') || ' ' || left(coalesce(content, ''), 100000))) STORED
    );
    CREATE INDEX notes_by_owner_date ON notes (owner_id, date_time DESC, id DESC);
    CREATE INDEX notes_search ON notes USING gin (search);
    CREATE INDEX notes_tags ON notes USING gin (tags);
    CREATE INDEX notes_topics ON notes USING gin (topics);

    CREATE TABLE note_passages (
      note_id  uuid NOT NULL,
      owner_id uuid NOT NULL,
      osis     text NOT NULL,
      verses   int4range NOT NULL,
      -- Set while the note is deleted: passage search leaves these out unless deleted notes are asked for.
      deleted  boolean NOT NULL DEFAULT false,
      PRIMARY KEY (note_id, osis)
    );
    CREATE INDEX note_passages_verses ON note_passages USING gist (verses);

    CREATE TABLE note_versions (
      note_id         uuid NOT NULL,
      revision        bigint NOT NULL,
      change          text NOT NULL CHECK (change IN ('created', 'edited', 'deleted', 'restored', 'scripture')),
      at              timestamptz NOT NULL,
      by              uuid NOT NULL,
      title           text NOT NULL,
      size            integer NOT NULL,
      size_delta      integer NOT NULL,
      title_changed   boolean NOT NULL,
      content_changed boolean NOT NULL,
      PRIMARY KEY (note_id, revision)
    );

    CREATE TABLE note_labels (
      note_id        uuid NOT NULL,
      label_revision bigint NOT NULL,  -- revision of the labels stream: the row's identity
      revision       bigint NOT NULL,  -- the note revision it names
      label          text,
      named_at       timestamptz NOT NULL,
      named_by       uuid NOT NULL,
      PRIMARY KEY (note_id, label_revision)
    );

    CREATE TABLE sync_notes (
      id         uuid PRIMARY KEY,
      owner_id   uuid NOT NULL,
      title      text NOT NULL,
      content    text NOT NULL,
      date_time  timestamptz NOT NULL,
      tags       text[] NOT NULL,
      topics     text[] NOT NULL,
      scripture  text[] NOT NULL,
      revision   bigint NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deleted    boolean NOT NULL DEFAULT false,
      position   text COLLATE "C" NOT NULL,
      changed_at timestamptz NOT NULL
    );
    CREATE INDEX sync_notes_by_owner_position ON sync_notes (owner_id, position);
  `);
  // The (owner_id, verses) index, when btree_gist is there or can be created (see above). A failure here
  // (no such extension in this build, no privilege, a concurrent creation) only leaves that index out.
  await knex.raw(`
    DO $$
    BEGIN
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
          CREATE EXTENSION btree_gist SCHEMA public;
        END IF;
        CREATE INDEX note_passages_owner_verses ON note_passages USING gist (owner_id, verses);
      EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'note_passages_owner_verses not created: %', SQLERRM;
      END;
    END
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS sync_notes, note_labels, note_versions, note_passages, notes');
}
