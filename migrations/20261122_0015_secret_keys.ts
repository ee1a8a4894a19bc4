/**
 * The keys that seal secrets kept in the log (a webhook's shared secret, sealed with AES-256-GCM by
 * infra/security/secret-box.ts). Used only when SECRETS_KEY is not configured: the first process to
 * start generates one key here. The newest seals; all of them open.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE secret_keys (
      key_id     text PRIMARY KEY,
      key        text NOT NULL,   -- base64 of 32 random bytes
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS secret_keys');
}
