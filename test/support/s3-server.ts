/**
 * A real S3-compatible server on loopback for tests: @20minutes/s3rver on 127.0.0.1 and a random port,
 * files in a fresh temporary directory, with signature checking on (a forged or expired signature is
 * refused). s3rver lets unsigned requests through, as a public bucket would; the front here refuses
 * them (403), as a private bucket does, so a test cannot pass by forgetting to sign. Form POSTs carry
 * their signature in the body, which s3rver does not check at all: tests decode and verify those
 * policies themselves (see test/storage/presign-policy.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const S3rver = require('@20minutes/s3rver') as new (options: Record<string, unknown>) => { callback(): http.RequestListener; reset(): void };

export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** The service's storage settings pointing at this server. */
  readonly env: Record<string, string>;
  /** Requests the front refused for lack of any signature. */
  readonly unsigned: number;
  close(): Promise<void>;
}

/** s3rver's built-in account. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export async function startTestS3(bucket = 'scriptorium-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const s3rver = new S3rver({ directory, silent: true, allowMismatchedSignatures: false, configureBuckets: [{ name: bucket, configs: [] }] });
  // configureBuckets runs in run(); do the same without letting s3rver listen on its own.
  await (s3rver as unknown as { configureBuckets(): Promise<void> }).configureBuckets();
  const handle = s3rver.callback();
  let unsigned = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const signed =
      req.headers.authorization !== undefined ||
      url.searchParams.has('X-Amz-Algorithm') ||
      url.searchParams.has('Signature') ||
      (req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('multipart/form-data'));
    if (!signed && req.method !== 'OPTIONS') {
      unsigned++;
      res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<Error><Code>AccessDenied</Code><Message>Anonymous access is forbidden</Message></Error>');
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    region: 'us-east-1',
    env: {
      STORAGE_ENDPOINT: endpoint,
      STORAGE_BUCKET: bucket,
      STORAGE_REGION: 'us-east-1',
      STORAGE_ACCESS_KEY_ID: ACCESS_KEY,
      STORAGE_SECRET_ACCESS_KEY: SECRET_KEY,
      STORAGE_FORCE_PATH_STYLE: 'true',
    },
    get unsigned() {
      return unsigned;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
