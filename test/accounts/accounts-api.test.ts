/**
 * Accounts over HTTP, against the real PostgreSQL: sign-up, log-in, refresh, log-out, profile and
 * password, with the security promises of the accounts issue.
 */
import { SignJWT, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { createPasswordHasher } from '../../infra/security/passwords';
import { loadSecretBox, SecretBoxError } from '../../infra/security/secret-box';
import { startTestService, signUp, type TestService } from '../support/test-service';

/** Metadata for events a test writes straight into the log, as an operator's tool would. */
const byTheSystem = () => ({ correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: new Date().toISOString() });

describe('accounts API', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('accounts');
  });
  afterAll(() => t.close());

  describe('sign-up', () => {
    it('creates the account, answers tokens and a consistency token, and GET /api/me sees it at once with that token', async () => {
      const res = await t.http.post('/api/auth/signup').send({ email: '  Ann@Example.COM ', password: 'correct horse battery staple', displayName: 'Ann' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        user: { id: expect.any(String), email: 'ann@example.com', displayName: 'Ann' },
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        expiresIn: 900,
      });
      const token = res.headers['x-consistency-token'];
      expect(token).toMatch(/^\d{20}\.\d{20}$/);
      const me = await t.http.get('/api/me').set('Authorization', `Bearer ${res.body.accessToken}`).set('X-Consistency-Token', String(token));
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: res.body.user.id, email: 'ann@example.com', displayName: 'Ann' });
    });

    it('records an argon2id hash (m=19456, t=2, p=1) only sealed for this user, and never the password', async () => {
      const user = await signUp(t.http, { password: 'a quite unusual passphrase' });
      const [event] = await t.db.knex('events').where({ stream_id: `user-${user.id}`, event_type: 'UserSignedUp' }).select('data');
      const stored = String(event.data.passwordHash);
      expect(stored).not.toContain('argon2');
      const secrets = await loadSecretBox({ knex: t.db.knex });
      expect(() => secrets.open(stored, `password-hash:${randomUUID()}`)).toThrow(SecretBoxError);
      const hash = secrets.open(stored, `password-hash:${user.id}`);
      const [, algorithm, , parameters] = hash.split('$');
      expect(algorithm).toBe('argon2id');
      expect(Object.fromEntries(parameters!.split(',').map((pair) => pair.split('=')))).toEqual({ m: '19456', t: '2', p: '1' });
      expect(await createPasswordHasher().verify(hash, 'a quite unusual passphrase')).toBe(true);
      const everything = JSON.stringify(await t.db.knex('events').select('data', 'metadata'));
      expect(everything).not.toContain('a quite unusual passphrase');
      expect(everything).not.toContain('$argon2');
    });

    it('refuses short, long and common passwords with stable codes', async () => {
      const attempt = (password: string) => t.http.post('/api/auth/signup').send({ email: `${randomUUID()}@example.com`, password });
      expect((await attempt('short')).body.code).toBe('PASSWORD.TOO_SHORT');
      expect((await attempt('x'.repeat(129))).body.code).toBe('PASSWORD.TOO_LONG');
      const common = await attempt('password123');
      expect(common.status).toBe(422);
      expect(common.body.code).toBe('PASSWORD.TOO_COMMON');
      expect(common.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('refuses malformed bodies with 400 and unknown fields', async () => {
      const bad = await t.http.post('/api/auth/signup').send({ email: 'not-an-email', password: 'correct horse battery staple' });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('REQUEST.INVALID');
      const extra = await t.http.post('/api/auth/signup').send({ email: 'x@example.com', password: 'correct horse battery staple', admin: true });
      expect(extra.status).toBe(400);
      const text = await t.http.post('/api/auth/signup').set('Content-Type', 'text/plain').send('hello');
      expect(text.status).toBe(415);
      const broken = await t.http.post('/api/auth/signup').set('Content-Type', 'application/json').send('{"email":');
      expect(broken.status).toBe(400);
      expect(broken.body.code).toBe('HTTP.MALFORMED_JSON');
      expect(JSON.stringify(broken.body)).not.toMatch(/at .*\.js/);
    });

    it('gives exactly one 201 to 20 concurrent sign-ups with one address (in any letter case)', async () => {
      const email = `race-${randomUUID()}@example.com`;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.http.post('/api/auth/signup').send({ email: i % 2 ? email.toUpperCase() : email, password: 'correct horse battery staple' }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
      expect(results.find((r) => r.status === 409)!.body.code).toBe('USER.EMAIL_TAKEN');
      const signups = await t.db.knex('events').where('event_type', 'UserSignedUp').whereRaw("data->>'email' = ?", [email]).count({ n: '*' });
      expect(signups).toEqual([{ n: '1' }]);
    });
  });

  describe('log-in', () => {
    it('works right after sign-up, normalizing the address', async () => {
      const user = await signUp(t.http);
      const res = await t.http.post('/api/auth/login').send({ email: user.email.toUpperCase(), password: user.password });
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(user.id);
      expect(res.body.refreshToken).not.toBe(user.refreshToken);
    });

    it('answers an unknown address and a wrong password with the same 401, in about the same time', async () => {
      const user = await signUp(t.http);
      const time = async (email: string) => {
        const started = performance.now();
        const res = await t.http.post('/api/auth/login').send({ email, password: 'wrong password entirely' });
        return { res, ms: performance.now() - started };
      };
      await time('warmup@example.com');
      // Alternating rounds, compared by their medians: one busy moment on a loaded machine is not a verdict.
      const unknownTimes: number[] = [];
      const wrongTimes: number[] = [];
      // Three wrong passwords: below the per-account lockout.
      let unknown = await time(`nobody-${randomUUID()}@example.com`);
      let wrong = await time(user.email);
      unknownTimes.push(unknown.ms);
      wrongTimes.push(wrong.ms);
      for (let round = 0; round < 2; round++) {
        unknown = await time(`nobody-${randomUUID()}@example.com`);
        wrong = await time(user.email);
        unknownTimes.push(unknown.ms);
        wrongTimes.push(wrong.ms);
      }
      expect(unknown.res.status).toBe(401);
      expect(wrong.res.status).toBe(401);
      expect(unknown.res.body.code).toBe('AUTH.INVALID_CREDENTIALS');
      const { instance: _a, ...unknownBody } = unknown.res.body;
      const { instance: _b, ...wrongBody } = wrong.res.body;
      expect(unknownBody).toEqual(wrongBody);
      // Both spend one argon2 verification; generous bounds keep this robust on a busy machine.
      const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      const ratio = median(unknownTimes) / median(wrongTimes);
      expect(ratio).toBeGreaterThan(0.3);
      expect(ratio).toBeLessThan(3);
    });

    it('still accepts a password whose hash was recorded in the clear before sealing began, and records it anew, sealed', async () => {
      const user = await signUp(t.http);
      const clearHash = await createPasswordHasher().hash('an older fine passphrase');
      await t.service.platform.store.append(
        `user-${user.id}`,
        [{ id: randomUUID(), type: 'UserPasswordChanged', data: { userId: user.id, passwordHash: clearHash, changedAt: new Date().toISOString() }, metadata: byTheSystem() }],
        { expectedRevision: 0n },
      );
      expect((await t.http.post('/api/auth/login').send({ email: user.email, password: 'an older fine passphrase' })).status).toBe(200);
      expect((await t.http.post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(401);

      // That log-in recorded the same password anew, sealed; the next one finds nothing to renew.
      const renewals = () => t.db.knex('events').where({ stream_id: `user-${user.id}`, event_type: 'UserPasswordHashRenewed' }).select('data');
      const [renewed] = await renewals();
      expect(String(renewed.data.passwordHash)).not.toContain('argon2');
      const secrets = await loadSecretBox({ knex: t.db.knex });
      expect(await createPasswordHasher().verify(secrets.open(String(renewed.data.passwordHash), `password-hash:${user.id}`), 'an older fine passphrase')).toBe(true);
      expect((await t.http.post('/api/auth/login').send({ email: user.email, password: 'an older fine passphrase' })).status).toBe(200);
      expect(await renewals()).toHaveLength(1);
    });

    it('answers 500, never a successful log-in, when the recorded value does not open for this account', async () => {
      const owner = await signUp(t.http, { password: 'the owner passphrase' });
      const victim = await signUp(t.http);
      const [event] = await t.db.knex('events').where({ stream_id: `user-${owner.id}`, event_type: 'UserSignedUp' }).select('data');
      // Someone with write access to the log copies the owner's sealed hash into another account.
      await t.service.platform.store.append(
        `user-${victim.id}`,
        [{ id: randomUUID(), type: 'UserPasswordChanged', data: { userId: victim.id, passwordHash: event.data.passwordHash, changedAt: new Date().toISOString() }, metadata: byTheSystem() }],
        { expectedRevision: 0n },
      );
      const res = await t.http.post('/api/auth/login').send({ email: victim.email, password: 'the owner passphrase' });
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(res.body)).not.toMatch(/sealed|v1:|at .*\.ts/);
    });
  });

  describe('sessions', () => {
    it('rotates refresh tokens; reusing a rotated one ends the whole family, the newest token too', async () => {
      const user = await signUp(t.http);
      const first = await t.http.post('/api/auth/refresh').send({ refreshToken: user.refreshToken });
      expect(first.status).toBe(200);
      expect(Object.keys(first.body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken']);
      const reuse = await t.http.post('/api/auth/refresh').send({ refreshToken: user.refreshToken });
      expect(reuse.status).toBe(401);
      expect(reuse.body.code).toBe('AUTH.REFRESH_TOKEN_REUSED');
      const newest = await t.http.post('/api/auth/refresh').send({ refreshToken: first.body.refreshToken });
      expect(newest.status).toBe(401);
    });

    it('lets exactly one of two concurrent refreshes with one token succeed', async () => {
      const user = await signUp(t.http);
      const results = await Promise.all([1, 2].map(() => t.http.post('/api/auth/refresh').send({ refreshToken: user.refreshToken })));
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('logout revokes the refresh token', async () => {
      const user = await signUp(t.http);
      expect((await t.http.post('/api/auth/logout').send({ refreshToken: user.refreshToken })).status).toBe(204);
      expect((await t.http.post('/api/auth/refresh').send({ refreshToken: user.refreshToken })).status).toBe(401);
    });

    it('a password change keeps this session, ends every other one, and the new password works', async () => {
      const user = await signUp(t.http);
      const other = await t.http.post('/api/auth/login').send({ email: user.email, password: user.password });
      const wrong = await t.http.post('/api/me/password').set(user.auth).send({ currentPassword: 'not my password', newPassword: 'another fine passphrase' });
      expect(wrong.status).toBe(403);
      const changed = await t.http.post('/api/me/password').set(user.auth).send({ currentPassword: user.password, newPassword: 'another fine passphrase' });
      expect(changed.status).toBe(200);
      expect((await t.http.post('/api/auth/refresh').send({ refreshToken: other.body.refreshToken })).status).toBe(401);
      expect((await t.http.post('/api/auth/refresh').send({ refreshToken: user.refreshToken })).status).toBe(200);
      expect((await t.http.post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(401);
      expect((await t.http.post('/api/auth/login').send({ email: user.email, password: 'another fine passphrase' })).status).toBe(200);
    });
  });

  describe('profile', () => {
    it('PATCH /api/me changes the display name, and the query side shows it with the consistency token', async () => {
      const user = await signUp(t.http);
      const res = await t.http.patch('/api/me').set(user.auth).send({ displayName: 'Renamed' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: user.id, email: user.email, displayName: 'Renamed' });
      const me = await t.http.get('/api/me').set(user.auth).set('X-Consistency-Token', String(res.headers['x-consistency-token']));
      expect(me.body.displayName).toBe('Renamed');
    });
  });

  describe('access tokens', () => {
    it('publishes public keys only', async () => {
      const res = await t.http.get('/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.body.keys.length).toBeGreaterThan(0);
      for (const key of res.body.keys) {
        expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: expect.any(String) });
        expect(key.d).toBeUndefined();
      }
    });

    it('refuses alg none, a foreign key, a wrong audience, an expired token, an unknown kid and a missing token with 401', async () => {
      const user = await signUp(t.http);
      const [header, payload] = user.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const kid = JSON.parse(Buffer.from(header!, 'base64url').toString()).kid;
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${payload}.`;
      const foreign = await generateKeyPair('EdDSA');
      const signWith = (over: Record<string, unknown>, headerOver: Record<string, unknown> = {}) =>
        new SignJWT({ ...claims, ...over }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, ...headerOver }).sign(foreign.privateKey);
      const tokens = {
        none,
        foreignKey: await signWith({}),
        wrongAudience: await signWith({ aud: 'someone-else' }),
        expired: await signWith({ exp: 1_000 }),
        unknownKid: await signWith({}, { kid: 'not-a-key-of-ours' }),
        hmac: await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(new TextEncoder().encode('x'.repeat(32))),
      };
      for (const [name, token] of Object.entries(tokens)) {
        const res = await t.http.get('/api/me').set('Authorization', `Bearer ${token}`);
        expect([name, res.status]).toEqual([name, 401]);
      }
      expect((await t.http.get('/api/me')).status).toBe(401);
      expect((await t.http.get('/api/me').set(user.auth)).status).not.toBe(401);
    });
  });

  describe('read-your-writes', () => {
    it('refuses a malformed consistency token with 400', async () => {
      const user = await signUp(t.http);
      const res = await t.http.get('/api/me').set(user.auth).set('X-Consistency-Token', 'yesterday');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('CONSISTENCY.INVALID_TOKEN');
    });
  });
});

describe('accounts API rate limits', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('ratelimits', { env: { RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: '3', RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR: '3' } });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After after repeated failed logins for one account, even with the right password', async () => {
    const user = await signUp(t.http);
    for (let i = 0; i < 3; i++) expect((await t.http.post('/api/auth/login').send({ email: user.email, password: 'wrong password here' })).status).toBe(401);
    const blocked = await t.http.post('/api/auth/login').send({ email: user.email, password: user.password });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body.code).toBe('RATE_LIMIT.EXCEEDED');
  });

  it('answers 429 to too many sign-ups from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.http.post('/api/auth/signup').send({ email: `${randomUUID()}@example.com`, password: 'correct horse battery staple' })).status);
    expect(statuses).toContain(429);
  });
});
