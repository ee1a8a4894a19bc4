/**
 * The presigned POST's policy, decoded and checked condition by condition (s3rver, like most local
 * S3 servers, does not enforce POST policies, so this test is what holds them): it expires within five
 * minutes, pins the bucket, the exact key under the caller's prefix, the exact content type and the
 * exact length, and its signature is a valid SigV4 signature of the policy. An evaluator of the policy
 * admits the upload it was made for and nothing else. The presigned PUT signs type and length.
 */
import { createHmac } from 'node:crypto';
import { loadConfig } from '../../infra/config/config';
import { startTestS3, type TestS3 } from '../support/s3-server';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

type Condition = Record<string, string> | [string, string, string] | ['content-length-range', number, number];
interface Policy {
  expiration: string;
  conditions: Condition[];
}

/** What S3 checks on a form POST: every condition must hold for the submitted fields and file. */
function policyAdmits(policy: Policy, bucket: string, fields: Record<string, string>, fileLength: number, at: Date): boolean {
  if (at.getTime() >= Date.parse(policy.expiration)) return false;
  const lower = Object.fromEntries(Object.entries({ ...fields, bucket }).map(([name, value]) => [name.toLowerCase(), value]));
  const covered = new Set<string>(['bucket', 'policy', 'x-amz-signature', 'file']);
  for (const condition of policy.conditions) {
    if (Array.isArray(condition)) {
      const [operator, a, b] = condition;
      if (operator === 'content-length-range') {
        if (fileLength < Number(a) || fileLength > Number(b)) return false;
        continue;
      }
      const name = String(a).replace(/^\$/, '').toLowerCase();
      covered.add(name);
      if (operator === 'eq' && lower[name] !== b) return false;
      if (operator === 'starts-with' && !(lower[name] ?? '').startsWith(String(b))) return false;
    } else {
      for (const [name, value] of Object.entries(condition)) {
        covered.add(name.toLowerCase());
        if (lower[name.toLowerCase()] !== value) return false;
      }
    }
  }
  // S3 refuses a form field the policy says nothing about.
  return Object.keys(lower).every((name) => covered.has(name));
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

describe('presigned upload policies', () => {
  let s3: TestS3;
  let t: TestService;
  let ann: SignedUpUser;
  let documentId: string;

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestService('presign-policy', { env: { ...s3.env, UPLOAD_ALLOWED_CONTENT_TYPES: 'image/png,text/plain' } });
    ann = await signUp(t.http);
    const ws = await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'W' }).expect(201);
    documentId = (await t.http.post(`/api/workspaces/${ws.body.id}/documents`).set(ann.auth).send({ title: 'T', content: '' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('the POST policy pins bucket, key, type and length, expires within five minutes, and is signed', async () => {
    const before = Date.now();
    const res = await t.http.post('/api/uploads/presign').set(ann.auth).send({ documentId, fileName: 'scan.png', contentType: 'image/png', size: 4_321 }).expect(200);
    const { key, post } = res.body as { key: string; post: { url: string; fields: Record<string, string> } };
    const policy = JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString('utf8')) as Policy;

    const expiresIn = Date.parse(policy.expiration) - before;
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(300_000 + 1_000);
    expect(Date.parse(res.body.expiresAt)).toBeLessThanOrEqual(before + 300_000 + 1_000);

    expect(key.startsWith(`users/${ann.id}/documents/${documentId}/`)).toBe(true);
    expect(post.url).toBe(`${s3.endpoint}/${s3.bucket}`);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { bucket: s3.bucket },
        ['eq', '$key', key],
        ['eq', '$Content-Type', 'image/png'],
        ['content-length-range', 4_321, 4_321],
        { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
        { 'X-Amz-Credential': post.fields['X-Amz-Credential'] },
        { 'X-Amz-Date': post.fields['X-Amz-Date'] },
      ]),
    );
    // Nothing is left open: no prefix match, no length range wider than the one size.
    for (const condition of policy.conditions) {
      if (Array.isArray(condition)) expect(condition[0]).not.toBe('starts-with');
    }
    expect(post.fields.key).toBe(key);
    expect(post.fields['Content-Type']).toBe('image/png');

    // The signature is SigV4 over the base64 policy, with the key derived for the credential's scope.
    const [accessKey, date, region, service, terminal] = post.fields['X-Amz-Credential']!.split('/');
    expect([accessKey, region, service, terminal]).toEqual([s3.accessKeyId, s3.region, 's3', 'aws4_request']);
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${s3.secretAccessKey}`, date!), region!), service!), terminal!);
    expect(post.fields['X-Amz-Signature']).toBe(hmac(signingKey, post.fields.Policy!).toString('hex'));

    // Evaluated as S3 does: the upload it was made for passes, any change fails.
    const now = new Date();
    expect(policyAdmits(policy, s3.bucket, post.fields, 4_321, now)).toBe(true);
    expect(policyAdmits(policy, s3.bucket, post.fields, 4_322, now)).toBe(false);
    expect(policyAdmits(policy, s3.bucket, post.fields, 4_320, now)).toBe(false);
    expect(policyAdmits(policy, s3.bucket, { ...post.fields, key: `${key}.exe` }, 4_321, now)).toBe(false);
    expect(policyAdmits(policy, s3.bucket, { ...post.fields, key: `users/someone-else/${key}` }, 4_321, now)).toBe(false);
    expect(policyAdmits(policy, s3.bucket, { ...post.fields, 'Content-Type': 'text/html' }, 4_321, now)).toBe(false);
    expect(policyAdmits(policy, 'another-bucket', post.fields, 4_321, now)).toBe(false);
    expect(policyAdmits(policy, s3.bucket, { ...post.fields, acl: 'public-read' }, 4_321, now)).toBe(false);
    expect(policyAdmits(policy, s3.bucket, post.fields, 4_321, new Date(Date.parse(policy.expiration) + 1))).toBe(false);
  });

  it('the PUT URL expires within five minutes and signs the content type and length', async () => {
    const res = await t.http.post('/api/uploads/presign').set(ann.auth).send({ documentId, fileName: 'a.txt', contentType: 'text/plain', size: 12 }).expect(200);
    const url = new URL(res.body.put.url);
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    expect(url.pathname).toBe(`/${s3.bucket}/${res.body.key.split('/').map(encodeURIComponent).join('/')}`);
    expect(res.body.put.headers).toEqual({ 'Content-Type': 'text/plain', 'Content-Length': '12' });
  });

  it('an upload may not be signed for longer than five minutes', () => {
    expect(() => loadConfig({ UPLOAD_URL_EXPIRY_SECONDS: '301' })).toThrow('UPLOAD_URL_EXPIRY_SECONDS');
    expect(loadConfig({}).UPLOAD_URL_EXPIRY_SECONDS).toBeLessThanOrEqual(300);
  });
});
