/**
 * The proxy's limits and its circuit breaker, through the HTTP API against the fake provider:
 * requests per minute counted in PostgreSQL and shared by two service instances on one schema (as two
 * API processes would), tokens per day, the deployment's daily spending cap, and a failing provider
 * answered with a fast 503 once its circuit is open.
 */
import { createService, type Service } from '../../service';
import { silentLogger } from '../../infra/logging/logger';
import request from 'supertest';
import { signUp, startTestService, type TestService } from '../support/test-service';
import { aiEnv, ownerWithProxy } from './ai-support';
import { startFakeProvider, type FakeProvider } from './fake-provider';

jest.setTimeout(60_000);

describe('AI limits shared by two API instances', () => {
  let fake: FakeProvider;
  let a: TestService;
  let b: Service;

  beforeAll(async () => {
    fake = await startFakeProvider();
    fake.fallback = { kind: 'answer', text: 'ok', delayMs: 30 };
    a = await startTestService('ai_limits', { env: aiEnv(fake, { AI_REQUESTS_PER_USER_PER_MINUTE: '4' }) });
    // A second API process on the same schema: its own pools, breakers and limiters (command API only, as
    // deployed behind the proxy; the first instance runs the projectors).
    b = await createService(a.config, silentLogger, { parts: ['command-api'] });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  it('given 10 simultaneous requests spread over both instances, then exactly the 4 allowed a minute pass and the rest get 429 with Retry-After', async () => {
    const owner = await ownerWithProxy(a.http);
    const instances = [a.http, request(b.app)];
    const body = { workspaceId: owner.workspaceId, provider: 'openai', model: 'gpt-test', prompt: 'count me' };
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => instances[i % 2]!.post('/api/ai/generate').set(owner.user.auth).send(body)));
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    for (const refused of answers.filter((res) => res.status === 429)) {
      expect(refused.body.code).toBe('AI.RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    // Each instance got 5 requests: limits kept per process would have let 4 + 4 through, not 4 in all.
    expect(fake.requests).toHaveLength(4);
    // Another user has a budget of their own.
    const other = await signUp(a.http);
    await a.http.post(`/api/workspaces/${owner.workspaceId}/members`).set(owner.user.auth).send({ email: other.email }).expect(201);
    expect((await request(b.app).post('/api/ai/generate').set(other.auth).send(body)).status).toBe(200);
  });
});

describe('AI tokens per day and the daily spending cap', () => {
  let fake: FakeProvider;
  let t: TestService;

  beforeAll(async () => {
    fake = await startFakeProvider();
    // 10 micro-dollars a token both ways; a cap of 0.0015 USD = 150 tokens for the whole deployment.
    t = await startTestService('ai_quota', {
      env: aiEnv(fake, { AI_TOKENS_PER_USER_PER_DAY: '100', AI_DAILY_SPENDING_CAP_USD: '0.0015', AI_PRICE_INPUT_USD_PER_MILLION_TOKENS: '10', AI_PRICE_OUTPUT_USD_PER_MILLION_TOKENS: '10' }),
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it('given a user who used up the day’s tokens, then 429 until tomorrow; given the deployment’s budget spent, then 503 for everyone', async () => {
    const ann = await ownerWithProxy(t.http);
    const bob = await ownerWithProxy(t.http);
    const ask = (owner: typeof ann) => t.http.post('/api/ai/generate').set(owner.user.auth).send({ workspaceId: owner.workspaceId, provider: 'anthropic', model: 'claude-test', prompt: 'x' });
    fake.queue({ kind: 'answer', text: 'a', tokensIn: 60, tokensOut: 40 }, { kind: 'answer', text: 'b', tokensIn: 30, tokensOut: 30 });
    expect((await ask(ann)).status).toBe(200); // 100 tokens: ann's day is used up, 100 of the 150 affordable spent
    const quota = await ask(ann);
    expect([quota.status, quota.body.code]).toEqual([429, 'AI.TOKEN_QUOTA_EXCEEDED']);
    const retryAfter = Number(quota.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect((await ask(bob)).status).toBe(200); // 160 tokens in all: the deployment's budget is now spent
    const capped = await ask(bob);
    expect([capped.status, capped.body.code]).toEqual([503, 'AI.SPENDING_CAP_REACHED']);
    expect(Number(capped.headers['retry-after'])).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(2);
  });
});

describe('a failing provider behind the proxy', () => {
  let fake: FakeProvider;
  let t: TestService;

  beforeAll(async () => {
    fake = await startFakeProvider();
    t = await startTestService('ai_circuit', { env: aiEnv(fake, { AI_CIRCUIT_FAILURE_THRESHOLD: '2', AI_CIRCUIT_OPEN_SECONDS: '60', AI_MAX_RETRIES: '1', AI_RETRY_BASE_DELAY_MS: '1000' }) });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it('given a provider that keeps failing, then its circuit opens and the proxy answers 503 at once without calling it, while the other provider still works', async () => {
    const owner = await ownerWithProxy(t.http);
    fake.fallback = { kind: 'status', status: 500 };
    const ask = (provider: string, model: string) => t.http.post('/api/ai/generate').set(owner.user.auth).send({ workspaceId: owner.workspaceId, provider, model, prompt: 'x' });
    const failedLatencies: number[] = [];
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const failed = await ask('openai', 'gpt-test');
      failedLatencies.push(performance.now() - started);
      expect([failed.status, failed.body.code]).toEqual([503, 'AI.PROVIDER_FAILED']);
    }
    expect(fake.requests).toHaveLength(4);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const open = await ask('openai', 'gpt-test');
      latencies.push(performance.now() - started);
      expect([open.status, open.body.code]).toEqual([503, 'AI.PROVIDER_UNAVAILABLE']);
      expect(Number(open.headers['retry-after'])).toBeGreaterThan(50);
    }
    expect(fake.requests).toHaveLength(4);
    // Fast: no backoff and no network (each failing call waited at least 500 ms before its retry).
    latencies.sort((x, y) => x - y);
    console.info(`failing calls: ${failedLatencies.map((ms) => ms.toFixed(0)).join(', ')} ms; open circuit: median ${latencies[2]!.toFixed(1)} ms over 5 refusals`);
    expect(Math.min(...failedLatencies)).toBeGreaterThanOrEqual(500);
    expect(latencies[2]).toBeLessThan(250);
    fake.fallback = { kind: 'answer', text: 'fine' };
    expect((await ask('anthropic', 'claude-test')).status).toBe(200);
    const usage = await t.db.knex('ai_usage').where('user_id', owner.user.id).select('outcome');
    expect(usage.length).toBeGreaterThan(0);
  });
});
