/**
 * Secret keys kept in the database (no SECRETS_KEY): generated once, shared by every process, rotated
 * by adding a newer key, and still opening what they sealed once SECRETS_KEY is configured.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex } from '../database/database';
import { createTestSchema, type TestSchema } from '../../test/support/test-database';
import { generateSecretKey, loadSecretBox } from './secret-box';

describe('secret keys in the database', () => {
  let db: TestSchema;
  let otherProcess: Knex;
  const context = 'webhook-secret:user-1';

  beforeAll(async () => {
    db = await createTestSchema('secret_keys');
    otherProcess = createKnex({ url: db.url, schema: db.schema, poolMax: 2 });
  });
  afterAll(async () => {
    await otherProcess.destroy();
    await db.drop();
  });

  it('given an empty table, when two processes load at the same moment, then all end with the same single key', async () => {
    for (let round = 0; round < 10; round += 1) {
      await db.knex('secret_keys').delete();

      const loaded = await Promise.all([db.knex, otherProcess, db.knex, otherProcess].map((knex) => loadSecretBox({ knex })));

      expect(new Set(loaded.map((box) => box.sealingKeyId)).size).toBe(1);
      expect(await db.knex('secret_keys').count<[{ count: string }]>('* as count')).toEqual([{ count: '1' }]);
      // What one process sealed, the other opens.
      expect(loaded[1]!.open(loaded[0]!.seal('shared', context), context)).toBe('shared');
    }
  });

  it('given a stored key, when loaded again (or with an empty configuration), then it is the same key', async () => {
    const before = await loadSecretBox({ knex: db.knex });
    const sealed = before.seal('kept', context);
    const again = await loadSecretBox({ knex: otherProcess, configuredKeys: '  ' });
    expect(again.sealingKeyId).toBe(before.sealingKeyId);
    expect(again.open(sealed, context)).toBe('kept');
  });

  it('given a newer stored key, then it seals and the older one still opens', async () => {
    const before = await loadSecretBox({ knex: db.knex });
    const sealed = before.seal('old', context);
    const newer = generateSecretKey();
    await db.knex('secret_keys').insert({ key_id: newer.keyId, key: newer.key.toString('base64'), created_at: new Date(Date.now() + 1000) });

    const after = await loadSecretBox({ knex: db.knex });

    expect(after.sealingKeyId).toBe(newer.keyId);
    expect(after.keyIds).toEqual([newer.keyId, before.sealingKeyId]);
    expect(after.open(sealed, context)).toBe('old');
  });

  it('given a configuration, then the configured key seals, the stored keys still open, and nothing is generated', async () => {
    const stored = await loadSecretBox({ knex: db.knex });
    const sealedByStored = stored.seal('from before', context);
    const count = await db.knex('secret_keys').count<[{ count: string }]>('* as count');

    const configured = await loadSecretBox({ knex: db.knex, configuredKeys: `ops-1:${randomBytes(32).toString('base64')}` });

    expect(configured.sealingKeyId).toBe('ops-1');
    expect(configured.open(sealedByStored, context)).toBe('from before');
    expect(() => stored.open(configured.seal('new', context), context)).toThrow(/not configured/);
    expect(await db.knex('secret_keys').count<[{ count: string }]>('* as count')).toEqual(count);

    await db.knex('secret_keys').delete();
    const alone = await loadSecretBox({ knex: db.knex, configuredKeys: `ops-1:${randomBytes(32).toString('base64')}` });
    expect(alone.keyIds).toEqual(['ops-1']);
    expect(await db.knex('secret_keys').count<[{ count: string }]>('* as count')).toEqual([{ count: '0' }]);
  });
});
