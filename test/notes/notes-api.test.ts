/**
 * Notes over HTTP against the real PostgreSQL: detected passages, the user's review of them,
 * conditional requests, idempotent creates, versions rebuilt from the stream, limits, search by text,
 * tag, topic, date and passage, tag and topic counts, scripture text, the sync feed, owner-only access,
 * and read models that equal a rebuild.
 */
import { randomUUID } from 'node:crypto';
import { notesProjection } from '../../projectors/notes/notes-projection';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { SyncReplica } from '../support/sync-client';
import { rebuildProjection } from '../support/rebuild-projection';
import { createTestSchema } from '../support/test-database';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';

interface NoteJson {
  id: string;
  title: string;
  content?: string;
  dateTime: string;
  tags: string[];
  topics: string[];
  scripture: string[];
  revision: number;
  deleted: boolean;
}

describe('notes API', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let eve: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('notes', { env: { DOCUMENT_MAX_CONTENT_BYTES: '20000', JSON_BODY_LIMIT_BYTES: '60000' } });
    ann = await signUp(t.http);
    eve = await signUp(t.http);
  });
  afterAll(() => t.close());

  const at = '2026-11-22T10:00:00.000Z';
  const create = (body: Record<string, unknown>, user = ann) => t.http.post('/api/notes').set(user.auth).send({ dateTime: at, ...body });
  const tokenOf = (res: { headers: Record<string, unknown> }) => String(res.headers['x-consistency-token']);
  const list = async (query: string, token?: string, user = ann): Promise<{ items: NoteJson[]; nextCursor: string | null }> => {
    const req = t.http.get(`/api/notes${query}`).set(user.auth);
    const res = token ? await req.set('X-Consistency-Token', token) : await req;
    expect([query, res.status]).toEqual([query, 200]);
    return res.body;
  };

  it('creates a note: 201 with detected passages, normalized tags and date, ETag "0", Location; GET honours If-None-Match', async () => {
    const res = await create({
      title: 'Providence',
      content: 'Romans 8:28 says all things work together; compare Gen 50:20 and John 3:16-18.',
      dateTime: '2026-11-22T12:30:00+02:00',
      tags: ['Grace ', 'grace', '  Hope  Eternal'],
      topics: ['Providence'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      ownerId: ann.id,
      title: 'Providence',
      content: 'Romans 8:28 says all things work together; compare Gen 50:20 and John 3:16-18.',
      dateTime: '2026-11-22T10:30:00.000Z',
      tags: ['grace', 'hope eternal'],
      topics: ['providence'],
      scripture: ['Gen.50.20', 'John.3.16-John.3.18', 'Rom.8.28'],
      revision: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      deleted: false,
    });
    expect(res.headers.etag).toBe('"0"');
    expect(res.headers.location).toBe(`/api/notes/${res.body.id}`);
    const got = await t.http.get(`/api/notes/${res.body.id}`).set(ann.auth).set('X-Consistency-Token', tokenOf(res));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect(got.headers.etag).toBe('"0"');
    const cached = await t.http.get(`/api/notes/${res.body.id}`).set(ann.auth).set('If-None-Match', '"0"');
    expect(cached.status).toBe(304);
    expect(cached.text).toBe('');
  });

  it('repeating a create with the same id and body answers the same 201; another body, or another user, with that id is 409', async () => {
    const id = randomUUID();
    const body = { id, title: 'Offline', content: 'Ps 23 on a plane', tags: ['travel'] };
    const first = await create(body);
    expect(first.status).toBe(201);
    const again = await create(body);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.etag).toBe('"0"');
    const other = await create({ ...body, content: 'something else' });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('NOTE.ALREADY_EXISTS');
    const stranger = await create(body, eve);
    expect(stranger.status).toBe(409);
    expect(JSON.stringify(stranger.body)).not.toContain('plane');
  });

  it('PUT needs If-Match (428), detects passages again, moves the ETag; a stale If-Match is 412 carrying the current note', async () => {
    const { body: note } = await create({ title: 'Draft', content: 'Gen 1:1' });
    expect(note.scripture).toEqual(['Gen.1.1']);
    const replacement = { title: 'Draft', content: 'Now Exodus 3:14', dateTime: at, tags: ['names of god'] };
    const missing = await t.http.put(`/api/notes/${note.id}`).set(ann.auth).send(replacement);
    expect(missing.status).toBe(428);
    const edited = await t.http.put(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"0"').send(replacement);
    expect(edited.status).toBe(200);
    expect(edited.headers.etag).toBe('"1"');
    expect(edited.body).toMatchObject({ content: 'Now Exodus 3:14', scripture: ['Exod.3.14'], tags: ['names of god'], topics: [], revision: 1 });
    const stale = await t.http.put(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"0"').send({ ...replacement, content: 'three' });
    expect(stale.status).toBe(412);
    expect(stale.headers['content-type']).toMatch(/problem\+json/);
    expect(stale.body.code).toBe('NOTE.REVISION_CONFLICT');
    expect(stale.body.etag).toBe('"1"');
    expect(stale.headers.etag).toBe('"1"');
    expect(stale.body.current).toMatchObject({ id: note.id, content: 'Now Exodus 3:14', revision: 1 });
    const unchanged = await t.http.put(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"1"').send(replacement);
    expect(unchanged.status).toBe(200);
    expect(unchanged.headers.etag).toBe('"1"'); // nothing changed, nothing recorded
  });

  it('deletes softly (a tombstone), hides deleted notes unless asked, refuses edits until restored', async () => {
    const { body: note } = await create({ title: 'Temporary', content: 'Rev 21:4 soon gone', tags: ['ephemeral'] });
    expect((await t.http.delete(`/api/notes/${note.id}`).set(ann.auth)).status).toBe(428);
    expect((await t.http.delete(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"7"')).status).toBe(412);
    const deleted = await t.http.delete(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"0"');
    expect(deleted.status).toBe(204);
    const token = tokenOf(deleted);
    expect((await list('?tag=ephemeral', token)).items).toEqual([]);
    expect((await list('?passage=Rev.21', token)).items.map((n) => n.id)).not.toContain(note.id);
    expect((await list('?passage=Rev.21&includeDeleted=true', token)).items.map((n) => n.id)).toContain(note.id);
    const withDeleted = await list('?tag=ephemeral&includeDeleted=true', token);
    expect(withDeleted.items).toEqual([expect.objectContaining({ id: note.id, deleted: true, revision: 1 })]);
    const tags = await t.http.get('/api/tags').set(ann.auth).set('X-Consistency-Token', token);
    expect(tags.body.items.map((item: { tag: string }) => item.tag)).not.toContain('ephemeral');
    const edit = await t.http.put(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"1"').send({ title: 'x', content: 'y', dateTime: at });
    expect(edit.status).toBe(409);
    expect(edit.body.code).toBe('NOTE.DELETED');
    expect((await t.http.post(`/api/notes/${note.id}/scripture`).set(ann.auth).send({ add: ['Gen 1'] })).status).toBe(409);
    const restored = await t.http.post(`/api/notes/${note.id}/restore`).set(ann.auth);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ deleted: false, revision: 2, scripture: ['Rev.21.4'] });
    expect((await list('?passage=Rev.21', tokenOf(restored))).items.map((n) => n.id)).toContain(note.id);
  });

  it('the user confirms and rejects passages; a rejected one stays rejected across edits; bad references are 400', async () => {
    const { body: note } = await create({ title: 'Review', content: 'I am 1 of many; see Romans 8:28 and Is 53:5' });
    expect(note.scripture).toEqual(['Isa.53.5', 'Rom.8.28']); // "1 of many" is no Amos 1
    const reviewed = await t.http
      .post(`/api/notes/${note.id}/scripture`)
      .set(ann.auth)
      .send({ add: ['Psalm 23', 'John.3.16-John.3.18'], remove: ['Is 53:5'] });
    expect(reviewed.status).toBe(200);
    expect(reviewed.headers.etag).toBe('"1"');
    expect(reviewed.body.scripture).toEqual(['Ps.23', 'John.3.16-John.3.18', 'Rom.8.28']);
    const edited = await t.http
      .put(`/api/notes/${note.id}`)
      .set(ann.auth)
      .set('If-Match', '"1"')
      .send({ title: 'Review', content: 'Again Isaiah 53:5 and Romans 8:28, now with Gen 1:1', dateTime: at });
    expect(edited.body.scripture).toEqual(['Gen.1.1', 'Ps.23', 'John.3.16-John.3.18', 'Rom.8.28']);
    const token = tokenOf(edited);
    expect((await list('?passage=Isa.53', token)).items.map((n) => n.id)).not.toContain(note.id);
    expect((await list('?passage=Ps.23.1', token)).items.map((n) => n.id)).toContain(note.id);
    expect((await list('?passage=John.3.17', token)).items.map((n) => n.id)).toContain(note.id);

    const bad = await t.http.post(`/api/notes/${note.id}/scripture`).set(ann.auth).send({ add: ['Hezekiah 4:2', 'Gen 1'], remove: ['John 3:99'] });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('SCRIPTURE.INVALID_REFERENCE');
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['add.0', 'remove.0']);
    expect((await t.http.post(`/api/notes/${note.id}/scripture`).set(ann.auth).send({ add: 'Gen 1' })).status).toBe(400);
    expect((await t.http.post(`/api/notes/${note.id}/scripture`).set(ann.auth).send({ add: ['Gen 1'], extra: true })).status).toBe(400);
    // Undoing a rejection: adding it back cites it again.
    const undone = await t.http.post(`/api/notes/${note.id}/scripture`).set(ann.auth).set('If-Match', '"2"').send({ add: ['Isa.53.5'] });
    expect(undone.status).toBe(200);
    expect(undone.body.scripture).toContain('Isa.53.5');
  });

  it('lists every revision, names versions, rebuilds past revisions, diffs them and shows the raw history', async () => {
    const { body: note } = await create({ title: 'Shepherd', content: 'The Lord is my shepherd\n' });
    await t.http.put(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Shepherd', content: 'The Lord is my shepherd\nI shall not want\n', dateTime: at });
    const named = await t.http.post(`/api/notes/${note.id}/versions`).set(ann.auth).send({ label: 'first verse' });
    expect(named.status).toBe(201);
    expect(named.body).toMatchObject({ noteId: note.id, revision: 1, label: 'first verse', createdBy: ann.id });
    expect(named.headers.location).toBe(`/api/notes/${note.id}/versions/1`);
    await t.http.post(`/api/notes/${note.id}/scripture`).set(ann.auth).send({ add: ['Ps.23'] });
    const renamed = await t.http
      .put(`/api/notes/${note.id}`)
      .set(ann.auth)
      .set('If-Match', '"2"')
      .send({ title: 'Shepherd (KJV)', content: 'The Lord is my shepherd\nI shall not want\n', dateTime: at });
    expect(renamed.headers.etag).toBe('"3"'); // naming a version does not move the revision

    const versions = await t.http.get(`/api/notes/${note.id}/versions`).set(ann.auth).set('X-Consistency-Token', tokenOf(renamed));
    expect(versions.status).toBe(200);
    expect(versions.body.items.map((v: { revision: number; change: string; titleChanged: boolean; contentChanged: boolean; sizeDelta: number; by: string }) => [v.revision, v.change, v.titleChanged, v.contentChanged, v.sizeDelta, v.by])).toEqual([
      [0, 'created', true, true, 24, ann.id],
      [1, 'edited', false, true, 17, ann.id],
      [2, 'scripture', false, false, 0, ann.id],
      [3, 'edited', true, false, 0, ann.id],
    ]);
    expect(versions.body.snapshots).toEqual([{ revision: 1, label: 'first verse', createdAt: expect.any(String), createdBy: ann.id }]);

    const past = await t.http.get(`/api/notes/${note.id}/versions/0`).set(ann.auth);
    expect(past.status).toBe(200);
    expect(past.headers.etag).toBe('"0"');
    expect(past.body).toMatchObject({ id: note.id, revision: 0, title: 'Shepherd', content: 'The Lord is my shepherd\n', scripture: [] });
    expect((await t.http.get(`/api/notes/${note.id}/versions/2`).set(ann.auth)).body.scripture).toEqual(['Ps.23']);
    expect((await t.http.get(`/api/notes/${note.id}/versions/9`).set(ann.auth)).body.code).toBe('NOTE.REVISION_NOT_FOUND');
    expect((await t.http.get(`/api/notes/${note.id}/versions/x`).set(ann.auth)).status).toBe(400);

    const diff = await t.http.get(`/api/notes/${note.id}/diff?from=0&to=3`).set(ann.auth);
    expect(diff.status).toBe(200);
    expect(diff.body.title).toEqual({ from: 'Shepherd', to: 'Shepherd (KJV)', changed: true });
    expect(diff.body.unified).toContain('+I shall not want');
    expect(diff.body.hunks[0].lines).toEqual([' The Lord is my shepherd', '+I shall not want']);
    expect((await t.http.get(`/api/notes/${note.id}/diff?from=0`).set(ann.auth)).status).toBe(400);
    expect((await t.http.get(`/api/notes/${note.id}/diff?from=0&to=12`).set(ann.auth)).status).toBe(404);

    const history = await t.http.get(`/api/notes/${note.id}/history?limit=3`).set(ann.auth);
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['NoteCreated', 'NoteEdited', 'NoteScriptureReviewed']);
    expect(history.body.items[2].data.scripture).toEqual(['Ps.23']);
    expect(history.body.items[0].metadata).toMatchObject({ actorId: ann.id, correlationId: expect.any(String), occurredAt: expect.any(String) });
    expect(history.body.nextRevision).toBe(3);

    const deleted = await t.http.delete(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', '"3"');
    expect(deleted.status).toBe(204);
    const namingDeleted = await t.http.post(`/api/notes/${note.id}/versions`).set(ann.auth).send({});
    expect(namingDeleted.status).toBe(409);
    expect(namingDeleted.body.code).toBe('NOTE.DELETED');
  });

  it('refuses bad input with clear 4xx problems', async () => {
    const { body: note } = await create({ title: 'Limits', content: 'x' });
    expect((await create({ title: '', content: 'x' })).status).toBe(400);
    expect((await create({ title: 'é'.repeat(500), content: 'x' })).status).toBe(201);
    expect((await create({ title: 'é'.repeat(501), content: 'x' })).status).toBe(400);
    const tooBig = await create({ title: 'Big', content: 'x'.repeat(20_001) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('NOTE.CONTENT_TOO_LARGE');
    expect((await create({ title: 'x', content: 'y', owner: 'me' })).status).toBe(400);
    expect((await create({ title: 'x', content: 'y', dateTime: 'yesterday' })).status).toBe(400);
    expect((await create({ title: 'x', content: 'y', dateTime: '2026-11-22T10:00:00' })).status).toBe(400); // no zone
    expect((await t.http.post('/api/notes').set(ann.auth).send({ title: 'x', content: 'y' })).status).toBe(400); // no dateTime
    expect((await create({ title: 'x', content: 'y', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })).status).toBe(400);
    expect((await create({ title: 'x', content: 'y', tags: ['x'.repeat(65)] })).status).toBe(400);
    expect((await create({ title: 'x', content: 'y', tags: ['   '] })).status).toBe(400);
    expect((await create({ title: 'x', content: 'y', topics: Array.from({ length: 21 }, (_, i) => `t${i}`) })).status).toBe(400);
    expect((await create({ title: 'x', content: 'y', tags: 'grace' })).status).toBe(400);
    expect((await create({ id: 'not-a-uuid', title: 'x', content: 'y' })).status).toBe(400);
    expect((await t.http.put(`/api/notes/${note.id}`).set(ann.auth).set('If-Match', 'garbage').send({ title: 'x', content: 'y', dateTime: at })).status).toBe(400);
    expect((await t.http.get('/api/notes?limit=0').set(ann.auth)).status).toBe(400);
    expect((await t.http.get('/api/notes?limit=201').set(ann.auth)).status).toBe(400);
    expect((await t.http.get('/api/notes?from=tomorrow').set(ann.auth)).status).toBe(400);
    expect((await t.http.get('/api/notes?colour=red').set(ann.auth)).status).toBe(400);
    expect((await t.http.get('/api/notes?cursor=bm9wZQ').set(ann.auth)).body.code).toBe('REQUEST.INVALID_CURSOR');
    const badPassage = await t.http.get('/api/notes?passage=Hezekiah.1').set(ann.auth);
    expect(badPassage.status).toBe(400);
    expect(badPassage.body.code).toBe('SCRIPTURE.INVALID_REFERENCE');
    expect((await t.http.get('/api/notes?passage=John.3.99').set(ann.auth)).status).toBe(400);
    expect((await t.http.get('/api/notes/not-a-uuid').set(ann.auth)).status).toBe(404);
    expect((await t.http.get(`/api/notes/${randomUUID()}`).set(ann.auth)).status).toBe(404);
    expect((await t.http.put(`/api/notes/${randomUUID()}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'x', content: 'y', dateTime: at })).status).toBe(404);
    expect((await t.http.get('/api/tags?limit=0').set(ann.auth)).status).toBe(400);
    expect((await t.http.get('/api/notes')).status).toBe(401);
  });

  it('searches by text, tag, topic and date range, and pages newest first with an opaque cursor', async () => {
    const marker = `m${randomUUID().slice(0, 8)}`;
    let token = '';
    for (let i = 0; i < 7; i++) {
      const res = await create({
        title: `${marker} note ${i}`,
        content: i % 2 ? 'grace and peace' : 'law and prophets',
        dateTime: `2025-01-0${i + 1}T08:00:00Z`,
        tags: [marker, i % 2 ? 'odd' : 'even'],
        topics: i < 3 ? [`${marker}-early`] : [],
      });
      token = tokenOf(res);
    }
    const found = await list(`?query=${marker}%20grace`, token);
    expect(found.items.map((n) => n.title)).toEqual([`${marker} note 5`, `${marker} note 3`, `${marker} note 1`]);
    expect(found.items[0]!.content).toBeUndefined();
    expect((await list(`?tag=${marker.toUpperCase()}%20&topic=${marker}-early`)).items.map((n) => n.title)).toEqual([`${marker} note 2`, `${marker} note 1`, `${marker} note 0`]);
    expect((await list(`?tag=${marker}&from=2025-01-03&to=2025-01-05T08:00:00Z`)).items.map((n) => n.title)).toEqual([`${marker} note 3`, `${marker} note 2`]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: NoteJson[]; nextCursor: string | null } = await list(`?tag=${marker}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((n) => n.title));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `${marker} note ${i}`));
  });

  it('counts the caller’s tags and topics over live notes only', async () => {
    const fresh = await signUp(t.http);
    await create({ title: 'a', content: '', tags: ['grace', 'hope'], topics: ['faith'] }, fresh);
    await create({ title: 'b', content: '', tags: ['Grace'], topics: ['faith', 'works'] }, fresh);
    const gone = await create({ title: 'c', content: '', tags: ['hope', 'gone'] }, fresh);
    const deleted = await t.http.delete(`/api/notes/${gone.body.id}`).set(fresh.auth).set('If-Match', '"0"');
    const tags = await t.http.get('/api/tags').set(fresh.auth).set('X-Consistency-Token', tokenOf(deleted));
    expect(tags.status).toBe(200);
    expect(tags.body).toEqual({ items: [{ tag: 'grace', count: 2 }, { tag: 'hope', count: 1 }] });
    const topics = await t.http.get('/api/topics?limit=1').set(fresh.auth);
    expect(topics.body).toEqual({ items: [{ topic: 'faith', count: 2 }] });
    expect((await t.http.get('/api/tags').set(eve.auth)).body.items.map((i: { tag: string }) => i.tag)).not.toContain('grace');
  });

  it('answers a passage normalized to OSIS with its KJV text', async () => {
    const verse = await t.http.get(`/api/scripture/${encodeURIComponent('John 3:16')}`).set(ann.auth);
    expect(verse.status).toBe(200);
    expect(verse.body.reference).toBe('John.3.16');
    expect(verse.body.translation).toBe('KJV');
    expect(verse.body.verses).toEqual([{ osis: 'John.3.16', text: expect.stringMatching(/^For God so loved the world/) }]);
    expect(verse.body.text).toBe(verse.body.verses[0].text);
    const chapter = await t.http.get('/api/scripture/Rom.8').set(ann.auth);
    expect(chapter.body.reference).toBe('Rom.8');
    expect(chapter.body.verses).toHaveLength(39);
    expect(chapter.body.verses[27].osis).toBe('Rom.8.28');
    expect((await t.http.get('/api/scripture/Rom.8.1-Rom.8.39').set(ann.auth)).body.reference).toBe('Rom.8');
    const tooLong = await t.http.get('/api/scripture/Gen').set(ann.auth);
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.code).toBe('SCRIPTURE.PASSAGE_TOO_LONG');
    const unknown = await t.http.get(`/api/scripture/${encodeURIComponent('Hezekiah 1')}`).set(ann.auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('SCRIPTURE.NOT_FOUND');
    expect((await t.http.get('/api/scripture/John.3.99').set(ann.auth)).status).toBe(404);
    expect((await t.http.get(`/api/scripture/${'x'.repeat(300)}`).set(ann.auth)).status).toBe(404);
  });

  it('a note is its owner’s alone: to anyone else every route is 404 and lists leave it out', async () => {
    const created = await create({ title: 'Private', content: 'Ps 51:10 secret', tags: ['secret-tag'] });
    const id = created.body.id;
    const tries = [
      t.http.get(`/api/notes/${id}`).set(eve.auth),
      t.http.put(`/api/notes/${id}`).set(eve.auth).set('If-Match', '"0"').send({ title: 'Mine', content: 'now', dateTime: at }),
      t.http.put(`/api/notes/${id}`).set(eve.auth).set('If-Match', '"5"').send({ title: 'Mine', content: 'now', dateTime: at }),
      t.http.delete(`/api/notes/${id}`).set(eve.auth).set('If-Match', '"0"'),
      t.http.post(`/api/notes/${id}/restore`).set(eve.auth),
      t.http.post(`/api/notes/${id}/scripture`).set(eve.auth).send({ add: ['Gen 1'] }),
      t.http.get(`/api/notes/${id}/versions`).set(eve.auth),
      t.http.post(`/api/notes/${id}/versions`).set(eve.auth).send({ label: 'eve' }),
      t.http.get(`/api/notes/${id}/versions/0`).set(eve.auth),
      t.http.get(`/api/notes/${id}/diff?from=0&to=0`).set(eve.auth),
      t.http.get(`/api/notes/${id}/history`).set(eve.auth),
    ];
    const answers = await Promise.all(tries);
    answers.forEach((res, i) => {
      expect([i, res.status]).toEqual([i, 404]);
      expect(JSON.stringify(res.body)).not.toContain('secret');
    });
    expect((await list('?passage=Ps.51', tokenOf(created), ann)).items.map((n) => n.id)).toContain(id);
    expect((await list('?passage=Ps.51', tokenOf(created), eve)).items).toEqual([]);
    expect((await list('?tag=secret-tag', tokenOf(created), eve)).items).toEqual([]);
    expect((await t.http.get(`/api/notes/${id}`).set(ann.auth)).body).toMatchObject({ title: 'Private', revision: 0 });
    expect((await t.http.get(`/api/notes/${id}/history`).set(ann.auth)).body.items).toHaveLength(1);
  });

  it('notes and their deletes reach the owner’s sync feed (workspaceId null), and nobody else’s', async () => {
    const owner = await signUp(t.http);
    const replica = new SyncReplica(t.http, owner.auth);
    const other = new SyncReplica(t.http, eve.auth);
    await other.drain(100);
    const created = await create({ title: 'Synced', content: 'Mic 6:8', tags: ['justice'] }, owner);
    const kept = await create({ title: 'Kept', content: 'Ps 1' }, owner);
    await waitFor(async () => (await readCheckpoint(t.db.knex, 'sync')) >= tokenOf(kept), 10_000, 'the sync projection');
    await replica.drain(100);
    const synced = replica.entities.get(`note:${created.body.id}`);
    expect(synced).toMatchObject({ entity: 'note', id: created.body.id, workspaceId: null, op: 'upsert', revision: 0 });
    const got = await t.http.get(`/api/notes/${created.body.id}`).set(owner.auth);
    expect(synced!.data).toEqual(got.body);

    const edited = await t.http.put(`/api/notes/${created.body.id}`).set(owner.auth).set('If-Match', '"0"').send({ title: 'Synced', content: 'Mic 6:8 and Amos 5:24', dateTime: at });
    await waitFor(async () => (await readCheckpoint(t.db.knex, 'sync')) >= tokenOf(edited), 10_000, 'the sync projection');
    await replica.drain(100);
    expect(replica.entities.get(`note:${created.body.id}`)!.data).toMatchObject({ scripture: ['Amos.5.24', 'Mic.6.8'], revision: 1 });

    const deleted = await t.http.delete(`/api/notes/${created.body.id}`).set(owner.auth).set('If-Match', '"1"');
    await waitFor(async () => (await readCheckpoint(t.db.knex, 'sync')) >= tokenOf(deleted), 10_000, 'the sync projection');
    const page = await replica.pull(100);
    expect(page.changes).toEqual([{ entity: 'note', id: created.body.id, workspaceId: null, op: 'delete', revision: 2 }]);
    expect(replica.entities.has(`note:${created.body.id}`)).toBe(false);
    expect(replica.entities.has(`note:${kept.body.id}`)).toBe(true);
    expect(replica.revisionsSeen.get(`note:${created.body.id}`)).toEqual([0, 1, 2]);

    // A fresh replica gets the live note and the tombstone, and converges to the same state.
    const fresh = new SyncReplica(t.http, owner.auth);
    await fresh.drain(1);
    expect([...fresh.entities.keys()].sort()).toEqual([...replica.entities.keys()].sort());
    await other.drain(100);
    expect([...other.entities.keys()].filter((key) => key.includes(created.body.id) || key.includes(kept.body.id))).toEqual([]);
  });

  it('a rebuild of the notes projection equals the live tables', async () => {
    const rebuilt = await createTestSchema('notes_rebuild');
    try {
      await rebuildProjection(t.db, rebuilt, notesProjection);
      const counts: Record<string, number> = {};
      for (const [table, order] of [
        ['notes', ['id']],
        ['note_passages', ['note_id', 'osis']],
        ['note_versions', ['note_id', 'revision']],
        ['note_labels', ['note_id', 'label_revision']],
      ] as const) {
        const rows = (knex: typeof t.db.knex) => knex(table).select(knex.raw('to_jsonb(t) - ? AS row', ['search'])).from(knex.raw('?? as t', [table])).orderBy(order.map((c) => `t.${c}`));
        const liveRows = await rows(t.db.knex);
        expect([table, await rows(rebuilt.knex)]).toEqual([table, liveRows]);
        counts[table] = liveRows.length;
      }
      expect(counts.notes).toBeGreaterThan(20);
      expect(counts.note_passages).toBeGreaterThan(10);
      expect(counts.note_labels).toBeGreaterThan(0);
    } finally {
      await rebuilt.drop();
    }
  });
});
