/**
 * The sync feed's read model, kept by the `sync` projection: one row per workspace, membership, user and
 * document with the log position of its last change (`position`, compared as C-collated text: positions
 * are fixed-width). Deleted things stay as tombstones until the retention period ends; `sync_horizon`
 * remembers how far tombstones were purged, and `sync_store` names this store for cursors.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE sync_store (id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO sync_store (id) VALUES (gen_random_uuid());

    CREATE TABLE sync_horizon (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), position text COLLATE "C" NOT NULL);

    CREATE TABLE sync_workspaces (
      id         uuid PRIMARY KEY,
      name       text NOT NULL,
      created_at timestamptz NOT NULL,
      deleted    boolean NOT NULL DEFAULT false,
      revision   bigint NOT NULL,
      position   text COLLATE "C" NOT NULL,
      changed_at timestamptz NOT NULL
    );

    CREATE TABLE sync_users (id uuid PRIMARY KEY, email text NOT NULL, display_name text);

    CREATE TABLE sync_members (
      workspace_id    uuid NOT NULL,
      user_id         uuid NOT NULL,
      role            text NOT NULL,
      added_at        timestamptz NOT NULL,
      removed         boolean NOT NULL DEFAULT false,
      joined_position text COLLATE "C" NOT NULL,
      revision        bigint NOT NULL,
      position        text COLLATE "C" NOT NULL,
      changed_at      timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, user_id)
    );
    CREATE INDEX sync_members_by_user ON sync_members (user_id);

    CREATE TABLE sync_documents (
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
      position     text COLLATE "C" NOT NULL,
      changed_at   timestamptz NOT NULL
    );
    CREATE INDEX sync_documents_by_workspace_position ON sync_documents (workspace_id, position);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS sync_documents, sync_members, sync_users, sync_workspaces, sync_horizon, sync_store');
}
