/**
 * Safe retries for offline clients: the `Idempotency-Key` request header of
 * draft-ietf-httpapi-idempotency-key-header, for mutating requests of a signed-in user. A client that
 * lost an answer on the network sends the same request again with the same key and gets the first
 * answer back (with `Idempotent-Replayed: true`) instead of running the command twice; the case that
 * matters most is an edit whose 200 was lost, whose retry with its old If-Match would otherwise be
 * answered 412 against its own write.
 *
 * This module owns the `idempotency_keys` table. A row is claimed with one atomic statement (insert,
 * or take over a row that expired or whose in-flight lock was abandoned by a process that died), so
 * of any number of racing duplicates exactly one runs the handler; the others see 409 (still in
 * flight), 422 (the key names a different request) or the stored answer. The answer is captured by
 * wrapping `res.end` (Express's `json` and `send` end there) and written before it leaves, so an
 * answer the client may have seen is always one a retry can replay. 5xx answers (and 408 / 429, which
 * ask the client to come back) are not stored: the row is released and the retry runs again.
 *
 * The lock's `locked_at` is also its fence: a request whose lock was taken over (it outlived the lock
 * timeout) finds its timestamp gone and writes nothing. Keys belong to a user, expire after the
 * retention period (long: devices stay offline for weeks), and `purgeExpired` removes old rows.
 *
 * Given a secret box (the service always gives one), a stored answer is sealed (AES-256-GCM, bound to
 * its user and key): some answers carry a token shown once (a public link's, an invite's). And the
 * fingerprint is an HMAC under a key derived from the box's sealing key rather than a bare SHA-256:
 * some bodies carry a password or a webhook secret, which a fast unkeyed hash would let anyone reading
 * the table test guesses against. (After a key rotation, a retry of a request made before it is
 * answered 422 IDEMPOTENCY.KEY_REUSED rather than replayed: it is not run twice either way.)
 */
import { createHash, createHmac } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Knex } from 'knex';
import type { Logger } from '../logging/logger';
import type { SecretBox } from '../security/secret-box';
import { Problem } from './problem';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
export const DEFAULT_RETENTION_DAYS = 30;
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

/** What a replay gives back besides status and body; everything else is the new request's own. */
export const STORED_HEADERS = ['Content-Type', 'ETag', 'Location', 'X-Consistency-Token', 'Retry-After'] as const;

const TABLE = 'idempotency_keys';
const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Answers that tell the client to try again later: storing them would refuse the retry they invite. */
const RETRY_LATER_STATUSES = new Set([408, 429]);
const PRINTABLE_ASCII_KEY = /^[\x20-\x7e]{1,255}$/;
const DAY_MS = 86_400_000;
/** A claim can lose a race to a release or a takeover several times in a row only under heavy contention. */
const CLAIM_ATTEMPTS = 5;

export interface IdempotencyOptions {
  readonly knex: Knex;
  readonly clock?: () => Date;
  /** How long a key and its answer are kept (default 30 days). */
  readonly retentionDays?: number;
  /** After how long an in-flight request counts as abandoned and may be taken over (default 60 s). */
  readonly lockTimeoutMs?: number;
  readonly logger?: Logger;
  /** Seals stored answers and keys the request fingerprints; unset (some tests): stored as they are. */
  readonly secrets?: SecretBox;
}

interface StoredResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

interface KeyScope {
  readonly userId: string;
  readonly key: string;
}

type Claim =
  | { readonly kind: 'owned'; readonly lockedAt: Date }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'key_reused' }
  | { readonly kind: 'in_flight' };

interface KeyRow {
  readonly user_id: string;
  readonly key: string;
  readonly request_hash: string;
  readonly state: 'in_flight' | 'completed';
  readonly response_status: number | null;
  readonly response_headers: Record<string, unknown> | null;
  readonly response_body: Buffer | null;
  readonly locked_at: Date | null;
  readonly expires_at: Date;
}

