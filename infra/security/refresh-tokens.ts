/**
 * Refresh tokens: the long-lived half of a session. Each is 256 random bits handed to the client once;
 * only its SHA-256 is stored, so a copy of the table signs nobody in.
 *
 * A sign-in starts a family. Every refresh exchanges the presented token for a new one in the same
 * family (one conditional UPDATE, so two concurrent exchanges of one token cannot both win), and the
 * family keeps the absolute expiry it was born with. A token that was already exchanged and comes
 * back means two parties hold the session (OAuth 2.0 Security BCP, refresh token rotation): the whole
 * family is revoked, the newest token included, and everyone must sign in again.
 *
 * Times come from the injected clock and go into SQL as parameters, so tests move time instead of
 * sleeping.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Problem } from '../http/problem';

export const DEFAULT_REFRESH_TOKEN_LIFETIME_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RefreshTokenOptions {
  lifetimeDays?: number;
  clock?: () => Date;
}

interface TokenRow {
  family_id: string;
  user_id: string;
  used_at: Date | null;
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function refreshTokenHash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken, 'utf8').digest('hex');
}

function invalidRefreshToken(): Problem {
  return new Problem('unauthorized', 'AUTH.INVALID_REFRESH_TOKEN', 'the refresh token is not valid; sign in again');
}

function reusedRefreshToken(): Problem {
  return new Problem('unauthorized', 'AUTH.REFRESH_TOKEN_REUSED', 'the refresh token was already used; the session has been ended');
}

export class RefreshTokens {
  private readonly lifetimeMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly knex: Knex,
    options?: RefreshTokenOptions,
  ) {
    this.lifetimeMs = (options?.lifetimeDays ?? DEFAULT_REFRESH_TOKEN_LIFETIME_DAYS) * DAY_MS;
    this.clock = options?.clock ?? (() => new Date());
  }

  async issue(userId: string): Promise<{ refreshToken: string; familyId: string; expiresAt: Date }> {
    const now = this.clock();
    const refreshToken = newToken();
    const familyId = randomUUID();
    const expiresAt = new Date(now.getTime() + this.lifetimeMs);
    await this.knex('refresh_tokens').insert({
      id: randomUUID(),
      family_id: familyId,
      user_id: userId,
      token_hash: refreshTokenHash(refreshToken),
      created_at: now,
      family_expires_at: expiresAt,
    });
    return { refreshToken, familyId, expiresAt };
  }

  async rotate(refreshToken: string): Promise<{ userId: string; refreshToken: string; familyId: string }> {
    const now = this.clock();
    const presentedHash = refreshTokenHash(refreshToken);
    const next = newToken();
    const exchanged = await this.exchange(presentedHash, refreshTokenHash(next), now);
    if (exchanged) return { userId: exchanged.user_id, refreshToken: next, familyId: exchanged.family_id };
    throw await this.refusal(presentedHash, now);
  }

  /** Logging out: ends the session the token belongs to. Unknown tokens are ignored. */
  async revoke(refreshToken: string): Promise<void> {
    const family = this.knex('refresh_tokens').select('family_id').where({ token_hash: refreshTokenHash(refreshToken) });
    await this.knex('refresh_tokens')
      .whereIn('family_id', family)
      .whereNull('revoked_at')
      .update({ revoked_at: this.clock() });
  }

  async revokeAllForUser(userId: string, options?: { exceptFamilyId?: string }): Promise<void> {
    const query = this.knex('refresh_tokens').where({ user_id: userId }).whereNull('revoked_at');
    if (options?.exceptFamilyId !== undefined) query.whereNot({ family_id: options.exceptFamilyId });
    await query.update({ revoked_at: this.clock() });
  }

  async familyOf(refreshToken: string): Promise<string | undefined> {
    const row = await this.knex('refresh_tokens').first<{ family_id: string } | undefined>('family_id').where({ token_hash: refreshTokenHash(refreshToken) });
    return row?.family_id;
  }

  // -------------------------------------------------------------------------------------------------

  /**
   * Marks the presented token used and adds its successor in one statement: the row lock taken by the
   * UPDATE makes a concurrent exchange of the same token re-check `used_at IS NULL` and find nothing.
   */
  private async exchange(presentedHash: string, nextHash: string, now: Date): Promise<Pick<TokenRow, 'family_id' | 'user_id'> | undefined> {
    const result = await this.knex.raw<{ rows: Array<Pick<TokenRow, 'family_id' | 'user_id'>> }>(
      `WITH presented AS (
         UPDATE refresh_tokens SET used_at = :now
          WHERE token_hash = :presentedHash
            AND used_at IS NULL AND revoked_at IS NULL AND family_expires_at > :now
         RETURNING family_id, user_id, family_expires_at
       )
       INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, family_expires_at)
       SELECT :id, family_id, user_id, :nextHash, :now, family_expires_at FROM presented
       RETURNING family_id, user_id`,
      { now, presentedHash, nextHash, id: randomUUID() },
    );
    return result.rows[0];
  }

  /** Why a token could not be exchanged; a used one ends its whole family first. */
  private async refusal(presentedHash: string, now: Date): Promise<Problem> {
    const row = await this.knex('refresh_tokens').first<TokenRow | undefined>('family_id', 'user_id', 'used_at').where({ token_hash: presentedHash });
    if (!row || row.used_at === null) return invalidRefreshToken();
    await this.knex('refresh_tokens').where({ family_id: row.family_id }).whereNull('revoked_at').update({ revoked_at: now });
    return reusedRefreshToken();
  }
}
