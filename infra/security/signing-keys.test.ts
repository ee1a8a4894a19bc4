/**
 * Signing keys kept in the database (no AUTH_SIGNING_KEYS): generated once, shared by every process,
 * and rotated by adding a newer key.
 */
import type { Knex } from 'knex';
import { createKnex } from '../database/database';
import { createTestSchema, type TestSchema } from '../../test/support/test-database';
import { AccessTokens } from './access-tokens';
import { generateSigningJwk, loadSigningKeys } from './signing-keys';

describe('signing keys in the database', () => {
  let db: TestSchema;
  let otherProcess: Knex;

  beforeAll(async () => {
    db = await createTestSchema('signing_keys');
    otherProcess = createKnex({ url: db.url, schema: db.schema, poolMax: 2 });
  });
  afterAll(async () => {
    await otherProcess.destroy();
    await db.drop();
  });

  it('given an empty table, when two processes load keys at the same moment, then all end with the same single key', async () => {
    // Several rounds of four loads (two per process), so that a missing lock would surely show.
    for (let round = 0; round < 10; round += 1) {
      await db.knex('signing_keys').delete();

      const loaded = await Promise.all([db.knex, otherProcess, db.knex, otherProcess].map((knex) => loadSigningKeys({ knex })));

      expect(new Set(loaded.map((keys) => keys.current.kid)).size).toBe(1);
      expect(await db.knex('signing_keys').count<[{ count: string }]>('* as count')).toEqual([{ count: '1' }]);
    }
  });

  it('given a stored key, when loaded again, then it is the same key, and an empty configuration falls back to it', async () => {
    const before = await loadSigningKeys({ knex: db.knex });

    const again = await loadSigningKeys({ knex: otherProcess, configuredJwks: '  ' });

    expect(again.current.kid).toBe(before.current.kid);
    expect(again.verification.map((key) => key.publicJwk)).toEqual(before.verification.map((key) => key.publicJwk));
  });

  it('given a newer key is added, when loaded, then it signs and tokens signed by the older one still verify', async () => {
    const before = await loadSigningKeys({ knex: db.knex });
    const oldToken = (await new AccessTokens(before, { issuer: 'i', audience: 'a' }).sign('user-1')).accessToken;
    const { kid, ...privateJwk } = await generateSigningJwk();
    await db.knex('signing_keys').insert({ kid, private_jwk: JSON.stringify(privateJwk), created_at: new Date(Date.now() + 1000) });

    const after = await loadSigningKeys({ knex: db.knex });
    const tokens = new AccessTokens(after, { issuer: 'i', audience: 'a' });

    expect(after.current.kid).toBe(kid);
    expect(after.verification.map((key) => key.kid)).toEqual([kid, before.current.kid]);
    await expect(tokens.verify(oldToken)).resolves.toEqual({ userId: 'user-1' });
  });

  it('given a configuration, then it wins over the table', async () => {
    const configured = await generateSigningJwk();

    const keys = await loadSigningKeys({ knex: db.knex, configuredJwks: JSON.stringify([configured]) });

    expect(keys.verification.map((key) => key.kid)).toEqual([configured.kid]);
  });
});