export function idempotency(options: IdempotencyOptions): RequestHandler {
  const { knex, logger } = options;
  const clock = options.clock ?? (() => new Date());
  const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!(retentionDays > 0)) throw new RangeError('retentionDays must be positive');
  if (!(lockTimeoutMs > 0)) throw new RangeError('lockTimeoutMs must be positive');
  const expiresAfter = (now: Date) => new Date(now.getTime() + retentionDays * DAY_MS);
  const { secrets } = options;
  const fingerprintKey = secrets?.subkey('idempotency-request-fingerprint');
  const answerContext = (scope: KeyScope) => `idempotency-answer:${scope.userId}:${scope.key}`;
  /** The answer's body as stored: sealed (as UTF-8 text) when there is a box and a body. */
  const storedBody = (scope: KeyScope, body: Buffer) => (secrets && body.length > 0 ? Buffer.from(secrets.seal(body.toString('base64'), answerContext(scope)), 'utf8') : body);
  /** A stored body back: sealed ones are opened (a key no longer configured throws); bodies stored before sealing are as they were. */
  const answerBody = (scope: KeyScope, stored: Buffer) => {
    const text = stored.subarray(0, 3).toString('latin1') === 'v1:' ? stored.toString('utf8') : undefined;
    return secrets && text !== undefined ? Buffer.from(secrets.open(text, answerContext(scope)), 'base64') : stored;
  };

  async function claim(scope: KeyScope, requestHash: string): Promise<Claim> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const now = clock();
      const abandonedBefore = new Date(now.getTime() - lockTimeoutMs);
      // One statement: a new key is inserted; an expired row, or an abandoned lock on this very
      // request, is taken over. A row lock makes concurrent takeovers see each other's locked_at.
      const claimed = await knex.raw<{ rows: unknown[] }>(
        `INSERT INTO ${TABLE} AS k (user_id, key, request_hash, state, created_at, locked_at, expires_at)
         VALUES (?, ?, ?, 'in_flight', ?, ?, ?)
         ON CONFLICT (user_id, key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, state = 'in_flight', response_status = NULL,
               response_headers = NULL, response_body = NULL, created_at = EXCLUDED.created_at,
               locked_at = EXCLUDED.locked_at, expires_at = EXCLUDED.expires_at
           WHERE k.expires_at <= ?
              OR (k.state = 'in_flight' AND k.locked_at <= ? AND k.request_hash = EXCLUDED.request_hash)
         RETURNING 1`,
        [scope.userId, scope.key, requestHash, now, now, expiresAfter(now), now, abandonedBefore],
      );
      if (claimed.rows.length > 0) return { kind: 'owned', lockedAt: now };

      const row = await knex<KeyRow>(TABLE)
        .where({ user_id: scope.userId, key: scope.key })
        .first('request_hash', 'state', 'response_status', 'response_headers', 'response_body', 'locked_at', 'expires_at');
      // Gone (a 5xx released it), expired or abandoned since the insert looked: claim again.
      if (row === undefined || row.expires_at.getTime() <= now.getTime()) continue;
      if (row.request_hash !== requestHash) return { kind: 'key_reused' };
      if (row.state === 'completed') {
        const response = storedResponse(row);
        return { kind: 'replay', response: { ...response, body: answerBody(scope, response.body) } };
      }
      if (row.locked_at !== null && row.locked_at.getTime() <= abandonedBefore.getTime()) continue;
      return { kind: 'in_flight' };
    }
    return { kind: 'in_flight' };
  }

  /** Stores the answer (or releases the key), fenced by the lock this request took. Never throws. */
  async function settle(scope: KeyScope, lockedAt: Date, response: StoredResponse): Promise<void> {
    const fence = { user_id: scope.userId, key: scope.key, state: 'in_flight', locked_at: lockedAt };
    try {
      if (response.status >= 500 || RETRY_LATER_STATUSES.has(response.status)) {
        await knex(TABLE).where(fence).delete();
        return;
      }
      const updated = await knex(TABLE)
        .where(fence)
        .update({
          state: 'completed',
          response_status: response.status,
          response_headers: JSON.stringify(response.headers),
          response_body: storedBody(scope, response.body),
          locked_at: null,
          expires_at: expiresAfter(clock()),
        });
      if (updated === 0) logger?.warn({ userId: scope.userId, status: response.status }, 'idempotency key was taken over before the answer was stored');
    } catch (error) {
      // The answer still goes out; the key stays locked until the lock timeout, then a retry runs again.
      logger?.error({ err: error, userId: scope.userId }, 'could not store the answer of an idempotent request');
    }
  }

  return async (req, res, next) => {
    if (req.auth === undefined || !MUTATING_METHODS.has(req.method)) return next();
    let outcome: Claim;
    let scope: KeyScope;
    try {
      const key = idempotencyKeyOf(req);
      if (key === undefined) return next();
      scope = { userId: req.auth.userId, key };
      outcome = await claim(scope, requestFingerprint(req.method, req.originalUrl, req.body, fingerprintKey));
    } catch (error) {
      return next(error);
    }
    switch (outcome.kind) {
      case 'owned': {
        const { lockedAt } = outcome;
        const owner = scope;
        captureResponse(res, (response) => settle(owner, lockedAt, response));
        return next();
      }
      case 'replay':
        return replay(res, outcome.response);
      case 'key_reused':
        return next(new Problem('unprocessable', 'IDEMPOTENCY.KEY_REUSED', 'this Idempotency-Key was already used for a different request'));
      case 'in_flight':
        return next(new Problem('conflict', 'IDEMPOTENCY.IN_FLIGHT', 'a request with this Idempotency-Key is still being processed', undefined, { 'Retry-After': '1' }));
      default: {
        const unreachable: never = outcome;
        return next(unreachable);
      }
    }
  };
}

