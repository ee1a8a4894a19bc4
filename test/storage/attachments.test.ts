/**
 * Attachments end to end against a real S3-compatible server that checks signatures (s3rver on
 * loopback): presigned POST and PUT uploads, a forged signature refused, completion with its HEAD
 * checks (type, size, quota, prefix), lists, presigned downloads, and removal with the reactor deleting
 * the object. And the service without a bucket: 503 STORAGE.DISABLED, after validation and access.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { ObjectStorage } from '../../infra/storage/object-storage';
import { startTestS3, type TestS3 } from '../support/s3-server';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

const QUOTA = 3_000;
const MAX = 2_000;

describe('attachments on S3', () => {
  let s3: TestS3;
  let t: TestService;
  let admin: ObjectStorage;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  let eve: SignedUpUser;
  let workspaceId: string;
  let documentId: string;

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestService('attachments', {
      env: { ...s3.env, STORAGE_QUOTA_BYTES: String(QUOTA), UPLOAD_MAX_BYTES: String(MAX), UPLOAD_ALLOWED_CONTENT_TYPES: 'text/plain, image/png', UPLOAD_URL_EXPIRY_SECONDS: '120' },
    });
    admin = new ObjectStorage({ endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    ann = await signUp(t.http);
    bob = await signUp(t.http);
    eve = await signUp(t.http);
    const ws = await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Study' }).expect(201);
    workspaceId = ws.body.id;
    await t.http.post(`/api/workspaces/${workspaceId}/members`).set(ann.auth).send({ email: bob.email, role: 'member' }).expect(201);
    const doc = await t.http.post(`/api/workspaces/${workspaceId}/documents`).set(ann.auth).send({ title: 'Psalms', content: 'Ps 23' }).expect(201);
    documentId = doc.body.id;
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  const presign = (user: SignedUpUser, body: Record<string, unknown>) => t.http.post('/api/uploads/presign').set(user.auth).send(body);

  async function uploadWithPost(presigned: { post: { url: string; fields: Record<string, string> } }, body: Buffer, type: string): Promise<Response> {
    const form = new FormData();
    for (const [name, value] of Object.entries(presigned.post.fields)) form.append(name, value);
    form.append('file', new Blob([body], { type }), 'upload');
    return fetch(presigned.post.url, { method: 'POST', body: form });
  }

  const uploadWithPut = (presigned: { put: { url: string; headers: Record<string, string> } }, body: Buffer) =>
    fetch(presigned.put.url, { method: 'PUT', headers: presigned.put.headers, body });

  it('uploads with a presigned POST, completes, lists, and downloads through a presigned GET', async () => {
    const body = Buffer.from('In green pastures.');
    const signed = await presign(ann, { documentId, fileName: 'psalm 23.txt', contentType: 'text/plain', size: body.length }).expect(200);
    expect(signed.body.key).toBe(`users/${ann.id}/documents/${documentId}/${signed.body.attachmentId}/psalm 23.txt`);
    expect((await uploadWithPost(signed.body, body, 'text/plain')).status).toBeLessThan(300);

    const completed = await t.http.post('/api/attachments').set(ann.auth).send({ key: signed.body.key }).expect(201);
    expect(completed.body).toMatchObject({ id: signed.body.attachmentId, documentId, fileName: 'psalm 23.txt', contentType: 'text/plain', size: body.length, addedBy: ann.id });
    // Completing again (a retry) records nothing new.
    await t.http.post('/api/attachments').set(ann.auth).send({ key: signed.body.key }).expect(200);

    // Bob, a member of the workspace, sees and downloads it; Eve, an outsider, does not.
    const list = await t.http.get(`/api/documents/${documentId}/attachments`).set(bob.auth).set('X-Consistency-Token', completed.headers['x-consistency-token']!).expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([signed.body.attachmentId]);
    await t.http.get(`/api/documents/${documentId}/attachments`).set(eve.auth).expect(404);
    await t.http.get(`/api/attachments/${signed.body.attachmentId}/download`).set(eve.auth).expect(404);

    const download = await t.http.get(`/api/attachments/${signed.body.attachmentId}/download`).set(bob.auth).expect(200);
    const fetched = await fetch(download.body.url);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer())).toEqual(body);
    expect(fetched.headers.get('content-disposition')).toContain('psalm 23.txt');
    expect(Date.parse(download.body.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    // The download URL is signed: changing the key it names breaks it.
    expect((await fetch(download.body.url.replace('psalm', 'xsalm'))).status).toBe(403);
  });

  it('uploads with a presigned PUT; a forged signature, another type or another length are refused by the server', async () => {
    const body = Buffer.from('PNG-ish bytes');
    const signed = await presign(ann, { documentId, fileName: 'pic.png', contentType: 'image/png', size: body.length }).expect(200);
    const url = new URL(signed.body.put.url);
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    const forged = await fetch(url, { method: 'PUT', headers: signed.body.put.headers, body });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('SignatureDoesNotMatch');
    const otherType = await fetch(signed.body.put.url, { method: 'PUT', headers: { ...signed.body.put.headers, 'Content-Type': 'text/plain' }, body });
    expect(otherType.status).toBe(403);
    const shorter = body.subarray(0, 5);
    const otherLength = await fetch(signed.body.put.url, { method: 'PUT', headers: { ...signed.body.put.headers, 'Content-Length': String(shorter.length) }, body: shorter });
    expect(otherLength.status).toBe(403);
    // An unsigned request does not get in either.
    const anonymous = await fetch(`${s3.endpoint}/${s3.bucket}/${signed.body.key}`, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body });
    expect(anonymous.status).toBe(403);
    expect(await admin.head(signed.body.key)).toBeUndefined();
    await t.http.post('/api/attachments').set(ann.auth).send({ key: signed.body.key }).expect(409);

    expect((await uploadWithPut(signed.body, body)).status).toBe(200);
    await t.http.post('/api/attachments').set(ann.auth).send({ key: signed.body.key }).expect(201);
  });

  it('signs only allowed types and sizes, for targets the caller may edit', async () => {
    expect((await presign(ann, { documentId, fileName: 'x.exe', contentType: 'application/x-msdownload', size: 10 })).body.code).toBe('ATTACHMENT.TYPE_NOT_ALLOWED');
    const large = await presign(ann, { documentId, fileName: 'x.txt', contentType: 'text/plain', size: MAX + 1 });
    expect([large.status, large.body.code]).toEqual([413, 'ATTACHMENT.TOO_LARGE']);
    expect((await presign(eve, { documentId, fileName: 'x.txt', contentType: 'text/plain', size: 10 })).status).toBe(404);
    expect((await presign(ann, { documentId: randomUUID(), fileName: 'x.txt', contentType: 'text/plain', size: 10 })).status).toBe(404);
    expect((await presign(ann, { documentId, noteId: randomUUID(), fileName: 'x.txt', contentType: 'text/plain', size: 10 })).status).toBe(400);
    expect((await presign(ann, { fileName: 'x.txt', contentType: 'text/plain', size: 10 })).status).toBe(400);
  });

  it('refuses to complete a key outside the caller’s own prefix', async () => {
    const signed = await presign(ann, { documentId, fileName: 'a.txt', contentType: 'text/plain', size: 3 }).expect(200);
    expect((await uploadWithPut(signed.body, Buffer.from('abc'))).status).toBe(200);
    // Bob may edit the document, but the upload is Ann's.
    const stolen = await t.http.post('/api/attachments').set(bob.auth).send({ key: signed.body.key });
    expect([stolen.status, stolen.body.code]).toEqual([403, 'ATTACHMENT.KEY_NOT_YOURS']);
    const outside = await t.http.post('/api/attachments').set(ann.auth).send({ key: `exports/${ann.id}/x.zip` });
    expect(outside.body.code).toBe('ATTACHMENT.KEY_NOT_YOURS');
    const traversal = await t.http.post('/api/attachments').set(ann.auth).send({ key: `users/${ann.id}/documents/${documentId}/${randomUUID()}/../../x` });
    expect(traversal.body.code).toBe('ATTACHMENT.KEY_NOT_YOURS');
    // Eve, under her own prefix but for Ann's document: the document does not exist for her.
    const planted = `users/${eve.id}/documents/${documentId}/${randomUUID()}/p.txt`;
    await admin.uploadStream(planted, bufferStream('eve'), 'text/plain');
    expect((await t.http.post('/api/attachments').set(eve.auth).send({ key: planted })).status).toBe(404);
  });

  it('checks what arrived with HEAD: a wrong type or an oversized object is rejected and deleted', async () => {
    const wrongType = `users/${ann.id}/documents/${documentId}/${randomUUID()}/evil.txt`;
    await admin.uploadStream(wrongType, bufferStream('MZ...'), 'application/x-msdownload');
    const refused = await t.http.post('/api/attachments').set(ann.auth).send({ key: wrongType });
    expect([refused.status, refused.body.code]).toEqual([422, 'ATTACHMENT.OBJECT_REJECTED']);
    expect(await admin.head(wrongType)).toBeUndefined();

    const oversized = `users/${ann.id}/documents/${documentId}/${randomUUID()}/big.txt`;
    await admin.uploadStream(oversized, bufferStream('x'.repeat(MAX + 1)), 'text/plain');
    expect((await t.http.post('/api/attachments').set(ann.auth).send({ key: oversized })).body.code).toBe('ATTACHMENT.OBJECT_REJECTED');
    expect(await admin.head(oversized)).toBeUndefined();

    const missing = await t.http.post('/api/attachments').set(ann.auth).send({ key: `users/${ann.id}/documents/${documentId}/${randomUUID()}/none.txt` });
    expect([missing.status, missing.body.code]).toEqual([409, 'ATTACHMENT.NOT_UPLOADED']);
  });

  it('holds the quota when signing and when completing: the upload that does not fit is deleted', async () => {
    const carol = await signUp(t.http);
    const ws = await t.http.post('/api/workspaces').set(carol.auth).send({ name: 'Carol' }).expect(201);
    const doc = await t.http.post(`/api/workspaces/${ws.body.id}/documents`).set(carol.auth).send({ title: 'Q', content: '' }).expect(201);
    const size = 1_800; // fits alone; two do not (quota 3,000)
    const first = await presign(carol, { documentId: doc.body.id, fileName: '1.txt', contentType: 'text/plain', size }).expect(200);
    const second = await presign(carol, { documentId: doc.body.id, fileName: '2.txt', contentType: 'text/plain', size }).expect(200);
    expect((await uploadWithPut(first.body, Buffer.alloc(size, 'a'))).status).toBe(200);
    expect((await uploadWithPut(second.body, Buffer.alloc(size, 'b'))).status).toBe(200);
    await t.http.post('/api/attachments').set(carol.auth).send({ key: first.body.key }).expect(201);
    const over = await t.http.post('/api/attachments').set(carol.auth).send({ key: second.body.key });
    expect([over.status, over.body.code, over.body.usedBytes, over.body.quotaBytes]).toEqual([422, 'STORAGE.QUOTA_EXCEEDED', size, QUOTA]);
    expect(await admin.head(second.body.key)).toBeUndefined();
    // And now signing another one that does not fit is refused up front.
    const refused = await presign(carol, { documentId: doc.body.id, fileName: '3.txt', contentType: 'text/plain', size });
    expect([refused.status, refused.body.code]).toEqual([422, 'STORAGE.QUOTA_EXCEEDED']);
    await presign(carol, { documentId: doc.body.id, fileName: '3.txt', contentType: 'text/plain', size: QUOTA - size }).expect(200);
  });

  it('removing an attachment frees its quota, and the reactor deletes its object', async () => {
    const dave = await signUp(t.http);
    const ws = await t.http.post('/api/workspaces').set(dave.auth).send({ name: 'Dave' }).expect(201);
    const doc = await t.http.post(`/api/workspaces/${ws.body.id}/documents`).set(dave.auth).send({ title: 'D', content: '' }).expect(201);
    const signed = await presign(dave, { documentId: doc.body.id, fileName: 'gone.txt', contentType: 'text/plain', size: 2_000 }).expect(200);
    expect((await uploadWithPut(signed.body, Buffer.alloc(2_000, 'g'))).status).toBe(200);
    const added = await t.http.post('/api/attachments').set(dave.auth).send({ key: signed.body.key }).expect(201);
    await t.http.delete(`/api/attachments/${added.body.id}`).set(eve.auth).expect(404);
    expect((await presign(dave, { documentId: doc.body.id, fileName: 'more.txt', contentType: 'text/plain', size: 1_500 })).body.code).toBe('STORAGE.QUOTA_EXCEEDED');
    const removed = await t.http.delete(`/api/attachments/${added.body.id}`).set(dave.auth).expect(204);
    await waitFor(async () => (await admin.head(signed.body.key)) === undefined, 10_000, 'the reactor to delete the object');
    await waitFor(async () => (await t.db.knex('storage_deletions').count<{ count: string }[]>({ count: '*' }))[0]!.count === '0', 10_000, 'the deletion to be recorded');
    const list = await t.http.get(`/api/documents/${doc.body.id}/attachments`).set(dave.auth).set('X-Consistency-Token', removed.headers['x-consistency-token']!).expect(200);
    expect(list.body.items).toEqual([]);
    await t.http.get(`/api/attachments/${added.body.id}/download`).set(dave.auth).expect(404);
    await t.http.delete(`/api/attachments/${added.body.id}`).set(dave.auth).expect(404);
    const events = (await t.service.platform.store.readStream(`storage-${dave.id}`)).map((event) => event.type);
    expect(events).toEqual(['AttachmentAdded', 'AttachmentRemoved', 'AttachmentObjectDeleted']);
    // Its bytes are free again.
    await presign(dave, { documentId: doc.body.id, fileName: 'more.txt', contentType: 'text/plain', size: 1_500 }).expect(200);
  });

  it('attaches to notes, which only their owner sees', async () => {
    const note = await t.http.post('/api/notes').set(ann.auth).send({ title: 'John 1', content: 'In the beginning (John 1:1)', dateTime: '2026-11-22T08:00:00.000Z' }).expect(201);
    const body = Buffer.from('note attachment');
    const signed = await presign(ann, { noteId: note.body.id, fileName: 'n.txt', contentType: 'text/plain', size: body.length }).expect(200);
    expect(signed.body.key.startsWith(`users/${ann.id}/notes/${note.body.id}/`)).toBe(true);
    expect((await presign(bob, { noteId: note.body.id, fileName: 'n.txt', contentType: 'text/plain', size: 1 })).status).toBe(404);
    expect((await uploadWithPost(signed.body, body, 'text/plain')).status).toBeLessThan(300);
    const added = await t.http.post('/api/attachments').set(ann.auth).send({ key: signed.body.key }).expect(201);
    expect(added.body.noteId).toBe(note.body.id);
    const token = added.headers['x-consistency-token']!;
    const list = await t.http.get(`/api/notes/${note.body.id}/attachments`).set(ann.auth).set('X-Consistency-Token', token).expect(200);
    expect(list.body.items).toHaveLength(1);
    await t.http.get(`/api/notes/${note.body.id}/attachments`).set(bob.auth).set('X-Consistency-Token', token).expect(404);
    await t.http.get(`/api/attachments/${added.body.id}/download`).set(bob.auth).expect(404);
    await t.http.delete(`/api/attachments/${added.body.id}`).set(bob.auth).expect(404);
    await t.http.get(`/api/attachments/${added.body.id}/download`).set(ann.auth).expect(200);
  });

  it('an upload never completed is deleted an hour after its URLs expired; completed ones are kept', async () => {
    const body = Buffer.from('abandoned');
    const abandoned = await presign(ann, { documentId, fileName: 'abandoned.txt', contentType: 'text/plain', size: body.length }).expect(200);
    const kept = await presign(ann, { documentId, fileName: 'kept.txt', contentType: 'text/plain', size: body.length }).expect(200);
    expect((await uploadWithPut(abandoned.body, body)).status).toBe(200);
    expect((await uploadWithPut(kept.body, body)).status).toBe(200);
    await t.http.post('/api/attachments').set(ann.auth).send({ key: kept.body.key }).expect(201);
    expect(await t.db.knex('upload_intents').where('key', kept.body.key).first()).toBeUndefined();
    // Its URLs expired two hours ago: past the grace, so completing it now is refused, and the sweeper deletes it.
    await t.db.knex('upload_intents').where('key', abandoned.body.key).update({ expires_at: new Date(Date.now() - 2 * 3_600_000) });
    const late = await t.http.post('/api/attachments').set(ann.auth).send({ key: abandoned.body.key });
    expect(late.status).toBe(409);
    expect(['ATTACHMENT.UPLOAD_EXPIRED', 'ATTACHMENT.NOT_UPLOADED']).toContain(late.body.code);
    await waitFor(async () => (await admin.head(abandoned.body.key)) === undefined, 10_000, 'the sweeper to delete the abandoned upload');
    await waitFor(async () => (await t.db.knex('upload_intents').where('key', abandoned.body.key).first()) === undefined, 10_000, 'the intent to go');
    expect(await admin.head(kept.body.key)).toBeDefined();
  });

  it('the test server refused every unsigned request it saw', () => {
    expect(s3.unsigned).toBeGreaterThan(0);
  });
});

describe('without a bucket', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('attachments-off');
  });
  afterAll(() => t?.close());

  it('answers 503 STORAGE.DISABLED once a request is valid and allowed, and 4xx before that', async () => {
    const ann = await signUp(t.http);
    const ws = await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'W' }).expect(201);
    const doc = await t.http.post(`/api/workspaces/${ws.body.id}/documents`).set(ann.auth).send({ title: 'T', content: '' }).expect(201);
    const disabled = await t.http.post('/api/uploads/presign').set(ann.auth).send({ documentId: doc.body.id, fileName: 'a.txt', contentType: 'text/plain', size: 3 });
    expect([disabled.status, disabled.body.code]).toEqual([503, 'STORAGE.DISABLED']);
    expect(disabled.headers['content-type']).toContain('application/problem+json');
    const exported = await t.http.post('/api/exports').set(ann.auth).send({ format: 'markdown', scope: { all: true } });
    expect([exported.status, exported.body.code]).toEqual([503, 'STORAGE.DISABLED']);
    expect((await t.http.post('/api/uploads/presign').set(ann.auth).send({ documentId: randomUUID(), fileName: 'a.txt', contentType: 'text/plain', size: 3 })).status).toBe(404);
    expect((await t.http.post('/api/attachments').set(ann.auth).send({ key: 'nope' })).status).toBe(403);
    await t.http.get(`/api/documents/${doc.body.id}/attachments`).set(ann.auth).expect(200);
  });
});

const bufferStream = (text: string) => Readable.from([Buffer.from(text)]);
