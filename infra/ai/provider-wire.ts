/**
 * The two wire formats the proxy speaks, as pure translations between our request/answer shapes and
 * the providers' JSON: OpenAI-compatible chat completions (`POST {base}/chat/completions`, bearer key;
 * also what most self-hosted and gateway servers accept) and Anthropic Messages (`POST {base}/v1/messages`,
 * `x-api-key` and `anthropic-version`). No I/O here: `provider-client.ts` sends what these build.
 */
import type { SseEvent } from './sse';

export const PROVIDER_NAMES = ['openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ChatRequest {
  readonly model: string;
  /** Instructions and context, sent as the system prompt. */
  readonly system?: string;
  readonly prompt: string;
  readonly maxTokens: number;
}

export interface ChatAnswer {
  readonly text: string;
  readonly tokensIn: number;
  readonly tokensOut: number;
}

/** One piece of a streamed answer: text as it arrives, usage when the provider reports it. */
export type ChatChunk = { readonly type: 'text'; readonly text: string } | { readonly type: 'usage'; readonly tokensIn?: number; readonly tokensOut?: number };

export interface HttpRequestSpec {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ProviderWire {
  readonly name: ProviderName;
  request(baseUrl: string, apiKey: string, chat: ChatRequest, stream: boolean): HttpRequestSpec;
  answer(json: unknown): ChatAnswer;
  /** The chunks one stream event carries; `done` at the provider's end-of-stream marker. */
  streamEvent(event: SseEvent): readonly ChatChunk[] | 'done';
}

/** A malformed answer from a provider: its failure, never the client's. */
export class ProviderProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderProtocolError';
  }
}

const joinUrl = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
}
function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new ProviderProtocolError('the provider sent a stream event that is not JSON');
  }
}

export const openAiWire: ProviderWire = {
  name: 'openai',
  request(baseUrl, apiKey, chat, stream) {
    const messages = [...(chat.system ? [{ role: 'system', content: chat.system }] : []), { role: 'user', content: chat.prompt }];
    return {
      url: joinUrl(baseUrl, '/chat/completions'),
      headers: { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: chat.model, messages, max_tokens: chat.maxTokens, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) }),
    };
  },
  answer(json) {
    const body = record(json);
    const choices = Array.isArray(body.choices) ? body.choices : [];
    const content = record(record(choices[0]).message).content;
    if (typeof content !== 'string') throw new ProviderProtocolError('the provider answered without message content');
    const usage = record(body.usage);
    return { text: content, tokensIn: count(usage.prompt_tokens), tokensOut: count(usage.completion_tokens) };
  },
  streamEvent(event) {
    if (event.data.trim() === '[DONE]') return 'done';
    const body = record(parseJson(event.data));
    if (body.error !== undefined) throw new ProviderProtocolError('the provider reported an error mid-stream');
    const chunks: ChatChunk[] = [];
    const choices = Array.isArray(body.choices) ? body.choices : [];
    const text = record(record(choices[0]).delta).content;
    if (typeof text === 'string' && text.length > 0) chunks.push({ type: 'text', text });
    if (body.usage) {
      const usage = record(body.usage);
      chunks.push({ type: 'usage', tokensIn: count(usage.prompt_tokens), tokensOut: count(usage.completion_tokens) });
    }
    return chunks;
  },
};

export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropicWire: ProviderWire = {
  name: 'anthropic',
  request(baseUrl, apiKey, chat, stream) {
    return {
      url: joinUrl(baseUrl, '/v1/messages'),
      headers: { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION },
      body: JSON.stringify({
        model: chat.model,
        max_tokens: chat.maxTokens,
        ...(chat.system ? { system: chat.system } : {}),
        messages: [{ role: 'user', content: chat.prompt }],
        ...(stream ? { stream: true } : {}),
      }),
    };
  },
  answer(json) {
    const body = record(json);
    if (!Array.isArray(body.content)) throw new ProviderProtocolError('the provider answered without content');
    const text = body.content
      .map(record)
      .filter((block) => block.type === 'text' && typeof block.text === 'string')
      .map((block) => block.text as string)
      .join('');
    const usage = record(body.usage);
    return { text, tokensIn: count(usage.input_tokens), tokensOut: count(usage.output_tokens) };
  },
  streamEvent(event) {
    const body = record(parseJson(event.data));
    const type = typeof body.type === 'string' ? body.type : event.event;
    switch (type) {
      case 'message_start': {
        const usage = record(record(body.message).usage);
        return [{ type: 'usage', tokensIn: count(usage.input_tokens), tokensOut: count(usage.output_tokens) }];
      }
      case 'content_block_delta': {
        const delta = record(body.delta);
        return delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text.length > 0 ? [{ type: 'text', text: delta.text }] : [];
      }
      case 'message_delta': {
        const usage = record(body.usage);
        return usage.output_tokens === undefined ? [] : [{ type: 'usage', tokensOut: count(usage.output_tokens) }];
      }
      case 'message_stop':
        return 'done';
      case 'error':
        throw new ProviderProtocolError('the provider reported an error mid-stream');
      default:
        // ping, content_block_start/stop, and event types added later: nothing to relay.
        return [];
    }
  },
};

export const WIRES: Readonly<Record<ProviderName, ProviderWire>> = { openai: openAiWire, anthropic: anthropicWire };