/** Deletes the keys whose retention has passed, in batches; answers how many. */
export async function purgeExpired(knex: Knex, now: Date, batchSize = 10_000): Promise<number> {
  let purged = 0;
  for (;;) {
    // The outer condition is checked again on rows a claim took over meanwhile, and keeps them.
    const result = await knex.raw<{ rowCount: number | null }>(
      `DELETE FROM ${TABLE}
       WHERE (user_id, key) IN (SELECT user_id, key FROM ${TABLE} WHERE expires_at <= ? LIMIT ?)
         AND expires_at <= ?`,
      [now, batchSize, now],
    );
    const deleted = result.rowCount ?? 0;
    purged += deleted;
    if (deleted < batchSize) return purged;
  }
}

// ---- the key and the request's fingerprint ----

/**
 * The key, or undefined without the header. The draft makes it a Structured Field string (quoted);
 * a bare token is accepted too, as most clients send one. Either way: 1..255 printable ASCII.
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  // Most requests carry none; `headersDistinct` (which tells a repeated header) is built only for those that do.
  if (req.headers['idempotency-key'] === undefined) return undefined;
  const values = req.headersDistinct['idempotency-key'];
  if (values === undefined) return undefined;
  const invalid = (detail: string) => new Problem('invalid', 'IDEMPOTENCY.INVALID_KEY', detail);
  if (values.length !== 1) throw invalid('send one Idempotency-Key header');
  const raw = values[0]!;
  const key = raw.startsWith('"') ? parseStructuredString(raw) : raw;
  if (key === undefined || !PRINTABLE_ASCII_KEY.test(key)) throw invalid('an Idempotency-Key is 1 to 255 printable ASCII characters');
  return key;
}

/** RFC 8941 sf-string: `"` ... `"` with `\"` and `\\` as the only escapes. */
function parseStructuredString(raw: string): string | undefined {
  let value = '';
  for (let i = 1; i < raw.length; i++) {
    const char = raw[i]!;
    if (char === '"') return i === raw.length - 1 ? value : undefined;
    if (char === '\\') {
      const escaped = raw[++i];
      if (escaped !== '"' && escaped !== '\\') return undefined;
      value += escaped;
    } else {
      value += char;
    }
  }
  return undefined;
}

/**
 * SHA-256 (HMAC-SHA256 under `key`, when given) of method, path with query, and the body in canonical
 * JSON (keys sorted): the body arrives parsed, and a retry that re-serializes it with other spacing or
 * key order is the same request.
 */
export function requestFingerprint(method: string, path: string, body: unknown, key?: Buffer): string {
  const hash = (key ? createHmac('sha256', key) : createHash('sha256')).update(`${method.toUpperCase()}\n${path}\n`);
  if (Buffer.isBuffer(body)) hash.update('bytes\n').update(body);
  else if (body !== undefined) hash.update('json\n').update(canonicalJson(body));
  return hash.digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// ---- capturing and replaying answers ----

type EndFunction = (...args: unknown[]) => Response;
type WriteFunction = (...args: unknown[]) => boolean;

/** Collects what the handler writes; at `end`, hands the answer to `store` and sends it once stored. */
function captureResponse(res: Response, store: (response: StoredResponse) => Promise<void>): void {
  const chunks: Buffer[] = [];
  const originalWrite = res.write.bind(res) as WriteFunction;
  const originalEnd = res.end.bind(res) as EndFunction;
  const collect = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8'));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  const write: WriteFunction = (...args) => {
    collect(args[0], args[1]);
    return originalWrite(...args);
  };
  const end: EndFunction = (...args) => {
    res.write = originalWrite as Response['write'];
    res.end = originalEnd as Response['end'];
    collect(args[0], args[1]);
    const headers: Record<string, string> = {};
    for (const name of STORED_HEADERS) {
      const value = res.getHeader(name);
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    void store({ status: res.statusCode, headers, body: Buffer.concat(chunks) }).then(() => originalEnd(...args));
    return res;
  };
  res.write = write as Response['write'];
  res.end = end as Response['end'];
}

function storedResponse(row: Pick<KeyRow, 'response_status' | 'response_headers' | 'response_body'>): StoredResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(row.response_headers ?? {})) if (typeof value === 'string') headers[name] = value;
  return { status: row.response_status ?? 500, headers, body: row.response_body ?? Buffer.alloc(0) };
}

function replay(res: Response, stored: StoredResponse): void {
  res.status(stored.status);
  for (const [name, value] of Object.entries(stored.headers)) res.setHeader(name, value);
  res.setHeader(REPLAYED_HEADER, 'true');
  if (stored.body.length > 0) res.end(stored.body);
  else res.end();
}
