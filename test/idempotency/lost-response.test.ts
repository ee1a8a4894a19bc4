/**
 * Why Idempotency-Key exists, end to end over HTTP against the whole service: an offline client's
 * write succeeds but its answer is lost on the network, and the client, back online, sends exactly the
 * same request again. With the key the retry gets the first answer back; without it, an edit's old
 * If-Match would be answered 412 against the client's own write, and the client would show a merge
 * dialog for a conflict with itself.
 */
import { randomUUID } from 'node:crypto';
import { documentStreamId } from '../../domain/documents/document';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

describe('a lost answer retried with its Idempotency-Key', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  let workspaceId: string;

  beforeAll(async () => {
    t = await startTestService('idempotency-lost');
    ann = await signUp(t.http);
    bob = await signUp(t.http);
    workspaceId = (await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Offline' })).body.id;
  });
  afterAll(() => t.close());

  const createDocument = async (content: string) => {
    const res = await t.http.post(`/api/workspaces/${workspaceId}/documents`).set(ann.auth).send({ title: 'Sermon notes', content });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  const eventTypes = async (documentId: string) => (await t.service.platform.store.readStream(documentStreamId(documentId))).map((event) => event.type);

  it('an edit whose 200 was lost, retried with its old If-Match and the same key, gets the 200 again, not a 412 against its own write', async () => {
    // given a document at revision 0, and an edit of it that succeeded but whose answer never arrived
    const doc = await createDocument('first draft');
    const key = randomUUID();
    const edit = () =>
      t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').set('Idempotency-Key', key).send({ title: 'Sermon notes', content: 'second draft' });
    const lost = await edit();
    expect(lost.status).toBe(200);
    expect(lost.headers.etag).toBe('"1"');

    // when the client retries it exactly as it sent it
    const retry = await edit();

    // then it gets the lost answer: same status, document, ETag and consistency token, marked replayed
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(lost.text);
    expect(retry.body).toMatchObject({ id: doc.id, content: 'second draft', revision: 1 });
    expect(retry.headers.etag).toBe('"1"');
    expect(retry.headers['x-consistency-token']).toBe(lost.headers['x-consistency-token']);
    expect(retry.headers['content-type']).toBe(lost.headers['content-type']);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    // and the edit happened once
    expect(await eventTypes(doc.id)).toEqual(['DocumentCreated', 'DocumentEdited']);

    // and the same retry without the key is the 412 the key spares the client
    const unkeyed = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Sermon notes', content: 'second draft' });
    expect(unkeyed.status).toBe(412);
    expect(unkeyed.body.code).toBe('DOCUMENT.REVISION_CONFLICT');
  });

  it('the key of that edit sent with other content is 422 IDEMPOTENCY.KEY_REUSED, and changes nothing', async () => {
    // given an edit made with a key
    const doc = await createDocument('draft');
    const key = randomUUID();
    const first = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').set('Idempotency-Key', key).send({ title: 'Sermon notes', content: 'edited' });
    expect(first.status).toBe(200);

    // when the key comes back with other content
    const reused = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"1"').set('Idempotency-Key', key).send({ title: 'Sermon notes', content: 'edited again' });

    // then it is refused, and the document did not move
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
    expect(await eventTypes(doc.id)).toEqual(['DocumentCreated', 'DocumentEdited']);
  });

  it('a delete whose 204 was lost replays the 204', async () => {
    // given a delete that succeeded but whose answer never arrived
    const doc = await createDocument('to be deleted');
    const key = randomUUID();
    const remove = () => t.http.delete(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').set('Idempotency-Key', key);
    const lost = await remove();
    expect(lost.status).toBe(204);

    // when it is retried
    const retry = await remove();

    // then the 204 comes back, and the document was deleted once
    expect(retry.status).toBe(204);
    expect(retry.headers['x-consistency-token']).toBe(lost.headers['x-consistency-token']);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await eventTypes(doc.id)).toEqual(['DocumentCreated', 'DocumentDeleted']);
  });

  it("another user's request with the same key is their own", async () => {
    // given ann used a key to create a workspace
    const key = `workspace-${randomUUID()}`;
    const anns = await t.http.post('/api/workspaces').set(ann.auth).set('Idempotency-Key', key).send({ name: "Ann's" });
    expect(anns.status).toBe(201);

    // when bob uses the same key for his own workspace
    const bobs = await t.http.post('/api/workspaces').set(bob.auth).set('Idempotency-Key', key).send({ name: "Bob's" });

    // then his request runs (it is neither ann's answer nor a reused key)
    expect(bobs.status).toBe(201);
    expect(bobs.body).toMatchObject({ name: "Bob's", role: 'owner' });
    expect(bobs.body.id).not.toBe(anns.body.id);
    expect(bobs.headers['idempotent-replayed']).toBeUndefined();
  });
});
