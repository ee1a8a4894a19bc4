/**
 * The Ed25519 keys that sign access tokens. One key signs; every key verifies, so a new key can be
 * put first without invalidating the tokens the old one signed (drop the old key after the access
 * token lifetime has passed).
 *
 * Keys come from configuration (AUTH_SIGNING_KEYS: a JSON array of private OKP JWKs, the first one
 * signing) or, when that is not set, from the `signing_keys` table, where the first process to start
 * generates one key under a table lock, so that processes starting together agree on a single key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type CryptoKey, type JWK } from 'jose';
import type { Knex } from 'knex';

export type SigningKey = KeyObject | CryptoKey;

export interface SigningKeySet {
  current: { kid: string; privateKey: SigningKey };
  verification: Array<{ kid: string; publicKey: SigningKey; publicJwk: JWK }>;
}

/** A private Ed25519 JWK as configured or stored: `d` is the secret, `x` the public key. */
export interface PrivateSigningJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d: string;
  kid: string;
}

export const SIGNING_KEYS_VARIABLE = 'AUTH_SIGNING_KEYS';

// ---------------------------------------------------------------------------------------------------
// Loading

export async function loadSigningKeys(source: { configuredJwks?: string; knex: Knex }): Promise<SigningKeySet> {
  if (source.configuredJwks !== undefined && source.configuredJwks.trim() !== '') {
    return signingKeySet(parseConfiguredJwks(source.configuredJwks));
  }
  return signingKeySet(await loadStoredJwks(source.knex));
}

/** Builds the key set from private JWKs, the first of which signs. */
export function signingKeySet(jwks: readonly PrivateSigningJwk[]): SigningKeySet {
  const [signing] = jwks;
  if (!signing) throw new Error('a signing key set needs at least one key');
  return {
    current: { kid: signing.kid, privateKey: createPrivateKey({ key: { ...signing }, format: 'jwk' }) },
    verification: jwks.map((jwk) => {
      const publicJwk = publicJwkOf(jwk);
      return { kid: jwk.kid, publicKey: createPublicKey({ key: { ...publicJwk }, format: 'jwk' }), publicJwk };
    }),
  };
}

function publicJwkOf(jwk: PrivateSigningJwk): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' };
}

/** A fresh private key, its kid being its RFC 7638 thumbprint (what an operator puts in AUTH_SIGNING_KEYS). */
export async function generateSigningJwk(): Promise<PrivateSigningJwk> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const exported = privateKey.export({ format: 'jwk' });
  if (typeof exported.x !== 'string' || typeof exported.d !== 'string') throw new Error('node exported an Ed25519 key without x or d');
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: exported.x });
  return { kty: 'OKP', crv: 'Ed25519', x: exported.x, d: exported.d, kid };
}

// ---------------------------------------------------------------------------------------------------
// Configuration

function configurationError(reason: string): Error {
  return new Error(`${SIGNING_KEYS_VARIABLE} is malformed: ${reason} (expected a JSON array of private Ed25519 JWKs, each with a kid)`);
}

export function parseConfiguredJwks(text: string): PrivateSigningJwk[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw configurationError('not valid JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw configurationError('not a non-empty array');
  const jwks = parsed.map((entry: unknown, index) => {
    const problem = privateJwkProblem(entry);
    if (problem) throw configurationError(`key ${index}: ${problem}`);
    return entry as PrivateSigningJwk;
  });
  const kids = new Set(jwks.map((jwk) => jwk.kid));
  if (kids.size !== jwks.length) throw configurationError('two keys share a kid');
  return jwks.map(({ kty, crv, x, d, kid }) => ({ kty, crv, x, d, kid }));
}

/** Why a value is not a usable private Ed25519 JWK, or undefined when it is one. */
function privateJwkProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const jwk = value as Record<string, unknown>;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return 'not an OKP key on Ed25519';
  if (typeof jwk.kid !== 'string' || jwk.kid.trim() === '') return 'no kid';
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') return 'not a private key (needs d and x)';
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') return `alg ${String(jwk.alg)} is not EdDSA`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'use is not sig';
  return keyMaterialProblem(jwk.x, jwk.d);
}

function keyMaterialProblem(x: string, d: string): string | undefined {
  try {
    const derived = createPublicKey(createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' })).export({ format: 'jwk' });
    return derived.x === x ? undefined : 'x is not the public key of d';
  } catch {
    return 'd or x is not a valid Ed25519 key';
  }
}

// ---------------------------------------------------------------------------------------------------
// Database

interface StoredKeyRow {
  kid: string;
  private_jwk: unknown;
}

async function loadStoredJwks(knex: Knex): Promise<PrivateSigningJwk[]> {
  let rows = await readStoredKeys(knex);
  if (rows.length === 0) {
    await insertFirstKey(knex);
    rows = await readStoredKeys(knex);
  }
  return rows.map(storedJwk);
}

/** Newest first: the newest key signs. */
function readStoredKeys(knex: Knex): Promise<StoredKeyRow[]> {
  return knex<StoredKeyRow>('signing_keys')
    .select('kid', 'private_jwk')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'kid', order: 'desc' },
    ]);
}

/**
 * The lock conflicts with itself but not with readers: the second process to get it sees the first
 * one's key and inserts nothing.
 */
async function insertFirstKey(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
    const existing = await trx('signing_keys').first('kid');
    if (existing) return;
    const { kid, ...privateJwk } = await generateSigningJwk();
    await trx('signing_keys').insert({ kid, private_jwk: JSON.stringify(privateJwk) });
  });
}

function storedJwk(row: StoredKeyRow): PrivateSigningJwk {
  const candidate = { ...(row.private_jwk as Record<string, unknown>), kid: row.kid };
  const problem = privateJwkProblem(candidate);
  if (problem) throw new Error(`signing_keys row ${row.kid} is malformed: ${problem}`);
  const { kty, crv, x, d, kid } = candidate as PrivateSigningJwk;
  return { kty, crv, x, d, kid };
}
