/**
 * Exports end to end: requested over HTTP, built by the reactor in the projectors part into a real
 * S3-compatible server (multipart), polled for progress, downloaded through the presigned URL, and
 * checked by content: the Markdown zip is unzipped and its front matter read; the PDF's text is
 * extracted (Greek included). Exports expire and their objects are deleted; outsiders see nothing;
 * an export of 5,000 notes completes.
 */
import { randomUUID } from 'node:crypto';
import yauzl from 'yauzl';
import { ObjectStorage } from '../../infra/storage/object-storage';
import { silentLogger } from '../../infra/logging/logger';
import { buildExport } from '../../projectors/exports/export-builder';
import { exportReactor } from '../../projectors/exports/export-reactor';
import { PdfLayoutThread } from '../../projectors/exports/pdf-layout-thread';
import { pdfText } from '../support/extract-pdf-text';
import { startTestS3, type TestS3 } from '../support/s3-server';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';

jest.setTimeout(180_000);

/** Every file in a zip, by name, as text. */
async function unzip(buffer: Buffer): Promise<Map<string, string>> {
  const files = await unzipBinary(buffer);
  return new Map([...files].map(([name, bytes]) => [name, bytes.toString('utf8')]));
}

function unzipBinary(buffer: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const files = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

describe('exports', () => {
  let s3: TestS3;
  let t: TestService;
  let storage: ObjectStorage;
  let now = Date.now();
  let ann: SignedUpUser;
  let eve: SignedUpUser;
  let workspaceId: string;
  const noteIds: string[] = [];
  const pdfLayout = new PdfLayoutThread();

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestService('exports', { env: { ...s3.env, EXPORT_EXPIRY_HOURS: '2' }, service: { clock: () => new Date(now) } });
    storage = new ObjectStorage({ endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    ann = await signUp(t.http);
    eve = await signUp(t.http);
    workspaceId = (await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Greek study' }).expect(201)).body.id;
    await t.http.post(`/api/workspaces/${workspaceId}/documents`).set(ann.auth).send({ title: 'Prologue', content: 'Ἐν ἀρχῇ ἦν ὁ λόγος\n\n**bold** and *soft*' }).expect(201);
    await t.http.post(`/api/workspaces/${workspaceId}/documents`).set(ann.auth).send({ title: 'Genesis', content: 'בְּרֵאשִׁית בָּרָא' }).expect(201);
    for (const [title, content, tags] of [
      ['The Word', 'In the beginning was the Word (John 1:1). λόγος means word.', ['logos', 'christology']],
      ['Shepherd', 'The LORD is my shepherd, Psalm 23:1.\n\n- green pastures\n- still waters', ['comfort']],
    ] as const) {
      const note = await t.http.post('/api/notes').set(ann.auth).send({ title, content, dateTime: '2026-11-20T07:30:00.000Z', tags }).expect(201);
      noteIds.push(note.body.id);
    }
  });
  afterAll(async () => {
    await pdfLayout.close();
    await t?.close();
    await s3?.close();
  });

  async function requestExport(user: SignedUpUser, body: Record<string, unknown>) {
    const res = await t.http.post('/api/exports').set(user.auth).send(body);
    return res;
  }

  /** Polls the export until ready, reading its own request's write first (X-Consistency-Token). */
  async function readyExport(user: SignedUpUser, requested: { body: { id: string }; headers: Record<string, string> }, timeoutMs = 30_000) {
    const id = requested.body.id;
    let last: Record<string, unknown> = {};
    await waitFor(
      async () => {
        last = (await t.http.get(`/api/exports/${id}`).set(user.auth).set('X-Consistency-Token', requested.headers['x-consistency-token']!).expect(200)).body;
        if (last.status === 'failed') throw new Error(`export failed: ${JSON.stringify(last)}`);
        return last.status === 'ready';
      },
      timeoutMs,
      'the export to be ready',
    );
    return last as { status: string; progress: { done: number; total: number }; download: { url: string; expiresAt: string }; fileName: string; size: number; expiresAt: string };
  }

  const download = async (url: string) => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };

  it('a Markdown export is a zip of one file per note and document, with front matter', async () => {
    const requested = await requestExport(ann, { format: 'markdown', scope: { all: true } });
    expect(requested.status).toBe(202);
    expect(requested.headers.location).toBe(`/api/exports/${requested.body.id}`);
    const ready = await readyExport(ann, requested);
    expect(ready.progress).toEqual({ done: 4, total: 4 });
    expect(ready.fileName).toMatch(/\.zip$/);
    const zip = await download(ready.download.url);
    expect(zip.length).toBe(ready.size);
    const files = await unzip(zip);
    expect([...files.keys()].sort()).toEqual([
      expect.stringMatching(/^documents\/greek-study\/genesis-[0-9a-f]{12}\.md$/),
      expect.stringMatching(/^documents\/greek-study\/prologue-[0-9a-f]{12}\.md$/),
      expect.stringMatching(/^notes\/2026-11-20-shepherd-[0-9a-f]{12}\.md$/),
      expect.stringMatching(/^notes\/2026-11-20-the-word-[0-9a-f]{12}\.md$/),
    ]);
    const word = [...files.entries()].find(([name]) => name.includes('the-word'))![1];
    expect(word).toContain('title: "The Word"\n');
    expect(word).toContain('date: "2026-11-20T07:30:00.000Z"\n');
    expect(word).toContain('tags: ["logos", "christology"]\n');
    expect(word).toContain('passages: ["John.1.1"]\n');
    expect(word.startsWith('---\n')).toBe(true);
    expect(word).toContain('\n---\n\n# The Word\n\nIn the beginning was the Word (John 1:1).');
    const prologue = [...files.entries()].find(([name]) => name.includes('prologue'))![1];
    expect(prologue).toContain('workspace: "Greek study"');
    expect(prologue).toContain('Ἐν ἀρχῇ ἦν ὁ λόγος');

    const events = (await t.service.platform.store.readStream(`export-${requested.body.id}`)).map((event) => event.type);
    expect(events[0]).toBe('ExportRequested');
    expect(events).toContain('ExportProgressed');
    expect(events[events.length - 1]).toBe('ExportCompleted');
  });

  it('a PDF export renders the Markdown with a font that has Greek', async () => {
    const requested = await requestExport(ann, { format: 'pdf', scope: { noteIds: [noteIds[0]] } });
    expect(requested.status).toBe(202);
    const ready = await readyExport(ann, requested);
    expect(ready.fileName).toMatch(/\.pdf$/);
    const pdf = await download(ready.download.url);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(pdf);
    expect(text).toContain('The Word');
    expect(text).toContain('λόγος');
    expect(text).toContain('logos, christology');
    expect(text).not.toContain('Shepherd');
  });

  it('a workspace export holds its documents only, as PDF pages in Greek and Hebrew', async () => {
    const requested = await requestExport(ann, { format: 'pdf', scope: { workspaceId } });
    const ready = await readyExport(ann, requested);
    expect(ready.progress).toEqual({ done: 2, total: 2 });
    const text = await pdfText(await download(ready.download.url));
    expect(text).toContain('Ἐν ἀρχῇ ἦν ὁ λόγος');
    expect(text).toContain('Genesis');
    expect(text).toContain('בְּרֵאשִׁית');
    expect(text).not.toContain('The Word');
  });

  it('a PDF export larger than one volume is a zip of PDF volumes', async () => {
    const progress: Array<[number, number]> = [];
    const built = await buildExport(
      { exportId: randomUUID(), ownerId: ann.id, format: 'pdf', scope: { all: true } },
      { db: t.db.knex, storage, now: new Date(now), pdfVolumeItems: 3, pdfLayout, onProgress: (done, total) => void progress.push([done, total]) },
    );
    expect(built).toMatchObject({ items: 4, fileName: expect.stringMatching(/\.zip$/) });
    expect(progress[0]).toEqual([0, 4]);
    expect(progress[progress.length - 1]).toEqual([4, 4]);
    const files = await unzipBinary(await storage.read(built.key));
    expect([...files.keys()]).toEqual(['scriptorium-export-001.pdf', 'scriptorium-export-002.pdf']);
    const first = await pdfText(files.get('scriptorium-export-001.pdf')!);
    const second = await pdfText(files.get('scriptorium-export-002.pdf')!);
    // Three items in the first volume, one in the second: notes first, then documents (each by id).
    expect(first).toContain('The Word');
    expect(first).toContain('Shepherd');
    expect(first).toContain('-- 3 of 3 --');
    expect(second).toContain('-- 1 of 1 --');
    const documentsText = first + second;
    expect(documentsText).toContain('Genesis');
    expect(documentsText).toContain('Prologue');
    expect(built.size).toBe((await storage.head(built.key))!.size);
  });

  it('a note written a moment ago can be exported at once (its stream answers while the read model catches up)', async () => {
    const note = await t.http.post('/api/notes').set(ann.auth).send({ title: 'Fresh', content: 'Just now: Genesis 1:1', dateTime: '2026-11-21T07:00:00.000Z' }).expect(201);
    const requested = await requestExport(ann, { format: 'markdown', scope: { noteIds: [note.body.id] } });
    expect(requested.status).toBe(202);
    const files = await unzip(await download((await readyExport(ann, requested)).download.url));
    expect([...files.values()][0]).toContain('title: "Fresh"');
  });

  it('to anyone but its owner an export, and what it would read, does not exist', async () => {
    const requested = await requestExport(ann, { format: 'markdown', scope: { noteIds } });
    await t.http.get(`/api/exports/${requested.body.id}`).set(eve.auth).set('X-Consistency-Token', requested.headers['x-consistency-token']!).expect(404);
    expect((await requestExport(eve, { format: 'markdown', scope: { workspaceId } })).status).toBe(404);
    expect((await requestExport(eve, { format: 'markdown', scope: { noteIds: [noteIds[0]] } })).body.code).toBe('NOTE.NOT_FOUND');
    expect((await requestExport(ann, { format: 'markdown', scope: { noteIds: [randomUUID()] } })).status).toBe(404);
    expect((await requestExport(ann, { format: 'docx', scope: { all: true } })).status).toBe(400);
    expect((await requestExport(ann, { format: 'pdf', scope: { all: false } })).status).toBe(400);
    // Eve's own "everything" holds nothing of Ann's.
    const eves = await requestExport(eve, { format: 'markdown', scope: { all: true } });
    const ready = await readyExport(eve, eves);
    expect(ready.progress).toEqual({ done: 0, total: 0 });
    expect((await unzip(await download(ready.download.url))).size).toBe(0);
    await readyExport(ann, requested);
  });

  it('expires after EXPORT_EXPIRY_HOURS: the object is deleted and the status says so', async () => {
    const requested = await requestExport(ann, { format: 'markdown', scope: { noteIds } });
    const ready = await readyExport(ann, requested);
    const row = await t.db.knex('exports').where('id', requested.body.id).first('key');
    expect(await storage.head(row.key)).toBeDefined();
    now += 2 * 3_600_000 + 1_000;
    await waitFor(async () => (await t.db.knex('exports').where('id', requested.body.id).first('status')).status === 'expired', 10_000, 'the export to expire');
    expect(await storage.head(row.key)).toBeUndefined();
    expect(Date.parse(ready.expiresAt)).toBeLessThan(now);
    const login = await t.http.post('/api/auth/login').send({ email: ann.email, password: ann.password }).expect(200);
    const status = await t.http.get(`/api/exports/${requested.body.id}`).set({ Authorization: `Bearer ${login.body.accessToken}` }).expect(200);
    expect(status.body.status).toBe('expired');
    expect(status.body.download).toBeUndefined();
    const events = (await t.service.platform.store.readStream(`export-${requested.body.id}`)).map((event) => event.type);
    expect(events[events.length - 1]).toBe('ExportExpired');
  });
});

describe('a large export', () => {
  let s3: TestS3;
  let t: TestService;

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestService('exports-large', { env: s3.env });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('an export of 5,000 notes completes, one file each', async () => {
    const user = await signUp(t.http);
    const store = t.service.platform.store;
    const at = new Date().toISOString();
    const ids = Array.from({ length: 5_000 }, () => randomUUID());
    // Real events through the store (not rows written behind the projection's back), 8 appends at a time.
    for (let start = 0; start < ids.length; start += 8) {
      await Promise.all(
        ids.slice(start, start + 8).map((id, index) =>
          store.append(
            `note-${id}`,
            [
              {
                id: randomUUID(),
                type: 'NoteCreated',
                data: {
                  noteId: id,
                  ownerId: user.id,
                  title: `Study ${start + index}`,
                  content: `# Study ${start + index}\n\n${'Verse text. '.repeat(40)}`,
                  dateTime: at,
                  tags: ['library'],
                  topics: [],
                  detected: [],
                  scripture: [],
                  createdAt: at,
                },
                metadata: { correlationId: 'seed', causationId: 'seed', actorId: user.id, occurredAt: at },
              },
            ],
            { expectedRevision: 'no_stream' },
          ),
        ),
      );
    }
    await waitFor(async () => Number((await t.db.knex('notes').where('owner_id', user.id).count<{ count: string }[]>({ count: '*' }))[0]!.count) === 5_000, 60_000, 'the notes to be projected');

    const started = Date.now();
    const requested = await t.http.post('/api/exports').set(user.auth).send({ format: 'markdown', scope: { all: true } }).expect(202);
    let status: { status: string; progress: { done: number; total: number }; download?: { url: string } } = { status: '', progress: { done: 0, total: 0 } };
    await waitFor(
      async () => {
        status = (await t.http.get(`/api/exports/${requested.body.id}`).set(user.auth).set('X-Consistency-Token', requested.headers['x-consistency-token']!).expect(200)).body;
        return status.status === 'ready';
      },
      90_000,
      'the large export',
    );
    console.info(`export of 5,000 notes: ready in ${Date.now() - started} ms`);
    expect(status.progress).toEqual({ done: 5_000, total: 5_000 });
    const zip = Buffer.from(await (await fetch(status.download!.url)).arrayBuffer());
    const files = await unzip(zip);
    expect(files.size).toBe(5_000);
    expect([...files.values()].every((text) => text.startsWith('---\nid: "'))).toBe(true);
  });
});

describe('an export that cannot be built', () => {
  let s3: TestS3;
  let t: TestService;

  beforeAll(async () => {
    s3 = await startTestS3();
    // No bucket configured: the service runs no export builder of its own; the test runs one that fails.
    t = await startTestService('exports-failing');
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('is retried, then recorded as failed', async () => {
    const user = await signUp(t.http);
    const exportId = randomUUID();
    const at = new Date().toISOString();
    const requested = await t.service.platform.store.append(
      `export-${exportId}`,
      [{ id: randomUUID(), type: 'ExportRequested', data: { exportId, ownerId: user.id, format: 'markdown', scope: { all: true }, requestedAt: at }, metadata: { correlationId: 'c', causationId: 'c', actorId: user.id, occurredAt: at } }],
      { expectedRevision: 'no_stream' },
    );
    const { knex, wakeups, store } = t.service.platform;
    await waitFor(async () => (await knex('export_jobs').where('export_id', exportId).first()) !== undefined, 10_000, 'the job to be queued');
    const missingBucket = new ObjectStorage({ endpoint: s3.endpoint, bucket: 'no-such-bucket', region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    const pdfLayout = new PdfLayoutThread();
    const reactor = exportReactor({ store, db: knex, storage: missingBucket, wakeups, logger: silentLogger, clock: () => new Date(), expiryHours: 1, pollMs: 50, maxAttempts: 1, pdfLayout });
    reactor.start();
    try {
      await waitFor(async () => (await knex('exports').where('id', exportId).first('status'))?.status === 'failed', 20_000, 'the export to fail');
    } finally {
      await reactor.stop();
      await pdfLayout.close();
    }
    const status = await t.http.get(`/api/exports/${exportId}`).set(user.auth).set('X-Consistency-Token', requested.position).expect(200);
    expect(status.body).toMatchObject({ status: 'failed', error: { code: 'EXPORT.BUILD_FAILED' } });
    expect(status.body.download).toBeUndefined();
    expect(await knex('export_jobs').where('export_id', exportId).first()).toBeUndefined();
    const events = (await store.readStream(`export-${exportId}`)).map((event) => event.type);
    expect(events[0]).toBe('ExportRequested');
    expect(events[events.length - 1]).toBe('ExportFailed');
  });
});
