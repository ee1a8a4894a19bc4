/**
 * The AI proxy's read model: `ai_usage`, one row per recorded call (who, which workspace, provider,
 * model, tokens, latency, outcome, cost), kept by the `ai_usage` projection and read by
 * GET /api/ai/usage (no prompt or answer is stored anywhere), and `workspace_ai_policies`, each
 * workspace's AI policy as members read it (GET /api/workspaces/:id/ai), kept by the `ai_policies`
 * projection; no row means the default, off. The proxy's counters live in the shared `rate_limits`
 * table (migration 0003).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE ai_usage (
      id             uuid PRIMARY KEY,
      user_id        uuid NOT NULL,
      workspace_id   uuid NOT NULL,
      purpose        text NOT NULL,
      provider       text NOT NULL,
      model          text NOT NULL,
      tokens_in      integer NOT NULL,
      tokens_out     integer NOT NULL,
      latency_ms     integer NOT NULL,
      outcome        text NOT NULL,
      cost_micro_usd bigint NOT NULL,
      occurred_at    timestamptz NOT NULL,
      revision       bigint NOT NULL
    );
    CREATE INDEX ai_usage_by_user ON ai_usage (user_id, occurred_at DESC);

    CREATE TABLE workspace_ai_policies (
      workspace_id uuid PRIMARY KEY,
      ai_proxy     boolean NOT NULL,
      set_by       uuid NOT NULL,
      set_at       timestamptz NOT NULL,
      revision     bigint NOT NULL
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS workspace_ai_policies; DROP TABLE IF EXISTS ai_usage;');
}
