/**
 * The completeness promise of the sync feed: 8 writers create, edit and delete documents across 3
 * workspaces while 3 clients pull small pages as fast as they can. When the writers stop and the
 * clients drain, each replica equals the server's state for its scope, and every document's revisions
 * only ever rose as the client saw them.
 */
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { SyncReplica } from '../support/sync-client';

jest.setTimeout(120_000);

describe('sync convergence under concurrent writers', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('sync_converge');
  });
  afterAll(() => t.close());

  it('given 8 writers and 3 pulling clients, when the writers stop and the clients drain, then every replica equals the server', async () => {
    const [ann, bob, carol] = [await signUp(t.http), await signUp(t.http), await signUp(t.http)] as [SignedUpUser, SignedUpUser, SignedUpUser];
    const users = [ann, bob, carol];
    // ws0: ann+bob, ws1: bob+carol, ws2: carol+ann
    const workspaces: string[] = [];
    for (let i = 0; i < 3; i++) {
      const owner = users[i]!;
      const other = users[(i + 1) % 3]!;
      const id = (await t.http.post('/api/workspaces').set(owner.auth).send({ name: `W${i}` })).body.id;
      await t.http.post(`/api/workspaces/${id}/members`).set(owner.auth).send({ email: other.email }).expect(201);
      workspaces.push(id);
    }
    const membersOf = (w: number) => [users[w]!, users[(w + 1) % 3]!];

    const known: Array<{ id: string; revision: number; workspace: number; deleted: boolean }> = [];
    let stop = false;
    let lastToken = '';
    let writes = 0;
    const writer = async (n: number) => {
      let step = 0;
      while (!stop) {
        step++;
        const w = (n + step) % 3;
        const actor = membersOf(w)[step % 2]!;
        const candidates = known.filter((d) => d.workspace === w && !d.deleted);
        const roll = (n * 7 + step * 13) % 10;
        let res;
        if (candidates.length < 3 || roll < 3) {
          res = await t.http.post(`/api/workspaces/${workspaces[w]}/documents`).set(actor.auth).send({ title: `w${n}-${step}`, content: `body ${n}-${step}` });
          if (res.status === 201) known.push({ id: res.body.id, revision: 0, workspace: w, deleted: false });
        } else {
          const doc = candidates[(n + step) % candidates.length]!;
          if (roll < 9) {
            res = await t.http.put(`/api/documents/${doc.id}`).set(actor.auth).set('If-Match', `"${doc.revision}"`).send({ title: `edit ${n}-${step}`, content: `content ${n}-${step}` });
            if (res.status === 200) doc.revision = res.body.revision;
            else if (res.status === 412) doc.revision = res.body.current.revision;
          } else {
            res = await t.http.delete(`/api/documents/${doc.id}`).set(actor.auth).set('If-Match', `"${doc.revision}"`);
            if (res.status === 204) doc.deleted = true;
            else if (res.status === 412) doc.revision = res.body.current.revision;
          }
        }
        if (![200, 201, 204, 412].includes(res.status)) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
        if (res.headers['x-consistency-token']) lastToken = String(res.headers['x-consistency-token']);
        writes++;
      }
    };
    const replicas = users.map((user) => new SyncReplica(t.http, user.auth));
    const puller = async (replica: SyncReplica, i: number) => {
      let k = 0;
      while (!stop) await replica.pull(5 + ((i * 5 + k++) % 16));
    };

    const running = [...Array.from({ length: 8 }, (_, n) => writer(n)), ...replicas.map(puller)];
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    stop = true;
    await Promise.all(running);

    await t.http.get('/api/me').set(ann.auth).set('X-Consistency-Token', lastToken).expect(200);
    for (const replica of replicas) await replica.drain(7);

    for (const [u, user] of users.entries()) {
      const scope = workspaces.filter((_, w) => membersOf(w).includes(user));
      const server = await t.db.knex('documents').whereIn('workspace_id', scope).andWhere('deleted', false).select('id', 'title', 'content', 'revision', 'workspace_id');
      const expected = new Map(server.map((row) => [row.id, { title: row.title, content: row.content, revision: Number(row.revision), workspaceId: row.workspace_id }]));
      expect([u, replicas[u]!.documents()]).toEqual([u, expected]);
      for (const [key, revisions] of replicas[u]!.revisionsSeen) {
        if (!key.startsWith('document:')) continue;
        for (let i = 1; i < revisions.length; i++) expect([key, revisions[i]! > revisions[i - 1]!]).toEqual([key, true]);
      }
      const workspaceKeys = [...replicas[u]!.entities.keys()].filter((key) => key.startsWith('workspace:')).sort();
      expect(workspaceKeys).toEqual(scope.map((id) => `workspace:${id}`).sort());
    }
    console.info(`sync convergence: ${writes} writes, ${known.length} documents, pulls ${replicas.map((r) => r.pulls).join('/')}`);
    expect(writes).toBeGreaterThan(100);
  });
});
