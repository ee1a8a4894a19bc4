import { createHmac } from 'node:crypto';
import { isNonPublic, signWebhook, WebhookSender } from './webhook-sender';

describe('webhook sender', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256', () => {
    const body = '{"type":"notification.created"}';
    expect(signWebhook('secret', 1_790_000_000, body)).toBe(`sha256=${createHmac('sha256', 'secret').update(`1790000000.${body}`).digest('hex')}`);
    expect(signWebhook('secret', 1_790_000_001, body)).not.toBe(signWebhook('secret', 1_790_000_000, body));
  });

  it('tells loopback, private, link-local and mapped addresses from public ones', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '224.0.0.1']) {
      expect([address, isNonPublic(address)]).toEqual([address, true]);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:1.1.1.1']) {
      expect([address, isNonPublic(address)]).toEqual([address, false]);
    }
  });

  it('refuses a loopback endpoint unless private networks are allowed, before connecting', async () => {
    const sender = new WebhookSender({ timeoutMs: 1_000, allowPrivateNetworks: false });
    const outcome = await sender.send({ url: 'http://127.0.0.1:9/hook', secret: 's', deliveryId: 'd', body: '{}', at: new Date() });
    expect(outcome).toEqual({ ok: false, statusCode: null, error: 'the webhook host resolves to a non-public address (127.0.0.1)' });
    const localhost = await sender.send({ url: 'http://[::1]:9/hook', secret: 's', deliveryId: 'd', body: '{}', at: new Date() });
    expect(localhost.error).toContain('non-public address');
  });
});
