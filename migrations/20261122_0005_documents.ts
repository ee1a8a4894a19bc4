/**
 * Documents: the `documents` read model (current state, searchable), `document_versions` (one row per
 * revision: who, when, what changed), `document_labels` (named versions), and `aggregate_snapshots`,
 * the command side's cache of folded state that keeps long streams cheap to decide on.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE documents (
      id           uuid PRIMARY KEY,
      workspace_id uuid NOT NULL,
      title        text NOT NULL,
      content      text NOT NULL,
      revision     bigint NOT NULL,
      created_at   timestamptz NOT NULL,
      updated_at   timestamptz NOT NULL,
      created_by   uuid NOT NULL,
      updated_by   uuid NOT NULL,
      deleted      boolean NOT NULL DEFAULT false,
      -- Search covers the title and the first 100,000 characters (a tsvector holds at most 1 MB).
      search       tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || left(content, 100000))) STORED
    );
    CREATE INDEX documents_by_workspace ON documents (workspace_id, updated_at DESC, id DESC);
    CREATE INDEX documents_search ON documents USING gin (search);

    CREATE TABLE document_versions (
      document_id     uuid NOT NULL,
      revision        bigint NOT NULL,
      change          text NOT NULL CHECK (change IN ('created', 'edited', 'deleted', 'restored')),
      at              timestamptz NOT NULL,
      by              uuid NOT NULL,
      title           text NOT NULL,
      size            integer NOT NULL,
      size_delta      integer NOT NULL,
      title_changed   boolean NOT NULL,
      content_changed boolean NOT NULL,
      PRIMARY KEY (document_id, revision)
    );

    CREATE TABLE document_labels (
      document_id uuid NOT NULL,
      label_revision bigint NOT NULL,  -- revision of the labels stream: the row's identity
      revision    bigint NOT NULL,     -- the document revision it names
      label       text,
      named_at    timestamptz NOT NULL,
      named_by    uuid NOT NULL,
      PRIMARY KEY (document_id, label_revision)
    );

    CREATE TABLE aggregate_snapshots (
      stream_id  text PRIMARY KEY,
      kind       text NOT NULL,
      version    integer NOT NULL,
      revision   bigint NOT NULL,
      position   text NOT NULL,
      state      jsonb NOT NULL,
      saved_at   timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS aggregate_snapshots, document_labels, document_versions, documents');
}
