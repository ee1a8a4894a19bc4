/**
 * The provider client alone against the fake provider on loopback: both wire formats answered and
 * streamed, retries with backoff on 429 and 5xx, the timeout, the circuit breaker opening (then
 * refusing without touching the network, then closing after a good trial call), and an abort by the
 * caller reaching the provider as a closed request.
 */
import { CircuitBreaker, CircuitOpenError } from '../../infra/ai/circuit-breaker';
import { ProviderCallCancelled, ProviderClient, ProviderFailure } from '../../infra/ai/provider-client';
import { WIRES, type ChatChunk, type ProviderName } from '../../infra/ai/provider-wire';
import { ANTHROPIC_KEY, OPENAI_KEY, startFakeProvider, type FakeProvider } from './fake-provider';

jest.setTimeout(30_000);

describe('the provider client against a fake provider', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeProvider({ keys: { openai: OPENAI_KEY, anthropic: ANTHROPIC_KEY } });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  function client(provider: ProviderName, options: { timeoutMs?: number; maxRetries?: number; breaker?: CircuitBreaker; baseUrl?: string } = {}) {
    return new ProviderClient({
      wire: WIRES[provider],
      baseUrl: options.baseUrl ?? (provider === 'openai' ? fake.openAiBaseUrl : fake.anthropicBaseUrl),
      apiKey: provider === 'openai' ? OPENAI_KEY : ANTHROPIC_KEY,
      timeoutMs: options.timeoutMs ?? 5_000,
      maxRetries: options.maxRetries ?? 2,
      retryBaseDelayMs: 10,
      breaker: options.breaker ?? new CircuitBreaker({ failureThreshold: 3, openMs: 60_000 }),
    });
  }
  const chat = { model: 'm', prompt: 'hello', system: 'be brief', maxTokens: 50 };
  const never = new AbortController().signal;

  async function collect(stream: AsyncIterable<ChatChunk>): Promise<{ text: string; usage: ChatChunk[] }> {
    let text = '';
    const usage: ChatChunk[] = [];
    for await (const chunk of stream) {
      if (chunk.type === 'text') text += chunk.text;
      else usage.push(chunk);
    }
    return { text, usage };
  }

  for (const provider of ['openai', 'anthropic'] as const) {
    it(`${provider}: answers, with usage, sending the system prompt where the format wants it`, async () => {
      fake.queue({ kind: 'answer', text: 'Hi.', tokensIn: 4, tokensOut: 2 });
      await expect(client(provider).complete(chat, never)).resolves.toEqual({ text: 'Hi.', tokensIn: 4, tokensOut: 2 });
      const body = fake.requests[0]!.body;
      if (provider === 'openai') expect(body.messages).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }]);
      else expect(body).toMatchObject({ system: 'be brief', messages: [{ role: 'user', content: 'hello' }] });
    });

    it(`${provider}: streams pieces and usage`, async () => {
      fake.queue({ kind: 'stream', pieces: ['a', 'b', 'c'], tokensIn: 8, tokensOut: 3 });
      const { text, usage } = await collect(await client(provider).openStream(chat, never));
      expect(text).toBe('abc');
      const last = usage.reduce((sum, chunk) => ({ ...sum, ...(chunk.type === 'usage' ? Object.fromEntries(Object.entries(chunk).filter(([, v]) => v !== undefined)) : {}) }), {});
      expect(last).toMatchObject({ tokensIn: 8, tokensOut: 3 });
    });
  }

  it('retries 429 and 5xx with backoff, honouring a short Retry-After', async () => {
    fake.queue({ kind: 'status', status: 429, retryAfter: '1' }, { kind: 'status', status: 502 }, { kind: 'answer', text: 'ok' });
    const started = performance.now();
    await expect(client('openai').complete(chat, never)).resolves.toMatchObject({ text: 'ok' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950); // waited the second the provider asked for
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry a 4xx other than 429, and that failure does not count against the provider', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 60_000 });
    fake.queue({ kind: 'status', status: 400 });
    await expect(client('anthropic', { breaker }).complete(chat, never)).rejects.toMatchObject({ reason: 'rejected', status: 400 });
    expect(fake.requests).toHaveLength(1);
    expect(breaker.state).toBe('closed');
  });

  it('times out a provider that does not answer, aborting its request', async () => {
    fake.queue({ kind: 'hang' });
    const aborted = fake.nextAbort();
    const started = performance.now();
    await expect(client('openai', { timeoutMs: 300, maxRetries: 0 }).complete(chat, never)).rejects.toMatchObject({ reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2_000);
    await expect(aborted).resolves.toMatchObject({ aborted: true });
  });

  it('opens the circuit after failures in a row, then refuses at once without a request, then closes after a good trial', async () => {
    let now = 1_000_000;
    const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 30_000, now: () => now });
    const failing = client('openai', { breaker, maxRetries: 1 });
    fake.fallback = { kind: 'status', status: 500 };
    for (let i = 0; i < 2; i++) await expect(failing.complete(chat, never)).rejects.toBeInstanceOf(ProviderFailure);
    expect(fake.requests).toHaveLength(4); // two calls, each retried once
    expect(breaker.state).toBe('open');
    const started = performance.now();
    const refusal = await failing.complete(chat, never).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(CircuitOpenError);
    expect((refusal as CircuitOpenError).retryAfterMs).toBe(30_000);
    expect(performance.now() - started).toBeLessThan(20);
    expect(fake.requests).toHaveLength(4);
    now += 30_000;
    expect(breaker.state).toBe('half_open');
    fake.fallback = { kind: 'answer', text: 'back' };
    await expect(failing.complete(chat, never)).resolves.toMatchObject({ text: 'back' });
    expect(breaker.state).toBe('closed');
  });

  it('counts a provider that cannot be reached as down', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 60_000 });
    const unreachable = client('anthropic', { breaker, maxRetries: 1, baseUrl: 'http://127.0.0.1:9' });
    await expect(unreachable.complete(chat, never)).rejects.toMatchObject({ reason: 'network' });
    expect(breaker.state).toBe('open');
  });

  it('passes the caller’s abort on to the provider mid-stream, without blaming the provider', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 60_000 });
    fake.queue({ kind: 'stream', pieces: ['x', 'y', 'z'], hangAfter: 1 });
    const caller = new AbortController();
    const aborted = fake.nextAbort();
    const stream = await client('anthropic', { breaker }).openStream(chat, caller.signal);
    const pieces: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) {
        if (chunk.type === 'text') {
          pieces.push(chunk.text);
          caller.abort();
        }
      }
    })();
    await expect(reading).rejects.toBeInstanceOf(ProviderCallCancelled);
    expect(pieces).toEqual(['x']);
    await expect(aborted).resolves.toMatchObject({ aborted: true, completed: false });
    expect(breaker.state).toBe('closed');
  });
});
