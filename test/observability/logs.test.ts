/**
 * What the logs hold: every request's id and route, and never a password, an access or refresh token,
 * or what users wrote. The first block captures the whole service's pino output over an account's
 * life; the second checks the pino-http options service.ts uses (query secrets, route, trace id).
 */
import { Writable } from 'node:stream';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import request from 'supertest';
import { requestContext } from '../../infra/http/request-context';
import { createLogger } from '../../infra/logging/logger';
import { httpLogOptions, redactPath, redactQuery } from '../../infra/telemetry/http-logging';
import { traceRequests } from '../../infra/telemetry/http-tracing';
import { InMemorySpanExporter, startTracing, type Tracing } from '../../infra/telemetry/tracing';
import { signUp, startTestService, type TestService } from '../support/test-service';

interface LogLine {
  readonly msg?: string;
  readonly route?: string;
  readonly traceId?: string;
  readonly req?: { readonly id?: string; readonly method?: string; readonly url?: string; readonly headers?: Record<string, string> };
  readonly res?: { readonly statusCode?: number };
}

/** A pino destination that keeps every line in memory. */
function memoryLog(): { readonly stream: Writable; text(): string; lines(): LogLine[] } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as LogLine),
  };
}

describe('the service logs', () => {
  const log = memoryLog();
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService('logs', { logger: createLogger({ level: 'trace', destination: log.stream }) });
  });
  afterAll(() => service.close());

  it('given sign-up, log-in, refresh, a workspace rename and a profile change, then the logs name each request and route and hold no secret', async () => {
    const http = service.http;
    const password = 'Velvet-Quokka-Harbour-1987';
    const displayName = 'Ottoline Quirrell-Private';
    const workspaceName = 'Plans for the Surprise Party';
    const newWorkspaceName = 'Confidential Merger Notes';
    const newDisplayName = 'Ottoline Q. Hidden';

    const user = await signUp(http, { password, displayName });
    const login = await http.post('/api/auth/login').send({ email: user.email, password }).expect(200);
    const refreshed = await http.post('/api/auth/refresh').send({ refreshToken: login.body.refreshToken }).expect(200);
    const auth = { Authorization: `Bearer ${String(refreshed.body.accessToken)}` };
    const created = await http.post('/api/workspaces').set(auth).send({ name: workspaceName }).expect(201);
    const renamed = await http.patch(`/api/workspaces/${String(created.body.id)}`).set(auth).send({ name: newWorkspaceName }).expect(200);
    const profile = await http.patch('/api/me').set(auth).send({ displayName: newDisplayName }).expect(200);
    const text = log.text();
    const lines = log.lines();

    const tokens = [user.accessToken, user.refreshToken, login.body.accessToken, login.body.refreshToken, refreshed.body.accessToken, refreshed.body.refreshToken].map(String);
    const jwtSignatures = tokens.filter((token) => token.split('.').length === 3).map((token) => token.split('.')[2]!);
    const secrets = [password, ...tokens, ...jwtSignatures, displayName, newDisplayName, workspaceName, newWorkspaceName];
    expect(jwtSignatures).toHaveLength(3);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain('$argon2id$');

    const answers = [
      { res: login, url: '/api/auth/login' },
      { res: refreshed, url: '/api/auth/refresh' },
      { res: created, url: '/api/workspaces' },
      { res: renamed, url: `/api/workspaces/${String(created.body.id)}` },
      { res: profile, url: '/api/me' },
    ];
    for (const { res, url } of answers) {
      const requestId = String(res.headers['x-request-id']);
      const completed = lines.find((line) => line.req?.id === requestId && line.msg === 'request completed');
      expect(completed?.req).toMatchObject({ id: requestId, url });
      expect(completed?.res?.statusCode).toBe(res.status);
    }
    expect(lines.some((line) => line.req?.url === '/api/auth/signup')).toBe(true);
    expect(lines.filter((line) => line.req?.headers?.authorization !== undefined).map((line) => line.req?.headers?.authorization)).toEqual(
      Array(3).fill('[redacted]'),
    );
  });
});

describe('the request log options', () => {
  const log = memoryLog();
  let app: Express;
  let tracing: Tracing;

  beforeAll(() => {
    tracing = startTracing({ exporter: new InMemorySpanExporter() });
    const logger = createLogger({ level: 'info', destination: log.stream });
    app = express();
    app.use(requestContext());
    app.use(traceRequests());
    app.use(pinoHttp({ logger, ...httpLogOptions() }));
    app.get('/healthz', (_req, res) => {
      res.json({ status: 'ok' });
    });
    app.get('/metrics', (_req, res) => {
      res.type('text/plain').send('');
    });
    app.get('/things/:id', (_req, res) => {
      res.json({});
    });
  });
  afterAll(() => tracing.shutdown());

  it('given a request with credentials in its query, then its line keeps the route, request id and trace id but not the credentials', async () => {
    const res = await request(app)
      .get('/things/42?access_token=eyJhbGciOiJFZERTQSJ9.secret-part&page=2&api_key=k3y-v4lue')
      .set('Authorization', 'Bearer not-for-logs')
      .expect(200);

    const line = log.lines().find((candidate) => candidate.req?.id === res.headers['x-request-id']);
    expect(line).toMatchObject({ route: '/things/:id', req: { method: 'GET', url: '/things/42?access_token=[redacted]&page=2&api_key=[redacted]' } });
    expect(line?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(log.text()).not.toContain('secret-part');
    expect(log.text()).not.toContain('k3y-v4lue');
    expect(log.text()).not.toContain('not-for-logs');
  });

  it('given probes and scrapes, then they are not logged', async () => {
    await request(app).get('/healthz').expect(200);
    await request(app).get('/metrics').expect(200);

    expect(log.lines().filter((line) => line.req?.url === '/healthz' || line.req?.url === '/metrics')).toEqual([]);
  });

  it('given URLs, then only the values of secret-looking query parameters are replaced', () => {
    expect(redactQuery('/api/sync?cursor=00000000000000000001.00000000000000000002&limit=50')).toBe('/api/sync?cursor=00000000000000000001.00000000000000000002&limit=50');
    expect(redactQuery('/x?refresh_token=abc&password=p&Session=s&flag')).toBe('/x?refresh_token=[redacted]&password=[redacted]&Session=[redacted]&flag');
    expect(redactQuery('/x?%74oken=abc')).toBe('/x?%74oken=[redacted]');
    expect(redactQuery('/api/workspaces/1/documents?query=merger+plans&limit=5&q=x')).toBe('/api/workspaces/1/documents?query=[redacted]&limit=5&q=[redacted]');
    expect(redactQuery('/no-query')).toBe('/no-query');
  });

  it('given invite and public-link URLs, then the token in the path is replaced', () => {
    expect(redactPath('/api/invites/abc.def/accept')).toBe('/api/invites/[redacted]/accept');
    expect(redactPath('/api/public/s3cr3t?x=1')).toBe('/api/public/[redacted]?x=1');
    expect(redactPath('/api/circles/abc/invites')).toBe('/api/circles/abc/invites');
  });
});
