/**
 * Notifications end to end: the inbox, the live stream (Server-Sent Events, resumable with
 * Last-Event-ID), a webhook on a real local HTTP server that fails twice before accepting, retried
 * with exponential backoff on the test's clock and signed with HMAC-SHA256, e-mail to a real SMTP
 * server (smtp-server) on loopback, and every delivery attempt visible to the user.
 */
import { createHmac } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';
import { createNote, logIn, TestClock } from './reminders-support';

jest.setTimeout(90_000);

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook endpoint that answers 500 to its first `failures` requests, then 204. */
async function startWebhookEndpoint(failures: number): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = received.length <= failures ? 500 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/scriptorium`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startSmtpServer(): Promise<{ port: number; messages: { to: string[]; raw: string }[]; close(): Promise<void> }> {
  const messages: { to: string[]; raw: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        messages.push({ to: session.envelope.rcptTo.map((address) => address.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.server.address() as AddressInfo).port, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** An SSE client on a real socket: collects `notification` events until closed. */
function openStream(baseUrl: string, auth: Record<string, string>, options: { lastEventId?: string; wait?: number } = {}) {
  const events: { id: string; data: { id: string; reminderId: string; title: string } }[] = [];
  let raw = '';
  let status = 0;
  let contentType = '';
  let ended = false;
  const request = http.get(`${baseUrl}/api/notifications/stream?wait=${options.wait ?? 60}`, { headers: { ...auth, Accept: 'text/event-stream', ...(options.lastEventId ? { 'Last-Event-ID': options.lastEventId } : {}) } });
  const opened = new Promise<void>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (res) => {
      status = res.statusCode ?? 0;
      contentType = String(res.headers['content-type']);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        let end: number;
        while ((end = raw.indexOf('\n\n')) >= 0) {
          const block = raw.slice(0, end);
          raw = raw.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').filter((line) => line && !line.startsWith(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
          if (fields.event === 'notification') events.push({ id: fields.id!, data: JSON.parse(fields.data!) });
        }
      });
      res.on('end', () => (ended = true));
      resolve();
    });
  });
  return {
    opened,
    events,
    get status() {
      return status;
    },
    get contentType() {
      return contentType;
    },
    get ended() {
      return ended;
    },
    close: () => request.destroy(),
  };
}

describe('notifications', () => {
  const clock = new TestClock(new Date('2026-09-01T08:00:00.000Z'));
  let t: TestService;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let server: http.Server;
  let baseUrl: string;
  let ann: SignedUpUser;
  let note: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestService('notifications', {
      service: { clock: clock.now },
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'Scriptorium Tests <reminders@example.test>',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        NOTIFICATION_RETRY_BASE_MS: '60000',
        NOTIFICATION_DELIVERY_MAX_ATTEMPTS: '4',
        NOTIFICATION_DELIVERY_INTERVAL_MS: '100',
        REMINDER_DISPATCH_INTERVAL_MS: '100',
      },
    });
    server = t.service.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ann = await signUp(t.http);
    note = await createNote(t.http, ann, 'Isaiah 40:31');
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
    await smtp.close();
  });

  /** Sets a once reminder a minute ahead, moves the clock there, and waits for its notification. */
  async function fireReminder(): Promise<string> {
    const created = await t.http.post(`/api/notes/${note}/reminders`).set(ann.auth).send({ kind: 'once', at: new Date(clock.now().getTime() + 60_000).toISOString() });
    expect(created.status).toBe(201);
    await t.http.get(`/api/reminders/${created.body.id}`).set(ann.auth).set('X-Consistency-Token', String(created.headers['x-consistency-token'])).expect(200);
    clock.advance(60_000);
    await t.service.reminders!.dispatcher.tick();
    await waitFor(async () => (await t.db.knex('notifications').where({ reminder_id: created.body.id })).length === 1, 10_000, 'the notification');
    return created.body.id;
  }

  it('streams new notifications live, and resumes after Last-Event-ID', async () => {
    const empty = openStream(baseUrl, ann.auth, { wait: 0 });
    await empty.opened;
    await waitFor(() => empty.ended, 5_000, 'a wait=0 stream to end');
    expect([empty.status, empty.contentType, empty.events]).toEqual([200, 'text/event-stream; charset=utf-8', []]);

    const live = openStream(baseUrl, ann.auth);
    await live.opened;
    const first = await fireReminder();
    await waitFor(() => live.events.length === 1, 10_000, 'the streamed notification');
    expect(live.events[0]!.data).toMatchObject({ reminderId: first, title: 'Isaiah 40:31' });
    live.close();

    const second = await fireReminder();
    const resumed = openStream(baseUrl, ann.auth, { lastEventId: live.events[0]!.id, wait: 0 });
    await resumed.opened;
    await waitFor(() => resumed.ended, 5_000, 'the resumed stream to end');
    expect(resumed.events.map((event) => event.data.reminderId)).toEqual([second]);

    const eve = await signUp(t.http);
    const other = openStream(baseUrl, eve.auth, { lastEventId: '00000000000000000000.00000000000000000000', wait: 0 });
    await other.opened;
    await waitFor(() => other.ended, 5_000, "the other user's stream to end");
    expect(other.events).toEqual([]);
    const bad = openStream(baseUrl, ann.auth, { lastEventId: 'not-a-position', wait: 0 });
    await bad.opened;
    expect(bad.status).toBe(400);
    bad.close();
  });

  it('delivers by webhook (signed, retried with exponential backoff) and by e-mail, and shows every attempt', async () => {
    const endpoint = await startWebhookEndpoint(2);
    try {
      const secret = 'a-long-shared-secret-for-hmac';
      const set = await t.http.put('/api/me/notification-channels').set(ann.auth).send({ webhook: { url: endpoint.url, secret }, email: true });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ targetRetention: 0.9, webhook: { url: endpoint.url, hasSecret: true }, email: true });
      const settings = await t.http.get('/api/me/reminder-settings').set(ann.auth).set('X-Consistency-Token', String(set.headers['x-consistency-token']));
      expect(settings.body).toEqual({ targetRetention: 0.9, webhook: { url: endpoint.url, hasSecret: true }, email: true });
      expect(JSON.stringify(settings.body)).not.toContain(secret);

      const reminderId = await fireReminder();
      const notificationId = (await t.db.knex('notifications').where({ reminder_id: reminderId }).first()).id as string;
      const received = () => endpoint.received.filter((request) => request.body.includes(reminderId));
      const delivery = t.service.reminders!.delivery;
      await delivery.tick();
      const deliveries = async () => {
        const res = await t.http.get('/api/notifications/deliveries').set(ann.auth);
        return res.body.items as { notificationId: string; channel: string; status: string; attempts: number; nextAttemptAt: string | null; lastError: string | null; history: { ok: boolean; statusCode: number | null }[] }[];
      };
      const webhook = async () => (await deliveries()).find((item) => item.channel === 'webhook' && item.notificationId === notificationId)!;
      await waitFor(async () => (await webhook())?.attempts === 1, 5_000, 'the first webhook attempt');
      const firstFailure = clock.now().getTime();
      expect(await webhook()).toMatchObject({ status: 'pending', lastError: 'the endpoint answered 500', nextAttemptAt: new Date(firstFailure + 60_000).toISOString() });

      // E-mail went out on the first try, to the account's address.
      const mail = () => smtp.messages.filter((message) => message.raw.includes(reminderId));
      await waitFor(() => mail().length === 1, 10_000, 'the e-mail');
      expect(mail()[0]!.to).toEqual([ann.email]);
      expect(mail()[0]!.raw).toContain('Subject: Reminder: Isaiah 40:31');
      // The message is out before the attempt's outcome is recorded and projected.
      const email = async () => (await deliveries()).find((item) => item.channel === 'email' && item.notificationId === notificationId);
      await waitFor(async () => (await email())?.status !== 'pending', 10_000, 'the e-mail attempt recorded');
      expect(await email()).toMatchObject({ status: 'delivered', attempts: 1 });

      // Not before the backoff has passed ...
      await delivery.tick();
      expect(received()).toHaveLength(1);
      // ... then once more (fails), and the wait doubles.
      clock.advance(60_000);
      await delivery.tick();
      await waitFor(async () => (await webhook()).attempts === 2, 5_000, 'the second webhook attempt');
      expect((await webhook()).nextAttemptAt).toBe(new Date(clock.now().getTime() + 120_000).toISOString());
      clock.advance(119_000);
      await delivery.tick();
      expect(received()).toHaveLength(2);
      clock.advance(1_000);
      await delivery.tick();
      await waitFor(async () => (await webhook()).status === 'delivered', 5_000, 'the webhook delivery');
      expect(await webhook()).toMatchObject({ attempts: 3, nextAttemptAt: null, history: [{ ok: false, statusCode: 500 }, { ok: false, statusCode: 500 }, { ok: true, statusCode: 204 }] });

      // Every attempt carried the same delivery id and a valid signature over its timestamp and body.
      expect(received()).toHaveLength(3);
      const ids = new Set(received().map((request) => request.headers['x-scriptorium-delivery']));
      expect(ids.size).toBe(1);
      for (const request of received()) {
        const timestamp = String(request.headers['x-scriptorium-timestamp']);
        const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
        expect(request.headers['x-scriptorium-signature']).toBe(expected);
        expect(JSON.parse(request.body)).toMatchObject({ type: 'notification.created', notification: { reminderId, title: 'Isaiah 40:31' } });
      }
      const [first] = received();
      const forged = `sha256=${createHmac('sha256', 'another secret entirely').update(`${first!.headers['x-scriptorium-timestamp']}.${first!.body}`).digest('hex')}`;
      expect(first!.headers['x-scriptorium-signature']).not.toBe(forged);

      const eve = await logIn(t.http, await signUp(t.http));
      expect((await t.http.get('/api/notifications/deliveries').set(eve.auth)).body.items).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });

  it('gives up after the last attempt and says why', async () => {
    const endpoint = await startWebhookEndpoint(100);
    try {
      const set = await t.http.put('/api/me/notification-channels').set(ann.auth).send({ webhook: { url: endpoint.url, secret: 'another-long-shared-secret' }, email: false });
      await t.http.get('/api/me/reminder-settings').set(ann.auth).set('X-Consistency-Token', String(set.headers['x-consistency-token'])).expect(200);
      const reminderId = await fireReminder();
      const notification = await t.db.knex('notifications').where({ reminder_id: reminderId }).first();
      const delivery = t.service.reminders!.delivery;
      const row = async () => t.db.knex('notification_deliveries').where({ notification_id: notification.id, channel: 'webhook' }).first();
      for (let attempt = 1; attempt <= 4; attempt++) {
        await delivery.tick();
        await waitFor(async () => (await row())?.attempts === attempt, 5_000, `attempt ${attempt}`);
        clock.advance(60_000 * 2 ** (attempt - 1));
      }
      await delivery.tick();
      expect(await row()).toMatchObject({ status: 'failed', attempts: 4, last_error: 'the endpoint answered 500', next_attempt_at: null });
      expect(endpoint.received.filter((request) => request.body.includes(reminderId))).toHaveLength(4);
      expect(await t.db.knex('notification_deliveries').where({ notification_id: notification.id, channel: 'email' })).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });

  it('refuses webhook URLs that are not http(s) and short secrets, and turns the channels off', async () => {
    ann = { ...ann, ...(await logIn(t.http, ann)) }; // the clock has moved past the old token's life
    const bad = await t.http.put('/api/me/notification-channels').set(ann.auth).send({ webhook: { url: 'ftp://example.com/x', secret: 'a-long-shared-secret-for-hmac' }, email: false });
    expect(bad.status).toBe(400);
    const short = await t.http.put('/api/me/notification-channels').set(ann.auth).send({ webhook: { url: 'https://example.com/x', secret: 'short' }, email: false });
    expect(short.status).toBe(400);
    const off = await t.http.put('/api/me/notification-channels').set(ann.auth).send({ webhook: null, email: false });
    expect(off.body).toEqual({ targetRetention: 0.9, webhook: null, email: false });
  });
});
