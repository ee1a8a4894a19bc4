/**
 * Documents over HTTP against the real PostgreSQL: conditional requests, idempotent creates,
 * versions rebuilt from the stream, limits, search, and read models that equal a rebuild.
 */
import { randomUUID } from 'node:crypto';
import { documentsProjection } from '../../projectors/documents/documents-projection';
import { rebuildProjection } from '../support/rebuild-projection';
import { createTestSchema } from '../support/test-database';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

describe('documents API', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let workspaceId: string;

  beforeAll(async () => {
    t = await startTestService('documents', { env: { DOCUMENT_MAX_CONTENT_BYTES: '20000', JSON_BODY_LIMIT_BYTES: '60000' } });
    ann = await signUp(t.http);
    workspaceId = (await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Docs' })).body.id;
  });
  afterAll(() => t.close());

  const create = (body: Record<string, unknown>, user = ann) => t.http.post(`/api/workspaces/${workspaceId}/documents`).set(user.auth).send(body);

  it('creates a document: 201 with the document, ETag "0", Location and a consistency token; GET honours If-None-Match', async () => {
    const res = await create({ title: 'Romans 8', content: 'There is therefore now no condemnation' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      workspaceId,
      title: 'Romans 8',
      content: 'There is therefore now no condemnation',
      revision: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      createdBy: ann.id,
      updatedBy: ann.id,
      deleted: false,
    });
    expect(res.headers.etag).toBe('"0"');
    expect(res.headers.location).toBe(`/api/documents/${res.body.id}`);
    const got = await t.http.get(`/api/documents/${res.body.id}`).set(ann.auth).set('X-Consistency-Token', String(res.headers['x-consistency-token']));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect(got.headers.etag).toBe('"0"');
    const cached = await t.http.get(`/api/documents/${res.body.id}`).set(ann.auth).set('If-None-Match', '"0"');
    expect(cached.status).toBe(304);
    expect(cached.text).toBe('');
  });

  it('repeating a create with the same id and body answers the same 201; another body with that id is 409', async () => {
    const id = randomUUID();
    const first = await create({ id, title: 'Offline', content: 'written on a plane' });
    const again = await create({ id, title: 'Offline', content: 'written on a plane' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.etag).toBe('"0"');
    const other = await create({ id, title: 'Offline', content: 'something else' });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('DOCUMENT.ALREADY_EXISTS');
  });

  it('PUT needs If-Match (428), moves the ETag, and a stale If-Match is 412 carrying the current document', async () => {
    const { body: doc } = await create({ title: 'Draft', content: 'one' });
    const missing = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).send({ title: 'Draft', content: 'two' });
    expect(missing.status).toBe(428);
    const edited = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Draft', content: 'two' });
    expect(edited.status).toBe(200);
    expect(edited.headers.etag).toBe('"1"');
    expect(edited.body).toMatchObject({ content: 'two', revision: 1 });
    const stale = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Draft', content: 'three' });
    expect(stale.status).toBe(412);
    expect(stale.headers['content-type']).toMatch(/problem\+json/);
    expect(stale.body.code).toBe('DOCUMENT.REVISION_CONFLICT');
    expect(stale.body.etag).toBe('"1"');
    expect(stale.body.current).toMatchObject({ id: doc.id, content: 'two', revision: 1 });
  });

  it('exactly one of 10 concurrent PUTs carrying the same If-Match succeeds; the rest get 412', async () => {
    const { body: doc } = await create({ title: 'Contended', content: 'base' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Contended', content: `writer ${i}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(412)]);
    const history = await t.http.get(`/api/documents/${doc.id}/history`).set(ann.auth);
    expect(history.body.items).toHaveLength(2);
  });

  it('deletes softly (a tombstone), hides deleted documents unless asked, and restores', async () => {
    const { body: doc } = await create({ title: 'Temporary', content: 'soon gone' });
    expect((await t.http.delete(`/api/documents/${doc.id}`).set(ann.auth)).status).toBe(428);
    const deleted = await t.http.delete(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"');
    expect(deleted.status).toBe(204);
    const token = String(deleted.headers['x-consistency-token']);
    const list = await t.http.get(`/api/workspaces/${workspaceId}/documents`).set(ann.auth).set('X-Consistency-Token', token);
    expect(list.body.items.map((d: { id: string }) => d.id)).not.toContain(doc.id);
    const withDeleted = await t.http.get(`/api/workspaces/${workspaceId}/documents?includeDeleted=true`).set(ann.auth);
    expect(withDeleted.body.items.find((d: { id: string }) => d.id === doc.id)).toMatchObject({ deleted: true, revision: 1 });
    expect((await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"1"').send({ title: 'x', content: 'y' })).status).toBe(409);
    const restored = await t.http.post(`/api/documents/${doc.id}/restore`).set(ann.auth);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ deleted: false, revision: 2 });
  });

  it('lists every revision with who, when and what changed, names versions, rebuilds past revisions, and diffs them', async () => {
    const { body: doc } = await create({ title: 'Psalm 23', content: 'The Lord is my shepherd\n' });
    await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Psalm 23', content: 'The Lord is my shepherd\nI shall not want\n' });
    const named = await t.http.post(`/api/documents/${doc.id}/versions`).set(ann.auth).send({ label: 'first verse' });
    expect(named.status).toBe(201);
    expect(named.body).toMatchObject({ documentId: doc.id, revision: 1, label: 'first verse' });
    const renamed = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"1"').send({ title: 'Psalm 23 (KJV)', content: 'The Lord is my shepherd\nI shall not want\n' });
    expect(renamed.headers.etag).toBe('"2"'); // naming a version does not move the revision

    const versions = await t.http.get(`/api/documents/${doc.id}/versions`).set(ann.auth).set('X-Consistency-Token', String(renamed.headers['x-consistency-token']));
    expect(versions.body.items.map((v: { revision: number; change: string; titleChanged: boolean; contentChanged: boolean; sizeDelta: number; by: string }) => [v.revision, v.change, v.titleChanged, v.contentChanged, v.sizeDelta, v.by])).toEqual([
      [0, 'created', true, true, 24, ann.id],
      [1, 'edited', false, true, 17, ann.id],
      [2, 'edited', true, false, 0, ann.id],
    ]);
    expect(versions.body.snapshots).toEqual([{ revision: 1, label: 'first verse', createdAt: expect.any(String), createdBy: ann.id }]);

    const past = await t.http.get(`/api/documents/${doc.id}/versions/0`).set(ann.auth);
    expect(past.status).toBe(200);
    expect(past.body).toMatchObject({ revision: 0, title: 'Psalm 23', content: 'The Lord is my shepherd\n' });
    expect((await t.http.get(`/api/documents/${doc.id}/versions/9`).set(ann.auth)).status).toBe(404);

    const diff = await t.http.get(`/api/documents/${doc.id}/diff?from=0&to=2`).set(ann.auth);
    expect(diff.status).toBe(200);
    expect(diff.body.title).toEqual({ from: 'Psalm 23', to: 'Psalm 23 (KJV)', changed: true });
    expect(diff.body.unified).toContain('+I shall not want');
    expect(diff.body.hunks[0].lines).toEqual([' The Lord is my shepherd', '+I shall not want']);
    expect((await t.http.get(`/api/documents/${doc.id}/diff?from=0`).set(ann.auth)).status).toBe(400);

    const history = await t.http.get(`/api/documents/${doc.id}/history`).set(ann.auth);
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['DocumentCreated', 'DocumentEdited', 'DocumentEdited']);
    expect(history.body.items[0].metadata).toMatchObject({ actorId: ann.id, correlationId: expect.any(String), occurredAt: expect.any(String) });
  });

  it('refuses bad input with clear 4xx problems', async () => {
    const { body: doc } = await create({ title: 'Limits', content: 'x' });
    expect((await create({ title: '', content: 'x' })).status).toBe(400);
    expect((await create({ title: 'é'.repeat(500), content: 'x' })).status).toBe(201);
    expect((await create({ title: 'é'.repeat(501), content: 'x' })).status).toBe(400);
    const tooBig = await create({ title: 'Big', content: 'x'.repeat(20_001) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('DOCUMENT.CONTENT_TOO_LARGE');
    expect((await create({ title: 'Huge', content: 'x'.repeat(70_000) })).status).toBe(413);
    expect((await create({ title: 'x', content: 'y', owner: 'me' })).status).toBe(400);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = { deep };
    const tooDeep = await create({ title: 'x', content: 'y', deep });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.code).toBe('HTTP.JSON_TOO_DEEP');
    const invalidUtf8 = Buffer.concat([Buffer.from('{"title":"a","content":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const badBytes = await t.http
      .post(`/api/workspaces/${workspaceId}/documents`)
      .set(ann.auth)
      .set('Content-Type', 'application/json')
      .serialize((raw: unknown) => raw as string) // send the bytes as they are
      .send(invalidUtf8);
    expect(badBytes.status).toBe(400);
    expect(badBytes.body.code).toBe('HTTP.INVALID_UTF8');
    expect((await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', 'garbage').send({ title: 'x', content: 'y' })).status).toBe(400);
    expect((await t.http.get(`/api/workspaces/${workspaceId}/documents?limit=0`).set(ann.auth)).status).toBe(400);
    expect((await t.http.get(`/api/workspaces/${workspaceId}/documents?limit=201`).set(ann.auth)).status).toBe(400);
    expect((await t.http.get(`/api/workspaces/${workspaceId}/documents?cursor=bm9wZQ`).set(ann.auth)).body.code).toBe('REQUEST.INVALID_CURSOR');
    expect((await t.http.get('/api/documents/not-a-uuid').set(ann.auth)).status).toBe(404);
  });

  it('searches title and content, and pages with an opaque cursor', async () => {
    const ws = (await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Search' })).body.id;
    let token = '';
    for (let i = 0; i < 7; i++) {
      const res = await t.http.post(`/api/workspaces/${ws}/documents`).set(ann.auth).send({ title: `Note ${i}`, content: i % 2 ? 'grace and peace' : 'law and prophets' });
      token = String(res.headers['x-consistency-token']);
    }
    const found = await t.http.get(`/api/workspaces/${ws}/documents?query=grace`).set(ann.auth).set('X-Consistency-Token', token);
    expect(found.body.items.map((d: { title: string }) => d.title).sort()).toEqual(['Note 1', 'Note 3', 'Note 5']);
    expect(found.body.items[0].content).toBeUndefined();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await t.http
        .get(`/api/workspaces/${ws}/documents?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
        .set(ann.auth);
      seen.push(...page.body.items.map((d) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('keeps deciding cheaply on a long stream: snapshots are written and used', async () => {
    const { body: doc } = await create({ title: 'Long', content: 'v0' });
    for (let i = 1; i <= 120; i++) {
      const res = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', `"${i - 1}"`).send({ title: 'Long', content: `v${i}` });
      expect(res.status).toBe(200);
    }
    const snapshot = await t.db.knex('aggregate_snapshots').where({ stream_id: `document-${doc.id}` }).first();
    expect(Number(snapshot.revision)).toBeGreaterThanOrEqual(99); // every 50 events: 49, 99
    expect(snapshot.state.content).toBe(`v${snapshot.revision}`);
  });

  it('a rebuild of the documents projection equals the live tables', async () => {
    const live = await t.http.get(`/api/workspaces/${workspaceId}/documents`).set(ann.auth);
    expect(live.status).toBe(200);
    const rebuilt = await createTestSchema('documents_rebuild');
    try {
      await rebuildProjection(t.db, rebuilt, documentsProjection);
      for (const [table, order] of [
        ['documents', ['id']],
        ['document_versions', ['document_id', 'revision']],
        ['document_labels', ['document_id', 'label_revision']],
      ] as const) {
        const liveRows = await t.db.knex(table).select(t.db.knex.raw('to_jsonb(t) - ? AS row', ['search'])).from(t.db.knex.raw('?? as t', [table])).orderBy(order.map((c) => `t.${c}`));
        const rebuiltRows = await rebuilt.knex(table).select(rebuilt.knex.raw('to_jsonb(t) - ? AS row', ['search'])).from(rebuilt.knex.raw('?? as t', [table])).orderBy(order.map((c) => `t.${c}`));
        expect([table, rebuiltRows]).toEqual([table, liveRows]);
      }
    } finally {
      await rebuilt.drop();
    }
  });
});
