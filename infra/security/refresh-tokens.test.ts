/**
 * Refresh tokens against the real PostgreSQL: rotation chains, reuse detection ending the family,
 * concurrent rotation, the absolute lifetime, and revocation. Time moves through the clock option.
 */
import { Problem } from '../http/problem';
import { createTestSchema, type TestSchema } from '../../test/support/test-database';
import { RefreshTokens, refreshTokenHash } from './refresh-tokens';

const DAY_MS = 24 * 60 * 60 * 1000;

async function refusal(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    () => {
      throw new Error('expected a refusal');
    },
    (reason: unknown) => reason,
  );
}

async function expectRefused(attempt: Promise<unknown>, code: string): Promise<void> {
  const error = await refusal(attempt);
  expect(error).toBeInstanceOf(Problem);
  expect(error).toMatchObject({ kind: 'unauthorized', code });
}

describe('refresh tokens', () => {
  let db: TestSchema;
  let now: Date;
  let tokens: RefreshTokens;

  beforeAll(async () => {
    db = await createTestSchema('refresh_tokens');
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(() => {
    now = new Date('2026-11-22T10:00:00Z');
    tokens = new RefreshTokens(db.knex, { clock: () => now });
  });

  it('given an issued token, then it is 256 random bits in base64url and only its SHA-256 is stored', async () => {
    const { refreshToken, familyId, expiresAt } = await tokens.issue('user-store');

    expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(refreshToken, 'base64url')).toHaveLength(32);
    expect(expiresAt).toEqual(new Date(now.getTime() + 30 * DAY_MS));
    const rows = await db.knex('refresh_tokens').where({ family_id: familyId });
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(refreshTokenHash(refreshToken));
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(refreshToken);
  });

  it('given an issued token, when rotated twice in a chain, then each step names the user, keeps the family and gives a new token', async () => {
    const issued = await tokens.issue('user-chain');

    const first = await tokens.rotate(issued.refreshToken);
    const second = await tokens.rotate(first.refreshToken);

    expect(first).toEqual({ userId: 'user-chain', familyId: issued.familyId, refreshToken: expect.any(String) });
    expect(second).toEqual({ userId: 'user-chain', familyId: issued.familyId, refreshToken: expect.any(String) });
    expect(new Set([issued.refreshToken, first.refreshToken, second.refreshToken]).size).toBe(3);
    await expect(tokens.familyOf(second.refreshToken)).resolves.toBe(issued.familyId);
  });

  it('given a rotated token, when it is presented again, then it is reuse and the whole family ends, the newest token included', async () => {
    const issued = await tokens.issue('user-reuse');
    const first = await tokens.rotate(issued.refreshToken);
    const second = await tokens.rotate(first.refreshToken);

    await expectRefused(tokens.rotate(issued.refreshToken), 'AUTH.REFRESH_TOKEN_REUSED');

    await expectRefused(tokens.rotate(second.refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
    const live = await db.knex('refresh_tokens').where({ family_id: issued.familyId }).whereNull('revoked_at');
    expect(live).toEqual([]);
  });

  it('given a reused token in one family, then the user\'s other sessions go on', async () => {
    const stolen = await tokens.issue('user-two-devices');
    const otherDevice = await tokens.issue('user-two-devices');
    await tokens.rotate(stolen.refreshToken);

    await expectRefused(tokens.rotate(stolen.refreshToken), 'AUTH.REFRESH_TOKEN_REUSED');

    await expect(tokens.rotate(otherDevice.refreshToken)).resolves.toMatchObject({ familyId: otherDevice.familyId });
  });

  it('given one token, when two rotations race, then exactly one succeeds', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { refreshToken, familyId } = await tokens.issue(`user-race-${round}`);

      const outcomes = await Promise.allSettled([tokens.rotate(refreshToken), tokens.rotate(refreshToken)]);

      const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected[0]?.reason).toMatchObject({ code: 'AUTH.REFRESH_TOKEN_REUSED' });
      // The loser's attempt is reuse: one successor only was ever written.
      expect(await db.knex('refresh_tokens').where({ family_id: familyId })).toHaveLength(2);
    }
  });

  it('given rotations over 29 days, then the family still ends 30 days after sign-in', async () => {
    const issued = await tokens.issue('user-lifetime');
    now = new Date(issued.expiresAt.getTime() - 1 * DAY_MS); // day 29
    const rotated = await tokens.rotate(issued.refreshToken);
    const row = await db.knex('refresh_tokens').where({ token_hash: refreshTokenHash(rotated.refreshToken) }).first();
    expect(row.family_expires_at).toEqual(issued.expiresAt);

    now = new Date(issued.expiresAt.getTime() + 1 * DAY_MS); // day 31

    await expectRefused(tokens.rotate(rotated.refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
  });

  it('given a configured lifetime, then families end after it', async () => {
    const short = new RefreshTokens(db.knex, { lifetimeDays: 1, clock: () => now });
    const { refreshToken, expiresAt } = await short.issue('user-short');

    now = new Date(expiresAt.getTime() + 1);

    expect(expiresAt).toEqual(new Date(Date.parse('2026-11-23T10:00:00Z')));
    await expectRefused(short.rotate(refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
  });

  it('given an unknown token, then it is invalid', async () => {
    await expectRefused(tokens.rotate('bm90LWEtdG9rZW4'), 'AUTH.INVALID_REFRESH_TOKEN');
    await expect(tokens.familyOf('bm90LWEtdG9rZW4')).resolves.toBeUndefined();
  });

  it('given a session, when its current token is revoked (logout), then neither it nor the family can be used', async () => {
    const issued = await tokens.issue('user-logout');
    const rotated = await tokens.rotate(issued.refreshToken);

    await tokens.revoke(rotated.refreshToken);

    await expectRefused(tokens.rotate(rotated.refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
    await expect(tokens.revoke(rotated.refreshToken)).resolves.toBeUndefined(); // twice is fine
    await expect(tokens.revoke('bm90LWEtdG9rZW4')).resolves.toBeUndefined(); // unknown is fine
  });

  it('given three sessions, when all but the current are revoked, then only the current goes on, and other users are untouched', async () => {
    const current = await tokens.issue('user-everywhere');
    const laptop = await tokens.issue('user-everywhere');
    const phone = await tokens.issue('user-everywhere');
    const someoneElse = await tokens.issue('user-bystander');

    await tokens.revokeAllForUser('user-everywhere', { exceptFamilyId: (await tokens.familyOf(current.refreshToken))! });

    await expect(tokens.rotate(current.refreshToken)).resolves.toMatchObject({ userId: 'user-everywhere' });
    await expectRefused(tokens.rotate(laptop.refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
    await expectRefused(tokens.rotate(phone.refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
    await expect(tokens.rotate(someoneElse.refreshToken)).resolves.toMatchObject({ userId: 'user-bystander' });
  });

  it('given sessions, when all are revoked without exception, then none goes on', async () => {
    const first = await tokens.issue('user-all');
    const second = await tokens.issue('user-all');

    await tokens.revokeAllForUser('user-all');

    await expectRefused(tokens.rotate(first.refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
    await expectRefused(tokens.rotate(second.refreshToken), 'AUTH.INVALID_REFRESH_TOKEN');
  });
});
