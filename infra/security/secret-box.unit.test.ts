import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { derivedKeyId, generateSecretKey, loadSecretBox, parseConfiguredSecretKeys, SecretBox, SecretBoxError } from './secret-box';

const secret = 'a-long-shared-secret-for-hmac';
const context = 'webhook-secret:user-1';

/** Fails the test if the loader touches the database where it must not; answers no stored keys otherwise. */
const noStoredKeys = (() => {
  const query = { select: () => query, orderBy: async () => [] };
  return ((table: string) => {
    if (table !== 'secret_keys') throw new Error(`unexpected table ${table}`);
    return query;
  }) as unknown as Knex;
})();

describe('secret box', () => {
  it('seals to an opaque v1 string that opens to the secret, differently every time', () => {
    const box = new SecretBox([generateSecretKey()]);
    const sealed = box.seal(secret, context);
    expect(sealed).toMatch(new RegExp(`^v1:${box.sealingKeyId}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$`));
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64url'));
    expect(box.open(sealed, context)).toBe(secret);
    expect(box.seal(secret, context)).not.toBe(sealed); // a fresh IV each time
    expect(box.open(box.seal('', context), context)).toBe('');
    expect(box.open(box.seal('ünïcødé ✝', context), context)).toBe('ünïcødé ✝');
  });

  it('detects tampering with any part of the sealed value', () => {
    const box = new SecretBox([generateSecretKey()]);
    const sealed = box.seal(secret, context);
    const [version, keyId, iv, body] = sealed.split(':') as [string, string, string, string];
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[at] = bytes[at]! ^ 0x01;
      return bytes.toString('base64url');
    };
    const tampered = [
      [version, keyId, flip(iv, 0), body],
      [version, keyId, iv, flip(body, 0)], // the ciphertext
      [version, keyId, iv, flip(body, Buffer.from(body, 'base64url').length - 1)], // the tag
      [version, keyId, iv, Buffer.from(body, 'base64url').subarray(1).toString('base64url')],
      [version, keyId, iv, ''],
      ['v2', keyId, iv, body],
      [version, keyId, iv],
    ].map((parts) => parts.join(':'));
    for (const value of tampered) expect(() => box.open(value, context)).toThrow(SecretBoxError);
    expect(() => box.open(secret, context)).toThrow(SecretBoxError); // a plain (legacy) secret is not a sealed one
    expect(box.holds(sealed, context, secret)).toBe(true);
    expect(box.holds(tampered[1]!, context, secret)).toBe(false);
    expect(box.holds(sealed, context, `${secret}x`)).toBe(false);
  });

  it('does not open with a wrong key, even one given the same key id, nor in another context', () => {
    const key = generateSecretKey();
    const sealed = new SecretBox([key]).seal(secret, context);
    expect(() => new SecretBox([generateSecretKey()]).open(sealed, context)).toThrow(/not configured/);
    expect(() => new SecretBox([{ keyId: key.keyId, key: randomBytes(32) }]).open(sealed, context)).toThrow(/does not open/);
    expect(() => new SecretBox([key]).open(sealed, 'webhook-secret:user-2')).toThrow(/does not open/);
  });

  it('rotates: the first key seals, every key opens', () => {
    const old = generateSecretKey();
    const fresh = generateSecretKey();
    const sealedBefore = new SecretBox([old]).seal(secret, context);
    const rotated = new SecretBox([fresh, old]);
    expect(rotated.open(sealedBefore, context)).toBe(secret);
    const sealedAfter = rotated.seal(secret, context);
    expect(sealedAfter.split(':')[1]).toBe(fresh.keyId);
    expect(() => new SecretBox([old]).open(sealedAfter, context)).toThrow(SecretBoxError);
    expect(rotated.keyIds).toEqual([fresh.keyId, old.keyId]);
  });

  it('derives subkeys: one per purpose, never the key itself, new after a rotation', () => {
    const key = generateSecretKey();
    const box = new SecretBox([key]);
    const mac = box.subkey('idempotency-request-fingerprint');
    expect(mac).toHaveLength(32);
    expect(mac.equals(key.key)).toBe(false);
    expect(box.subkey('idempotency-request-fingerprint').equals(mac)).toBe(true);
    expect(new SecretBox([key, generateSecretKey()]).subkey('idempotency-request-fingerprint').equals(mac)).toBe(true);
    expect(box.subkey('another purpose').equals(mac)).toBe(false);
    expect(new SecretBox([generateSecretKey(), key]).subkey('idempotency-request-fingerprint').equals(mac)).toBe(false);
  });

  it('never puts the secret or the sealed value in an error message', () => {
    const box = new SecretBox([generateSecretKey()]);
    const sealed = new SecretBox([generateSecretKey()]).seal(secret, context);
    for (const value of [sealed, `${sealed.slice(0, -2)}AA`, secret, `v1:${secret}:aXZpdml2aXZpdml2:Y2lwaGVydGV4dGNpcGhlcnRleHQ`]) {
      try {
        box.open(value, context);
        throw new Error('opened');
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
        expect((error as Error).message).not.toContain(value.split(':')[3] ?? value);
      }
    }
  });
});

describe('SECRETS_KEY', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);

  it('reads comma-separated keys, base64 or base64url, with or without a key id; the first one seals', async () => {
    const keys = parseConfiguredSecretKeys(` 2026-11:${a.toString('base64')} , ${b.toString('base64url')} `);
    expect(keys.map((key) => key.keyId)).toEqual(['2026-11', derivedKeyId(b)]);
    expect(keys[0]!.key.equals(a) && keys[1]!.key.equals(b)).toBe(true);
    const box = await loadSecretBox({ configuredKeys: `2026-11:${a.toString('base64')},${b.toString('base64')}`, knex: noStoredKeys });
    expect(box.sealingKeyId).toBe('2026-11');
    expect(box.open(new SecretBox([{ keyId: derivedKeyId(b), key: b }]).seal(secret, context), context)).toBe(secret);
  });

  it.each([
    ['', /no key/],
    [randomBytes(16).toString('base64'), /16 bytes, not 32/],
    ['not*base64!', /not base64/],
    [`bad id:${a.toString('base64')}`, /key id/],
    [`k:${a.toString('base64')},k:${b.toString('base64')}`, /share a key id/],
  ])('refuses %p, naming the variable but no key material', (value, reason) => {
    expect(() => parseConfiguredSecretKeys(value)).toThrow(reason);
    expect(() => parseConfiguredSecretKeys(value)).toThrow(/SECRETS_KEY/);
    try {
      parseConfiguredSecretKeys(value);
    } catch (error) {
      expect((error as Error).message).not.toContain(a.toString('base64'));
    }
  });
});
