/** AUTH_SIGNING_KEYS: a well-formed list becomes a key set with the first key signing; anything else stops the start. */
import type { Knex } from 'knex';
import { generateSigningJwk, loadSigningKeys, parseConfiguredJwks } from './signing-keys';

// The configured path must never touch the database.
const noDatabase = new Proxy({}, { get: () => { throw new Error('the database was used'); } }) as unknown as Knex;

describe('configured signing keys', () => {
  it('given two private JWKs, when loaded, then the first signs and both verify', async () => {
    const [first, second] = await Promise.all([generateSigningJwk(), generateSigningJwk()]);

    const keys = await loadSigningKeys({ configuredJwks: JSON.stringify([first, second]), knex: noDatabase });

    expect(keys.current.kid).toBe(first.kid);
    expect(keys.verification.map((key) => key.kid)).toEqual([first.kid, second.kid]);
    expect(keys.verification[1]!.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: second.x, kid: second.kid, alg: 'EdDSA', use: 'sig' });
  });

  it('given a JWK with alg and use set as an operator might, then it is accepted', async () => {
    const jwk = { ...(await generateSigningJwk()), alg: 'EdDSA', use: 'sig' };

    expect(parseConfiguredJwks(JSON.stringify([jwk]))).toHaveLength(1);
  });

  const malformed: Array<[string, () => Promise<unknown>]> = [
    ['not JSON', async () => '[{'],
    ['an object, not an array', async () => JSON.stringify(await generateSigningJwk())],
    ['an empty array', async () => '[]'],
    ['a key without kid', async () => { const { kid: _kid, ...jwk } = await generateSigningJwk(); return JSON.stringify([jwk]); }],
    ['a public key only', async () => { const { d: _d, ...jwk } = await generateSigningJwk(); return JSON.stringify([jwk]); }],
    ['an EC key', async () => JSON.stringify([{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA', kid: 'ec' }])],
    ['an Ed448 key', async () => JSON.stringify([{ ...(await generateSigningJwk()), crv: 'Ed448' }])],
    ['two keys with one kid', async () => { const jwk = await generateSigningJwk(); return JSON.stringify([jwk, { ...(await generateSigningJwk()), kid: jwk.kid }]); }],
    ['a d that does not belong to x', async () => JSON.stringify([{ ...(await generateSigningJwk()), x: (await generateSigningJwk()).x }])],
    ['a d that is not a key', async () => JSON.stringify([{ ...(await generateSigningJwk()), d: 'bm90LWEta2V5' }])],
  ];

  it.each(malformed)('given %s, when loaded, then it fails naming AUTH_SIGNING_KEYS', async (_label, configured) => {
    const configuredJwks = (await configured()) as string;

    await expect(loadSigningKeys({ configuredJwks, knex: noDatabase })).rejects.toThrow(/AUTH_SIGNING_KEYS/);
  });
});
