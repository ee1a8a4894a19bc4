/**
 * The tables behind accounts' security: the keys that sign access tokens, the refresh tokens of every
 * session (only their SHA-256, grouped in families so that a stolen token's reuse ends the session),
 * and the shared counters of the rate limits (created here, in the schema, so that no process races
 * to create it at start).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- Ed25519 private keys as JWKs. The newest signs; all of them verify, so adding a key rotates
    -- signing without logging anyone out. Used only when AUTH_SIGNING_KEYS is not configured.
    CREATE TABLE signing_keys (
      kid         text PRIMARY KEY,
      private_jwk jsonb NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now()
    );

    -- One row per refresh token ever issued. A family is one sign-in: each rotation adds a row to it
    -- and keeps its absolute expiry. used_at marks a token that was exchanged; seeing it again is reuse.
    CREATE TABLE refresh_tokens (
      id                uuid PRIMARY KEY,
      family_id         uuid NOT NULL,
      user_id           text NOT NULL,
      token_hash        text NOT NULL UNIQUE,
      created_at        timestamptz NOT NULL DEFAULT now(),
      family_expires_at timestamptz NOT NULL,
      used_at           timestamptz,
      revoked_at        timestamptz
    );
    CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
    CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);

    -- rate-limiter-flexible's own layout (RateLimiterPostgres): expire is epoch milliseconds.
    CREATE TABLE rate_limits (
      key    varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint
    );
    CREATE INDEX rate_limits_expire ON rate_limits (expire);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS rate_limits; DROP TABLE IF EXISTS refresh_tokens; DROP TABLE IF EXISTS signing_keys;');
}
