/**
 * Access tokens: what a valid token carries, and every way a forged, foreign, stale or altered token
 * must be refused. Each attack is built by hand, the way an attacker would.
 */
import { createPublicKey } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { Problem } from '../http/problem';
import { AccessTokens } from './access-tokens';
import { generateSigningJwk, signingKeySet, type PrivateSigningJwk, type SigningKeySet } from './signing-keys';

const issuer = 'https://scriptorium.test';
const audience = 'scriptorium-api';
const userId = '3f1d0b8e-2c55-4f8e-9a57-0d6c1b9e7a10';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function expectRefused(verification: Promise<unknown>, code = 'AUTH.INVALID_TOKEN'): Promise<void> {
  const error: unknown = await verification.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Problem);
  expect(error).toMatchObject({ kind: 'unauthorized', code });
}

describe('access tokens', () => {
  let jwk: PrivateSigningJwk;
  let keys: SigningKeySet;
  let tokens: AccessTokens;

  beforeAll(async () => {
    jwk = await generateSigningJwk();
    keys = signingKeySet([jwk]);
    tokens = new AccessTokens(keys, { issuer, audience });
  });

  it('given a signed token, when it is verified, then it names the user', async () => {
    const { accessToken, expiresIn } = await tokens.sign(userId);

    await expect(tokens.verify(accessToken)).resolves.toEqual({ userId });
    expect(expiresIn).toBe(900);
  });

  it('given a signed token, then its header and claims follow the at+jwt profile', async () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const clocked = new AccessTokens(keys, { issuer, audience, clock: () => now });

    const { accessToken } = await clocked.sign(userId);

    expect(decodeProtectedHeader(accessToken)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid });
    const claims = decodeJwt(accessToken);
    expect(claims).toEqual({ iss: issuer, aud: audience, sub: userId, iat: now.getTime() / 1000, exp: now.getTime() / 1000 + 900, jti: expect.any(String) });
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
  });

  it('given a token signed in a session, then it carries the session as sid, and verification gives it back', async () => {
    const familyId = '9b2e4c1a-7d3f-4e8a-b6c5-1f0a2d3e4b5c';

    const { accessToken } = await tokens.sign(userId, { sessionId: familyId });

    expect(decodeJwt(accessToken).sid).toBe(familyId);
    await expect(tokens.verify(accessToken)).resolves.toEqual({ userId, sessionId: familyId });
  });

  it('given two tokens for one user, then their jti differ', async () => {
    const [first, second] = await Promise.all([tokens.sign(userId), tokens.sign(userId)]);

    expect(decodeJwt(first.accessToken).jti).not.toBe(decodeJwt(second.accessToken).jti);
  });

  it('given an unsigned token (alg none), then it is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = `${base64url({ alg: 'none', typ: 'at+jwt', kid: jwk.kid })}.${base64url({ iss: issuer, aud: audience, sub: userId, iat: now, exp: now + 900, jti: 'x' })}.`;

    await expectRefused(tokens.verify(forged));
  });

  it('given a token signed with HS256 keyed by our public key (algorithm confusion), then it is refused', async () => {
    const publicKeyBytes = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }).export({ format: 'der', type: 'spki' });
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime('15m')
      .setJti('x')
      .sign(new Uint8Array(publicKeyBytes));

    await expectRefused(tokens.verify(forged));
  });

  it('given a token for another audience, then it is refused', async () => {
    const { accessToken } = await new AccessTokens(keys, { issuer, audience: 'another-api' }).sign(userId);

    await expectRefused(tokens.verify(accessToken));
  });

  it('given a token from another issuer, then it is refused', async () => {
    const { accessToken } = await new AccessTokens(keys, { issuer: 'https://elsewhere.test', audience }).sign(userId);

    await expectRefused(tokens.verify(accessToken));
  });

  it('given a token of another type (typ JWT, e.g. an ID token), then it is refused', async () => {
    const idToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: jwk.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime('15m')
      .setJti('x')
      .sign(keys.current.privateKey);

    await expectRefused(tokens.verify(idToken));
  });

  it('given a token 15 minutes and 1 second old, then it is refused as expired; at 14 minutes it passes', async () => {
    let now = new Date('2026-11-22T10:00:00Z');
    const clocked = new AccessTokens(keys, { issuer, audience, clock: () => now });
    const { accessToken } = await clocked.sign(userId);

    now = new Date('2026-11-22T10:14:00Z');
    await expect(clocked.verify(accessToken)).resolves.toEqual({ userId });

    now = new Date('2026-11-22T10:15:01Z');
    await expectRefused(clocked.verify(accessToken), 'AUTH.TOKEN_EXPIRED');
  });

  it('given a token signed by a key we do not know, then it is refused', async () => {
    const stranger = signingKeySet([await generateSigningJwk()]);
    const { accessToken } = await new AccessTokens(stranger, { issuer, audience }).sign(userId);

    await expectRefused(tokens.verify(accessToken));
  });

  it('given a token signed by another key under our kid, then it is refused', async () => {
    const impostor = signingKeySet([{ ...(await generateSigningJwk()), kid: jwk.kid }]);
    const { accessToken } = await new AccessTokens(impostor, { issuer, audience }).sign(userId);

    await expectRefused(tokens.verify(accessToken));
  });

  it('given a valid token whose payload was changed to another user, then it is refused', async () => {
    const { accessToken } = await tokens.sign(userId);
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${header}.${base64url({ ...claims, sub: 'someone-else' })}.${signature}`;

    await expectRefused(tokens.verify(tampered));
  });

  it.each(['', 'not-a-jwt', 'a.b.c', 'a.b'])('given the garbage %p, then it is refused', async (garbage) => {
    await expectRefused(tokens.verify(garbage));
  });

  it('given a token signed by the old key, when a new key is put first, then it still verifies and new tokens use the new key', async () => {
    const { accessToken: oldToken } = await tokens.sign(userId);
    const newJwk = await generateSigningJwk();
    const rotated = new AccessTokens(signingKeySet([newJwk, jwk]), { issuer, audience });

    const { accessToken: newToken } = await rotated.sign(userId);

    await expect(rotated.verify(oldToken)).resolves.toEqual({ userId });
    await expect(rotated.verify(newToken)).resolves.toEqual({ userId });
    expect(decodeProtectedHeader(newToken).kid).toBe(newJwk.kid);
    await expectRefused(tokens.verify(newToken)); // the old set does not know the new key yet
  });

  it('when the JWKS is asked for, then it lists every verification key with its public parts only', async () => {
    const second = await generateSigningJwk();
    const rotated = new AccessTokens(signingKeySet([second, jwk]), { issuer, audience });

    const { keys: published } = rotated.jwks();

    expect(published.map((key) => key.kid)).toEqual([second.kid, jwk.kid]);
    for (const key of published) {
      expect(key).not.toHaveProperty('d');
      expect(key).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.any(String), alg: 'EdDSA', use: 'sig' });
    }
    expect(JSON.stringify(published)).not.toContain(second.d);
    expect(JSON.stringify(published)).not.toContain(jwk.d);
  });
});
