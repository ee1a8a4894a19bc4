import { CircuitBreaker, CircuitOpenError } from './circuit-breaker';
import { parseRetryAfter } from './provider-client';
import { anthropicWire, openAiWire, ProviderProtocolError } from './provider-wire';
import { SafetyCheck } from './safety';
import { formatSse, readSse, type SseEvent } from './sse';

async function* bytes(...chunks: string[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield new TextEncoder().encode(chunk);
}
async function events(...chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of readSse(bytes(...chunks))) out.push(event);
  return out;
}

describe('SSE reading', () => {
  it('splits events at blank lines across chunk boundaries, any line ending, comments and multi-line data; drops an unfinished last one', async () => {
    expect(await events('event: a\nda', 'ta: 1\n\n: comment\r\ndata: x\r', '\ndata: y\r\n\r\ndata:z')).toEqual([
      { event: 'a', data: '1' },
      { event: 'message', data: 'x\ny' },
    ]); // 'data:z' never ended with a blank line: dropped
  });

  it('keeps multi-byte characters split between chunks whole', async () => {
    const encoded = new TextEncoder().encode('data: é✓\n\n');
    async function* split() {
      yield encoded.slice(0, 7);
      yield encoded.slice(7);
    }
    const out: SseEvent[] = [];
    for await (const event of readSse(split())) out.push(event);
    expect(out).toEqual([{ event: 'message', data: 'é✓' }]);
  });

  it('writes what it reads', async () => {
    expect(await events(formatSse('token', { text: 'a\nb' }))).toEqual([{ event: 'token', data: '{"text":"a\\nb"}' }]);
  });
});

describe('wire formats', () => {
  it('OpenAI: request with bearer key, answer and stream chunks', () => {
    const spec = openAiWire.request('http://x/v1/', 'k', { model: 'm', prompt: 'p', maxTokens: 5 }, true);
    expect(spec.url).toBe('http://x/v1/chat/completions');
    expect(spec.headers.authorization).toBe('Bearer k');
    expect(JSON.parse(spec.body)).toEqual({ model: 'm', messages: [{ role: 'user', content: 'p' }], max_tokens: 5, stream: true, stream_options: { include_usage: true } });
    expect(openAiWire.answer({ choices: [{ message: { content: 'hi' } }], usage: { prompt_tokens: 3, completion_tokens: 1 } })).toEqual({ text: 'hi', tokensIn: 3, tokensOut: 1 });
    expect(() => openAiWire.answer({ choices: [] })).toThrow(ProviderProtocolError);
    expect(openAiWire.streamEvent({ event: 'message', data: '{"choices":[{"delta":{"content":"a"}}]}' })).toEqual([{ type: 'text', text: 'a' }]);
    expect(openAiWire.streamEvent({ event: 'message', data: '[DONE]' })).toBe('done');
    expect(() => openAiWire.streamEvent({ event: 'message', data: 'not json' })).toThrow(ProviderProtocolError);
  });

  it('Anthropic: request with x-api-key and version, answer blocks and stream events', () => {
    const spec = anthropicWire.request('http://x', 'k', { model: 'm', system: 's', prompt: 'p', maxTokens: 5 }, false);
    expect(spec.url).toBe('http://x/v1/messages');
    expect(spec.headers).toMatchObject({ 'x-api-key': 'k', 'anthropic-version': '2023-06-01' });
    expect(JSON.parse(spec.body)).toEqual({ model: 'm', max_tokens: 5, system: 's', messages: [{ role: 'user', content: 'p' }] });
    expect(anthropicWire.answer({ content: [{ type: 'text', text: 'a' }, { type: 'tool_use' }, { type: 'text', text: 'b' }], usage: { input_tokens: 2, output_tokens: 4 } })).toEqual({ text: 'ab', tokensIn: 2, tokensOut: 4 });
    expect(anthropicWire.streamEvent({ event: 'content_block_delta', data: '{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}' })).toEqual([{ type: 'text', text: 'x' }]);
    expect(anthropicWire.streamEvent({ event: 'message_delta', data: '{"type":"message_delta","usage":{"output_tokens":9}}' })).toEqual([{ type: 'usage', tokensOut: 9 }]);
    expect(anthropicWire.streamEvent({ event: 'ping', data: '{"type":"ping"}' })).toEqual([]);
    expect(anthropicWire.streamEvent({ event: 'message_stop', data: '{"type":"message_stop"}' })).toBe('done');
    expect(() => anthropicWire.streamEvent({ event: 'error', data: '{"type":"error","error":{"type":"overloaded_error"}}' })).toThrow(ProviderProtocolError);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold of failures in a row, lets one trial through when the time is up, and a failed trial opens it again', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 1_000, now: () => now });
    breaker.admit().failed();
    breaker.admit().succeeded(); // a success in between resets the count
    breaker.admit().failed();
    expect(breaker.state).toBe('closed');
    breaker.admit().failed();
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    now = 1_000;
    const trial = breaker.admit();
    expect(() => breaker.admit()).toThrow(CircuitOpenError); // one trial at a time
    trial.failed();
    expect(breaker.state).toBe('open');
    now = 2_000;
    breaker.admit().succeeded();
    expect(breaker.state).toBe('closed');
  });

  it('an abandoned call changes nothing', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 1_000 });
    breaker.admit().abandoned();
    expect(breaker.state).toBe('closed');
  });
});

describe('safety check', () => {
  const check = new SafetyCheck({ maxPromptChars: 20, maxOutputChars: 10, blockList: ['Bad Thing', ' ', ''] });
  it('refuses blocked terms whatever their case, width or spacing, and text over the limit', () => {
    expect(check.judgePrompt('a BAD   thing')).toEqual({ ok: false, reason: 'blocked_term' });
    expect(check.judgePrompt('ｂａｄ thing')).toEqual({ ok: false, reason: 'blocked_term' });
    expect(check.judgePrompt('fine')).toEqual({ ok: true });
    expect(check.judgePrompt('x'.repeat(21))).toEqual({ ok: false, reason: 'too_long' });
    expect(check.judgeOutput('x'.repeat(11))).toEqual({ ok: false, reason: 'too_long' });
  });
});

describe('Retry-After', () => {
  it('reads seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
