/**
 * Access tokens: short-lived JWTs (RFC 9068 profile, `typ: at+jwt`) signed with Ed25519. Anyone with
 * the JWKS can check them, no database is read per request, and they expire on their own after 15
 * minutes; sessions last through refresh tokens instead (refresh-tokens.ts). A token may name its
 * session (the refresh token family) in `sid`, so that "sign out everywhere else" knows which to keep.
 *
 * Verification trusts nothing in the token that picks how it is checked: the algorithm is
 * allow-listed to EdDSA (so neither `none` nor an HMAC keyed with the public key passes), the key
 * is found by `kid` among our own keys only, and issuer, audience, type and expiry must all match.
 * Every failure is one 401 problem; only expiry has a code of its own, so clients know to refresh.
 */
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWK, type JWTHeaderParameters } from 'jose';
import { Problem } from '../http/problem';
import type { SigningKey, SigningKeySet } from './signing-keys';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/** Optional context of a token: the session (refresh token family) it was issued in, as claim `sid`. */
export interface AccessTokenContext {
  sessionId?: string;
}

export interface VerifiedAccessToken {
  userId: string;
  sessionId?: string;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds?: number;
  clock?: () => Date;
}

function invalidToken(message = 'the access token is not valid'): Problem {
  return new Problem('unauthorized', 'AUTH.INVALID_TOKEN', message);
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export class AccessTokens {
  private readonly ttlSeconds: number;
  private readonly clock: () => Date;
  private readonly publicKeys: ReadonlyMap<string, SigningKey>;
  private readonly verified = new Map<string, { claims: VerifiedAccessToken; expiresAt: number }>();

  constructor(
    private readonly keys: SigningKeySet,
    private readonly options: AccessTokenOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
    this.clock = options.clock ?? (() => new Date());
    this.publicKeys = new Map(keys.verification.map((key) => [key.kid, key.publicKey]));
  }

  async sign(userId: string, context: AccessTokenContext = {}): Promise<{ accessToken: string; expiresIn: number }> {
    const issuedAt = epochSeconds(this.clock());
    const claims = context.sessionId === undefined ? {} : { sid: context.sessionId };
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, typ: ACCESS_TOKEN_TYPE, kid: this.keys.current.kid })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(userId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(this.keys.current.privateKey);
    return { accessToken, expiresIn: this.ttlSeconds };
  }

  async verify(token: string): Promise<VerifiedAccessToken> {
    // A token checked once stays good until it expires: answer repeats from memory (signature checks
    // are most of a small request's cost). Keyed by the whole token, so a changed byte is checked anew.
    const known = this.verified.get(token);
    if (known && known.expiresAt > this.clock().getTime()) return known.claims;
    const claims = await this.verifyAfresh(token);
    this.remember(token, claims);
    return claims;
  }

  private remember(token: string, claims: VerifiedAccessToken): void {
    const expiresAt = readExpiry(token);
    if (expiresAt === undefined) return;
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { claims, expiresAt });
  }

  private async verifyAfresh(token: string): Promise<VerifiedAccessToken> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.publicKeyFor(header), {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: ACCESS_TOKEN_TYPE,
        currentDate: this.clock(),
        requiredClaims: ['sub', 'iat', 'exp', 'jti'],
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw invalidToken();
      if (payload.sid === undefined) return { userId: payload.sub };
      if (typeof payload.sid !== 'string' || payload.sid === '') throw invalidToken();
      return { userId: payload.sub, sessionId: payload.sid };
    } catch (error) {
      throw asProblem(error);
    }
  }

  /** The public keys, as served at the JWKS endpoint: never the private members. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.verification.map(({ publicJwk }) => publicOnly(publicJwk)) };
  }

  private publicKeyFor(header: JWTHeaderParameters): SigningKey {
    const key = header.kid === undefined ? undefined : this.publicKeys.get(header.kid);
    if (!key) throw invalidToken('the access token was signed by an unknown key');
    return key;
  }
}

/** How many verified tokens are remembered (oldest forgotten first). */
const VERIFIED_CACHE_SIZE = 10_000;

/** The `exp` of a token that has just been verified, in milliseconds. */
function readExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function asProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof errors.JWTExpired) return new Problem('unauthorized', 'AUTH.TOKEN_EXPIRED', 'the access token has expired');
  return invalidToken();
}

const PUBLIC_OKP_MEMBERS = ['kty', 'crv', 'x', 'kid', 'alg', 'use'] as const;

/** Copies only the members an Ed25519 public key has, whatever the caller put in the set. */
function publicOnly(jwk: JWK): JWK {
  const copy: JWK = {};
  for (const member of PUBLIC_OKP_MEMBERS) if (jwk[member] !== undefined) copy[member] = jwk[member];
  return copy;
}
