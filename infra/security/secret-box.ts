/**
 * Sealing secrets that must be kept but must not be readable where they are kept: a webhook's shared
 * secret lives in the event log (replicated, read by auditors, printed by `scriptorium history
 * --data`), so it goes there sealed with AES-256-GCM, and only the process that signs with it opens it.
 *
 * A sealed secret is one opaque string, `v1:<keyId>:<iv>:<ciphertext and tag>` (base64url): the key
 * id says which key opens it, so keys can be rotated: the first key seals, every key opens (keep an
 * old key listed for as long as secrets sealed with it are in use). The caller names a context (e.g.
 * `webhook-secret:<userId>`), bound in as additional authenticated data: a sealed value copied into
 * another user's settings does not open there. Any tampering, a wrong key or a wrong context makes
 * `open` throw, never answer garbage. Nothing here logs or puts a secret in an error message.
 *
 * Keys come from configuration (SECRETS_KEY: comma-separated `[keyId:]<base64 of 32 bytes>`, the
 * first sealing) or, when that is not set, from the `secret_keys` table, where the first process to
 * start generates one key under a table lock (as the access-token signing keys are kept), so that
 * processes starting together agree on a single key. Keys the database holds still open what they
 * sealed after SECRETS_KEY is set, so configuring a key later loses nothing.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';

export const SECRETS_KEY_VARIABLE = 'SECRETS_KEY';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface SecretKey {
  readonly keyId: string;
  readonly key: Buffer;
}

/** Why a sealed secret did not open; the message never contains the secret or the sealed value. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export class SecretBox {
  private readonly sealing: SecretKey;
  private readonly opening: ReadonlyMap<string, Buffer>;

  /** `keys[0]` seals; all of them open. */
  constructor(keys: readonly SecretKey[]) {
    const [first] = keys;
    if (!first) throw new Error('a secret box needs at least one key');
    const opening = new Map<string, Buffer>();
    for (const { keyId, key } of keys) {
      if (!KEY_ID.test(keyId)) throw new Error('a secret key id is 1 to 64 of A-Z a-z 0-9 _ -');
      if (key.length !== KEY_BYTES) throw new Error(`secret key ${keyId} is not ${KEY_BYTES} bytes`);
      if (!opening.has(keyId)) opening.set(keyId, Buffer.from(key));
    }
    this.sealing = { keyId: first.keyId, key: Buffer.from(first.key) };
    this.opening = opening;
  }

  /** The id of the key that seals. */
  get sealingKeyId(): string {
    return this.sealing.keyId;
  }

  /** The key ids that open, the sealing one first. */
  get keyIds(): string[] {
    return [...this.opening.keys()];
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(this.sealing.keyId, context));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.sealing.keyId, iv.toString('base64url'), sealed.toString('base64url')].join(':');
  }

  /** Whether `sealed` was sealed with another key than the one that seals now (it should be sealed again). */
  sealedWithOlderKey(sealed: string): boolean {
    const parts = sealed.split(':');
    return parts.length !== 4 || parts[0] !== VERSION || parts[1] !== this.sealing.keyId;
  }

  /** The plaintext; throws SecretBoxError when the value is malformed, tampered with, or for a key or context not held. */
  open(sealed: string, context: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError('not a sealed secret');
    const [, keyId, ivText, bodyText] = parts as [string, string, string, string];
    if (!BASE64URL.test(ivText) || !BASE64URL.test(bodyText)) throw new SecretBoxError('not a sealed secret');
    const key = this.opening.get(keyId);
    if (!key) throw new SecretBoxError('sealed with a key that is not configured');
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SecretBoxError('not a sealed secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(keyId, context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('the sealed secret does not open: tampered with, or sealed with another key or for another context');
    }
  }

  /**
   * A 32-byte key for `purpose` (e.g. keying a MAC), derived (HKDF-SHA256) from the sealing key: never
   * the sealing key itself, different for every purpose, and new after a rotation.
   */
  subkey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.sealing.key, Buffer.alloc(0), `scriptorium-secret-box\0subkey\0${purpose}`, KEY_BYTES));
  }

  /** Whether `sealed` opens (in `context`) to exactly `plaintext`; false when it does not open at all. */
  holds(sealed: string, context: string, plaintext: string): boolean {
    let opened: string;
    try {
      opened = this.open(sealed, context);
    } catch {
      return false;
    }
    const a = createHash('sha256').update(opened, 'utf8').digest();
    const b = createHash('sha256').update(plaintext, 'utf8').digest();
    return timingSafeEqual(a, b);
  }
}

