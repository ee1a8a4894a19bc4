/**
 * Server-Sent Events, both ways: `readSse` turns a response body (bytes as they arrive) into events,
 * following the WHATWG parsing rules the providers' streams rely on (field lines, blank line ends an
 * event, `:` comments, CR/LF/CRLF line ends, a multi-line `data` joined with newlines, an unfinished
 * last event dropped); `formatSse`
 * writes one event for our own clients.
 */

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let eventName = '';
  let data: string[] = [];
  const flush = (): SseEvent | undefined => {
    const ready = data.length > 0 ? { event: eventName || 'message', data: data.join('\n') } : undefined;
    eventName = '';
    data = [];
    return ready;
  };
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1 && !final)) return;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      yield line;
    }
  };
  const consume = function* (final: boolean): Generator<SseEvent> {
    for (const line of lines(final)) {
      if (line === '') {
        const event = flush();
        if (event) yield event;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') eventName = value;
      else if (field === 'data') data.push(value);
    }
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* consume(false);
  }
  buffer += decoder.decode();
  yield* consume(true);
  // As the standard says, an event not ended by a blank line when the stream ends is discarded: a
  // provider cut off mid-event has not finished it.
}

export function formatSse(event: string, data: unknown): string {
  const text = JSON.stringify(data);
  return `event: ${event}\ndata: ${text}\n\n`;
}
