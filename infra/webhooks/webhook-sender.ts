/**
 * Outgoing webhooks: one signed POST per delivery. The receiver checks
 * `X-Scriptorium-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` against its copy of
 * the secret, rejects a `X-Scriptorium-Timestamp` too far from its clock (replays), and may use
 * `X-Scriptorium-Delivery` (stable across retries) to drop duplicates: delivery is at least once.
 * Redirects are not followed, and unless allowed, a URL whose host resolves to a loopback, private or
 * link-local address is refused before connecting (no probing the server's own network through it;
 * the check and the connection resolve separately, so it narrows rather than closes that door).
 */
import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export const SIGNATURE_HEADER = 'X-Scriptorium-Signature';
export const TIMESTAMP_HEADER = 'X-Scriptorium-Timestamp';
export const DELIVERY_HEADER = 'X-Scriptorium-Delivery';

export interface WebhookRequest {
  readonly url: string;
  readonly secret: string;
  readonly deliveryId: string;
  /** The JSON text sent (and signed) as it is. */
  readonly body: string;
  readonly at: Date;
}

export interface DeliveryOutcome {
  readonly ok: boolean;
  readonly statusCode: number | null;
  readonly error: string | null;
}

export interface WebhookSenderOptions {
  readonly timeoutMs: number;
  readonly allowPrivateNetworks: boolean;
}

/** The signature header's value for `body` sent at `timestamp` (seconds since the epoch). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

export class WebhookSender {
  constructor(private readonly options: WebhookSenderOptions) {}

  async send(request: WebhookRequest): Promise<DeliveryOutcome> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { ok: false, statusCode: null, error: 'the webhook URL is not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, statusCode: null, error: 'only http and https webhooks are sent' };
    if (!this.options.allowPrivateNetworks) {
      const refused = await privateAddressOf(url.hostname);
      if (refused) return { ok: false, statusCode: null, error: `the webhook host resolves to a non-public address (${refused})` };
    }
    const timestamp = Math.floor(request.at.getTime() / 1000);
    try {
      const response = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Scriptorium-Webhooks/1',
          [DELIVERY_HEADER]: request.deliveryId,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(request.secret, timestamp, request.body),
        },
        body: request.body,
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { ok: true, statusCode: response.status, error: null };
      return { ok: false, statusCode: response.status, error: `the endpoint answered ${response.status}` };
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : describe(error);
      return { ok: false, statusCode: null, error: reason };
    }
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'the request failed';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return (cause?.code ?? cause?.message ?? error.message).slice(0, 300);
}

/** The first non-public address `host` resolves to, or undefined when all are public. */
async function privateAddressOf(host: string): Promise<string | undefined> {
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = isIP(bare) ? [bare] : await lookup(bare, { all: true }).then((found) => found.map((entry) => entry.address), () => []);
  return addresses.find(isNonPublic);
}

export function isNonPublic(address: string): boolean {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isNonPublic(mapped[1]!);
  if (isIP(lower) === 4) {
    const [a, b] = lower.split('.').map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224;
  }
  if (isIP(lower) === 6) return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || /^ff/.test(lower);
  return true;
}