function additionalData(keyId: string, context: string): Buffer {
  return Buffer.from(`scriptorium-secret-box\0${VERSION}\0${keyId}\0${context}`, 'utf8');
}

/** A fresh random key; its id is derived from it (what an operator could put in SECRETS_KEY). */
export function generateSecretKey(): SecretKey {
  const key = randomBytes(KEY_BYTES);
  return { keyId: derivedKeyId(key), key };
}

/** A key id for a key given without one: a short fingerprint (it reveals nothing usable about the key). */
export function derivedKeyId(key: Buffer): string {
  return `k${createHash('sha256').update('scriptorium-secret-key-id\0').update(key).digest('base64url').slice(0, 11)}`;
}

// ---------------------------------------------------------------------------------------------------
// Configuration

function configurationError(reason: string): Error {
  return new Error(`${SECRETS_KEY_VARIABLE} is malformed: ${reason} (expected comma-separated keys, each [keyId:]<base64 of 32 random bytes>, the first one sealing)`);
}

export function parseConfiguredSecretKeys(text: string): SecretKey[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw configurationError('no key');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const keyId = colon >= 0 ? entry.slice(0, colon).trim() : undefined;
    const encoded = (colon >= 0 ? entry.slice(colon + 1) : entry).trim();
    if (keyId !== undefined && !KEY_ID.test(keyId)) throw configurationError(`key ${index}: the key id is not 1 to 64 of A-Z a-z 0-9 _ -`);
    if (!BASE64.test(encoded)) throw configurationError(`key ${index}: not base64`);
    const key = Buffer.from(encoded, encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64');
    if (key.length !== KEY_BYTES) throw configurationError(`key ${index}: ${key.length} bytes, not ${KEY_BYTES}`);
    return { keyId: keyId ?? derivedKeyId(key), key };
  });
  if (new Set(keys.map((key) => key.keyId)).size !== keys.length) throw configurationError('two keys share a key id');
  return keys;
}

// ---------------------------------------------------------------------------------------------------
// Loading

export async function loadSecretBox(source: { configuredKeys?: string; knex: Knex }): Promise<SecretBox> {
  if (source.configuredKeys !== undefined && source.configuredKeys.trim() !== '') {
    const configured = parseConfiguredSecretKeys(source.configuredKeys);
    // Keys generated before SECRETS_KEY was set still open what they sealed; they never seal again.
    const stored = await readStoredKeys(source.knex);
    return new SecretBox([...configured, ...stored.filter((key) => !configured.some((own) => own.keyId === key.keyId))]);
  }
  let stored = await readStoredKeys(source.knex);
  if (stored.length === 0) {
    await insertFirstKey(source.knex);
    stored = await readStoredKeys(source.knex);
  }
  return new SecretBox(stored);
}

interface StoredKeyRow {
  key_id: string;
  key: string;
}

/** Newest first: the newest key seals. */
async function readStoredKeys(knex: Knex): Promise<SecretKey[]> {
  const rows = await knex<StoredKeyRow>('secret_keys')
    .select('key_id', 'key')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'key_id', order: 'desc' },
    ]);
  return rows.map((row) => {
    const key = Buffer.from(row.key, 'base64');
    if (!KEY_ID.test(row.key_id) || key.length !== KEY_BYTES) throw new Error(`secret_keys row ${KEY_ID.test(row.key_id) ? row.key_id : '(malformed id)'} is malformed`);
    return { keyId: row.key_id, key };
  });
}

/** The lock conflicts with itself but not with readers: the second process to get it sees the first one's key and inserts nothing. */
async function insertFirstKey(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw('LOCK TABLE secret_keys IN SHARE ROW EXCLUSIVE MODE');
    const existing = await trx('secret_keys').first('key_id');
    if (existing) return;
    const { keyId, key } = generateSecretKey();
    await trx('secret_keys').insert({ key_id: keyId, key: key.toString('base64') });
  });
}
