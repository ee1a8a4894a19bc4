/**
 * Read models for accounts and workspaces, kept by the `accounts` and `workspaces` projections. Every
 * row carries the stream revision it reflects, so a replayed event changes nothing.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE users (
      id           uuid PRIMARY KEY,
      email        text NOT NULL UNIQUE,
      display_name text,
      created_at   timestamptz NOT NULL,
      updated_at   timestamptz NOT NULL,
      revision     bigint NOT NULL
    );

    CREATE TABLE workspaces (
      id         uuid PRIMARY KEY,
      name       text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deleted    boolean NOT NULL DEFAULT false,
      revision   bigint NOT NULL
    );

    CREATE TABLE workspace_members (
      workspace_id uuid NOT NULL,
      user_id      uuid NOT NULL,
      role         text NOT NULL CHECK (role IN ('owner', 'member')),
      added_at     timestamptz NOT NULL,
      revision     bigint NOT NULL,
      PRIMARY KEY (workspace_id, user_id)
    );
    CREATE INDEX workspace_members_by_user ON workspace_members (user_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS workspace_members; DROP TABLE IF EXISTS workspaces; DROP TABLE IF EXISTS users;');
}
