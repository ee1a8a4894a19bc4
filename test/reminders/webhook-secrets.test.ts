/**
 * Webhook secrets never stored or logged in plain text: the secret a user registers is sealed before
 * it reaches the log, so no stored event (nor the read model, nor the idempotency table) holds it and
 * no log line shows it; the delivery worker opens it to sign, and the receiver verifies the HMAC with
 * its own copy. A sealed secret is bound to its owner: copied to another user's channels, it does not
 * open, and that delivery fails saying so. The idempotency table, which keeps answers and request
 * fingerprints, holds neither a token shown once nor a fast hash of a password.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestFingerprint } from '../../infra/http/idempotency';
import { createLogger } from '../../infra/logging/logger';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';
import { createNote, TestClock } from './reminders-support';

jest.setTimeout(60_000);

const SECRET = 'plain-webhook-secret-9f3c2a7e51d84b06';
const EVE_SECRET = 'eves-own-webhook-secret-0c1d2e3f4a5b';

/** The receiving side: verifies each request's signature with the secret it shares; 204 when it holds, 401 otherwise. */
async function startVerifyingEndpoint(secret: string) {
  const received: { body: string; verified: boolean }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const timestamp = String(req.headers['x-scriptorium-timestamp']);
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
      const given = Buffer.from(String(req.headers['x-scriptorium-signature']));
      const verified = given.length === expected.length && timingSafeEqual(given, expected);
      received.push({ body, verified });
      res.statusCode = verified ? 204 : 401;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/scriptorium`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('webhook secrets', () => {
  const clock = new TestClock(new Date('2026-10-01T08:00:00.000Z'));
  const logLines: string[] = [];
  let t: TestService;
  let endpoint: Awaited<ReturnType<typeof startVerifyingEndpoint>>;
  let ann: SignedUpUser;

  beforeAll(async () => {
    endpoint = await startVerifyingEndpoint(SECRET);
    t = await startTestService('webhook_secrets', {
      service: { clock: clock.now },
      // Every line at every level, kept to be searched for the secret.
      logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }),
      env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', NOTIFICATION_DELIVERY_INTERVAL_MS: '100', REMINDER_DISPATCH_INTERVAL_MS: '100' },
    });
    ann = await signUp(t.http);
  });
  afterAll(async () => {
    await t.close();
    await endpoint.close();
  });

  /** Sets a once reminder on a fresh note a minute ahead, moves the clock there, fires it, and answers its notification's id. */
  async function fireReminder(user: SignedUpUser): Promise<string> {
    const note = await createNote(t.http, user, 'Psalm 119:105');
    const created = await t.http.post(`/api/notes/${note}/reminders`).set(user.auth).send({ kind: 'once', at: new Date(clock.now().getTime() + 60_000).toISOString() });
    expect(created.status).toBe(201);
    await t.http.get(`/api/reminders/${created.body.id}`).set(user.auth).set('X-Consistency-Token', String(created.headers['x-consistency-token'])).expect(200);
    clock.advance(60_000);
    await t.service.reminders!.dispatcher.tick();
    let id = '';
    await waitFor(async () => {
      id = (await t.db.knex('notifications').where({ reminder_id: created.body.id }).first())?.id;
      return id !== undefined;
    }, 10_000, 'the notification');
    return id;
  }

  async function webhookDelivery(notificationId: string) {
    return t.db.knex('notification_deliveries').where({ notification_id: notificationId, channel: 'webhook' }).first();
  }

  it('registers the webhook without ever answering the secret, and an unchanged PUT records nothing', async () => {
    const body = { webhook: { url: endpoint.url, secret: SECRET }, email: false };
    const set = await t.http.put('/api/me/notification-channels').set(ann.auth).set('Idempotency-Key', 'channels-1').send(body);
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ targetRetention: 0.9, webhook: { url: endpoint.url, hasSecret: true }, email: false });
    const settings = await t.http.get('/api/me/reminder-settings').set(ann.auth).set('X-Consistency-Token', String(set.headers['x-consistency-token']));
    expect(settings.body).toEqual({ targetRetention: 0.9, webhook: { url: endpoint.url, hasSecret: true }, email: false });
    const replayed = await t.http.put('/api/me/notification-channels').set(ann.auth).set('Idempotency-Key', 'channels-1').send(body);
    expect(replayed.headers['idempotent-replayed']).toBe('true');

    const again = await t.http.put('/api/me/notification-channels').set(ann.auth).send(body);
    expect(again.status).toBe(200);
    const channelEvents = await t.db.knex('events').where({ stream_id: `reminder_settings-${ann.id}`, event_type: 'NotificationChannelsSet' }).select('data');
    expect(channelEvents).toHaveLength(1);
    expect(channelEvents[0].data.webhook).toEqual({ url: endpoint.url, sealedSecret: expect.stringMatching(/^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/) });

    for (const res of [set, settings, replayed, again]) expect(JSON.stringify(res.body) + JSON.stringify(res.headers)).not.toContain(SECRET);
    // A refused secret is not echoed either.
    const refused = await t.http.put('/api/me/notification-channels').set(ann.auth).send({ webhook: { url: endpoint.url, secret: `${SECRET}${'x'.repeat(300)}` }, email: false });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).not.toContain(SECRET);
  });

  it('delivers signed with the secret, which the receiver verifies', async () => {
    const notificationId = await fireReminder(ann);
    await t.service.reminders!.delivery.tick();
    await waitFor(async () => (await webhookDelivery(notificationId))?.status === 'delivered', 10_000, 'the webhook delivery');
    const mine = endpoint.received.filter((request) => request.body.includes(notificationId));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.verified).toBe(true);
    expect(JSON.parse(mine[0]!.body)).toMatchObject({ type: 'notification.created', notification: { id: notificationId, title: 'Psalm 119:105' } });
  });

  it("does not open a sealed secret copied into another user's channels", async () => {
    const eve = await signUp(t.http);
    const set = await t.http.put('/api/me/notification-channels').set(eve.auth).send({ webhook: { url: endpoint.url, secret: EVE_SECRET }, email: false });
    await t.http.get('/api/me/reminder-settings').set(eve.auth).set('X-Consistency-Token', String(set.headers['x-consistency-token'])).expect(200);
    const anns = await t.db.knex('notification_channels').where({ user_id: ann.id }).first('webhook_secret');
    await t.db.knex('notification_channels').where({ user_id: eve.id }).update({ webhook_secret: anns.webhook_secret });

    const notificationId = await fireReminder(eve);
    await t.service.reminders!.delivery.tick();
    await waitFor(async () => (await webhookDelivery(notificationId))?.status === 'failed', 10_000, 'the failed delivery');
    expect(await webhookDelivery(notificationId)).toMatchObject({ attempts: 1, last_error: 'the webhook secret cannot be opened on this server: set the webhook again' });
    expect(endpoint.received.filter((request) => request.body.includes(notificationId))).toEqual([]);
  });

  it('keeps tokens shown once and passwords out of the idempotency table, and still replays the answer', async () => {
    const zoe = await signUp(t.http);
    const note = await createNote(t.http, zoe, 'John 1:1');
    const created = await t.http.post(`/api/notes/${note}/links`).set(zoe.auth).set('Idempotency-Key', 'link-1').send({});
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(token.length).toBeGreaterThan(20);
    const replayed = await t.http.post(`/api/notes/${note}/links`).set(zoe.auth).set('Idempotency-Key', 'link-1').send({});
    expect([replayed.status, replayed.headers['idempotent-replayed'], replayed.body]).toEqual([201, 'true', created.body]);
    const row = await t.db.knex('idempotency_keys').where({ user_id: zoe.id, key: 'link-1' }).first();
    expect(row.response_body.toString('utf8')).toMatch(/^v1:/);
    expect(row.response_body.toString('utf8')).not.toContain(token);

    const change = { currentPassword: zoe.password, newPassword: 'an even better horse battery staple' };
    const changed = await t.http.post('/api/me/password').set(zoe.auth).set('Idempotency-Key', 'password-1').send(change);
    expect(changed.status).toBe(200);
    const passwordRow = await t.db.knex('idempotency_keys').where({ user_id: zoe.id, key: 'password-1' }).first();
    // Not the bare SHA-256 of the request, which anyone reading the table could test password guesses against.
    expect(passwordRow.request_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(passwordRow.request_hash).not.toBe(requestFingerprint('POST', '/api/me/password', change));
    const again = await t.http.post('/api/me/password').set(zoe.auth).set('Idempotency-Key', 'password-1').send(change);
    expect([again.status, again.headers['idempotent-replayed']]).toEqual([200, 'true']);
  });

  it('leaves the secret in no stored event, read model or idempotency row, and in no log line', async () => {
    const events = await t.db.knex.raw<{ rows: { text: string }[] }>(`SELECT event_type || ' ' || data::text || ' ' || metadata::text AS text FROM events`);
    expect(events.rows.filter((row) => row.text.includes('NotificationChannelsSet'))).toHaveLength(2);
    for (const secret of [SECRET, EVE_SECRET]) {
      expect(events.rows.filter((row) => row.text.includes(secret))).toEqual([]);
      // Nor under an encoding of it.
      for (const encoded of [Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) expect(events.rows.filter((row) => row.text.includes(encoded))).toEqual([]);
    }
    const tables = await t.db.knex.raw<{ rows: { text: string }[] }>(
      `SELECT row_to_json(c)::text AS text FROM notification_channels c
       UNION ALL SELECT row_to_json(k)::text || convert_from(coalesce(k.response_body, ''::bytea), 'UTF8') FROM idempotency_keys k
       UNION ALL SELECT row_to_json(d)::text FROM notification_deliveries d
       UNION ALL SELECT row_to_json(a)::text FROM notification_delivery_attempts a`,
    );
    expect(tables.rows.some((row) => row.text.includes('channels-1'))).toBe(true); // the idempotency row is there
    for (const secret of [SECRET, EVE_SECRET]) expect(tables.rows.filter((row) => row.text.includes(secret))).toEqual([]);

    expect(logLines.length).toBeGreaterThan(20); // requests were logged at all
    expect(logLines.some((line) => line.includes('a webhook secret does not open'))).toBe(true);
    for (const secret of [SECRET, EVE_SECRET]) expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
  });
});
