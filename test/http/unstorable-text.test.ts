/**
 * Text no store can keep (NUL characters, unpaired surrogates) is refused with a 400 problem on every
 * route, in bodies and in query strings, instead of failing in PostgreSQL as a 500.
 */
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

let t: TestService;
let ann: SignedUpUser;
let workspaceId: string;

beforeAll(async () => {
  t = await startTestService('unstorable_text');
  ann = await signUp(t.http);
  workspaceId = (await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Ann' }).expect(201)).body.id;
});
afterAll(async () => {
  await t.close();
});

const note = (title: string, content = 'see John 3:16') => ({ title, content, dateTime: '2026-11-22T08:00:00Z' });

describe('unstorable text', () => {
  it.each([
    ['a NUL in a title', () => t.http.post('/api/notes').set(ann.auth).send(note('a\u0000b'))],
    ['a lone high surrogate in content', () => t.http.post('/api/notes').set(ann.auth).send(note('ok', 'x\ud800y'))],
    ['a lone low surrogate in a tag', () => t.http.post('/api/notes').set(ann.auth).send({ ...note('ok'), tags: ['\udc00'] })],
    ['a NUL in a document', () => t.http.post(`/api/workspaces/${workspaceId}/documents`).set(ann.auth).send({ title: 't', content: '\u0000' })],
    ['a NUL in a query filter', () => t.http.get('/api/notes?tag=%00').set(ann.auth)],
    ['a NUL in a search', () => t.http.get(`/api/workspaces/${workspaceId}/documents?query=a%00b`).set(ann.auth)],
  ])('given %s, then 400 REQUEST.INVALID names the field', async (_case, send) => {
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('REQUEST.INVALID');
  });

  it('given a proper surrogate pair (an emoji) and other control characters, then the note is kept as written', async () => {
    const res = await t.http.post('/api/notes').set(ann.auth).send(note('Praise \ud83d\ude4f\ttabs', 'line\nbreak'));
    expect(res.status).toBe(201);
    expect(res.body.title).toBe('Praise 🙏\ttabs');
  });
});
