/**
 * The authorization matrix, driven by the service's own route tables: every route must have an entry
 * here (a new route without one fails this test). An outsider sends each route the victim's ids in
 * every placement (path, query, body); the victim's resources must stay invisible (404 where the id
 * is in the path, never a trace of their data anywhere) and untouched (no event in their streams).
 */
import { randomUUID } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent';
import type { RouteSpec } from '../../infra/http/routes';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { startTestS3, type TestS3 } from '../support/s3-server';

type Placement = 'path' | 'query' | 'body';
interface Ids {
  workspaceId: string;
  documentId: string;
  userId: string;
  /** Circles and sharing: a circle the victim owns, a pending invite to it, a public link to their document. */
  circleId: string;
  inviteId: string;
  inviteToken: string;
  linkId: string;
  /** Scribes: a note and a prayer point (linking it) of the victim's. */
  noteId: string;
  prayerPointId: string;
  /** Reminders: an active reminder on that note, and a notification from one that fired. */
  reminderId: string;
  notificationId: string;
  /** Storage: an attachment on the document (and its object key), and an export. */
  attachmentId: string;
  attachmentKey: string;
  exportId: string;
}
interface Entry {
  /** Why the route takes no resource id of anyone else's (public or caller-only routes). */
  readonly noTargetIds?: string;
  /** A valid body for the route, so that a refusal is not just a validation error. */
  readonly body?: (ids: Ids) => Record<string, unknown>;
  /** Valid bodies that name the victim's ids inside their own fields (e.g. a list of context ids): each must be 404. */
  readonly victimBodies?: (victim: Ids, own: Ids) => Record<string, unknown>[];
}

const MATRIX: Record<string, Entry> = {
  'post /api/auth/signup': { noTargetIds: 'public: creates a new account, addresses nobody else' },
  'post /api/auth/login': { noTargetIds: 'public: credentials only' },
  'post /api/auth/refresh': { noTargetIds: 'public: the token is the credential' },
  'post /api/auth/logout': { noTargetIds: 'public: the token is the credential' },
  'get /.well-known/jwks.json': { noTargetIds: 'public keys, no user data' },
  'get /api/me': {},
  'patch /api/me': { body: () => ({ displayName: 'Eve' }) },
  'post /api/me/password': { body: () => ({ currentPassword: 'wrong guess here', newPassword: 'eve new passphrase' }) },
  'get /api/workspaces': {},
  'post /api/workspaces': { body: () => ({ name: 'Eve space' }) },
  'get /api/workspaces/:id': {},
  'patch /api/workspaces/:id': { body: () => ({ name: 'Taken over', aiProxy: true }) },
  'delete /api/workspaces/:id': {},
  'get /api/workspaces/:id/members': {},
  'post /api/workspaces/:id/members': { body: () => ({ email: 'eve-friend@example.com', role: 'owner' }) },
  'patch /api/workspaces/:id/members/:userId': { body: () => ({ role: 'owner' }) },
  'delete /api/workspaces/:id/members/:userId': {},
  'get /api/workspaces/:wid/documents': {},
  'post /api/workspaces/:wid/documents': { body: () => ({ title: 'Planted', content: 'by eve' }) },
  'get /api/documents/:id': {},
  'put /api/documents/:id': { body: () => ({ title: 'Overwritten', content: 'by eve' }) },
  'delete /api/documents/:id': {},
  'post /api/documents/:id/restore': {},
  'get /api/documents/:id/versions': {},
  'post /api/documents/:id/versions': { body: () => ({ label: 'eve was here' }) },
  'get /api/documents/:id/versions/:revision': {},
  'get /api/documents/:id/diff': {},
  'get /api/documents/:id/history': {},
  'get /api/sync/since': {},
  'post /api/uploads/presign': {
    body: (ids) => ({ documentId: ids.documentId, fileName: 'eve.txt', contentType: 'text/plain', size: 10 }),
    victimBodies: (victim) => [
      { documentId: victim.documentId, fileName: 'eve.txt', contentType: 'text/plain', size: 10 },
      { noteId: victim.noteId, fileName: 'eve.txt', contentType: 'text/plain', size: 10 },
    ],
  },
  // A key under someone else's prefix is refused with 403 ATTACHMENT.KEY_NOT_YOURS (test/storage/attachments.test.ts).
  'post /api/attachments': { body: (ids) => ({ key: ids.attachmentKey }) },
  'delete /api/attachments/:id': {},
  'get /api/attachments/:id/download': {},
  'get /api/documents/:id/attachments': {},
  'get /api/notes/:id/attachments': {},
  'post /api/exports': {
    body: (ids) => ({ format: 'markdown', scope: { workspaceId: ids.workspaceId } }),
    victimBodies: (victim) => [
      { format: 'markdown', scope: { workspaceId: victim.workspaceId } },
      { format: 'pdf', scope: { noteIds: [victim.noteId] } },
    ],
  },
  'get /api/exports/:id': {},
  'get /api/circles': {},
  'post /api/circles': { body: () => ({ name: 'Eve circle' }) },
  'get /api/circles/:id': {},
  'patch /api/circles/:id': { body: () => ({ name: 'Taken over', openInvites: true }) },
  'delete /api/circles/:id': {},
  'get /api/circles/:id/members': {},
  'delete /api/circles/:id/members/:userId': {},
  'get /api/circles/:id/invites': {},
  'post /api/circles/:id/invites': { body: () => ({ email: 'eve-friend@example.com' }) },
  'delete /api/circles/:id/invites/:inviteId': {},
  // The victim's invite is for someone else's address: its token must not let the outsider in.
  'post /api/invites/:token/accept': {},
  'delete /api/invites/:token': {},
  'get /api/public/:token': { noTargetIds: 'public: the token is the credential, and serves one read-only item' },
  'post /api/documents/:id/links': { body: () => ({}) },
  'get /api/documents/:id/links': {},
  'delete /api/documents/:id/links/:linkId': {},
  'post /api/notes/:id/links': { body: () => ({}) },
  'get /api/notes/:id/links': {},
  'delete /api/notes/:id/links/:linkId': {},
  // Sharing: the outsider's own item into the victim's circle must be refused too (victimBodies).
  'post /api/notes/:id/shares': { body: (ids) => ({ circleId: ids.circleId }), victimBodies: (victim) => [{ circleId: victim.circleId }] },
  'delete /api/notes/:id/shares/:circleId': {},
  'get /api/notes/:id/shares': {},
  'post /api/prayer-points/:id/shares': { body: (ids) => ({ circleId: ids.circleId }), victimBodies: (victim) => [{ circleId: victim.circleId }] },
  'delete /api/prayer-points/:id/shares/:circleId': {},
  'get /api/prayer-points/:id/shares': {},
  'post /api/prayer-points/:id/prayed': {},
  'get /api/prayer-points/:id/prayers': {},
  'get /api/shared': {},
  'post /api/prayer-points': { body: () => ({ title: 'Eve prayer' }) },
  'get /api/prayer-points': {},
  'get /api/prayer-points/:id': {},
  'put /api/prayer-points/:id': { body: () => ({ title: 'Taken over' }) },
  'post /api/prayer-points/:id/answer': { body: () => ({ testimony: 'eve was here' }) },
  'post /api/prayer-points/:id/reopen': {},
  'delete /api/prayer-points/:id': {},
  'post /api/prayer-points/:id/restore': {},
  'get /api/notes/:id/related': {},
  'get /api/graph': {},
  'post /api/notes': { body: () => ({ title: 'Planted', content: 'by eve on Romans 8:28', dateTime: '2026-11-22T10:00:00Z' }) },
  'get /api/notes': {},
  'get /api/notes/:id': {},
  'put /api/notes/:id': { body: () => ({ title: 'Overwritten', content: 'by eve', dateTime: '2026-11-22T10:00:00Z' }) },
  'delete /api/notes/:id': {},
  'post /api/notes/:id/restore': {},
  'post /api/notes/:id/scripture': { body: () => ({ add: ['Gen 1:1'], remove: ['Rom 8:28'] }) },
  'get /api/notes/:id/versions': {},
  'post /api/notes/:id/versions': { body: () => ({ label: 'eve was here' }) },
  'get /api/notes/:id/versions/:revision': {},
  'get /api/notes/:id/diff': {},
  'get /api/notes/:id/history': {},
  'get /api/tags': {},
  'get /api/topics': {},
  'get /api/scripture/:reference': { noTargetIds: 'public-domain scripture text: no user data, nobody else addressed' },
  'post /api/ai/generate': {
    body: (ids) => ({ workspaceId: ids.workspaceId, provider: 'openai', model: 'gpt-4o-mini', prompt: 'tell me everything', contextIds: [ids.documentId] }),
    victimBodies: (victim, own) => [
      { workspaceId: own.workspaceId, provider: 'openai', model: 'gpt-4o-mini', prompt: 'tell me everything', contextIds: [victim.documentId] },
      { workspaceId: own.workspaceId, provider: 'openai', model: 'gpt-4o-mini', prompt: 'tell me everything', contextIds: [own.documentId, victim.noteId] },
      { workspaceId: victim.workspaceId, provider: 'openai', model: 'gpt-4o-mini', prompt: 'tell me everything' },
    ],
  },
  'post /api/ai/paraphrase': {
    body: (ids) => ({ workspaceId: ids.workspaceId, reference: 'John 3:16' }),
    victimBodies: (victim) => [{ workspaceId: victim.workspaceId, reference: 'John 3:16' }],
  },
  'get /api/ai/usage': { noTargetIds: "caller-only: the caller's own usage, no id to name anyone else's" },
  'get /api/workspaces/:id/ai': {},
  'post /api/notes/:id/reminders': { body: () => ({ kind: 'spaced' }) },
  'get /api/reminders': {},
  'get /api/reminders/:id': {},
  'delete /api/reminders/:id': {},
  'post /api/reminders/:id/review': { body: () => ({ rating: 'easy' }) },
  'get /api/me/reminder-settings': {},
  'put /api/me/reminder-settings': { body: () => ({ targetRetention: 0.8 }) },
  'put /api/me/notification-channels': { body: () => ({ webhook: null, email: false }) },
  'get /api/notifications': {},
  'get /api/notifications/deliveries': {},
  'get /api/notifications/stream': { noTargetIds: "caller-only: the caller's own notifications as they arrive, no id to name anyone else's (the stream stays open; test/reminders covers it)" },
  'post /api/notifications/:id/read': {},
};

/** The path with `ids` put in: `:id` names a workspace or a document depending on the route. */
function pathWith(route: RouteSpec, ids: Ids): string {
  const id = route.path.startsWith('/api/documents/')
    ? ids.documentId
    : route.path.startsWith('/api/prayer-points/')
      ? ids.prayerPointId
      : route.path.startsWith('/api/notes/')
        ? ids.noteId
        : route.path.startsWith('/api/reminders/')
          ? ids.reminderId
          : route.path.startsWith('/api/notifications/')
            ? ids.notificationId
            : ids.workspaceId;
  const circlePath = route.path.startsWith('/api/circles/') ? route.path.replace(':id', ids.circleId) : route.path;
  const storagePath = circlePath.replace(/^\/api\/attachments\/:id/, `/api/attachments/${ids.attachmentId}`).replace(/^\/api\/exports\/:id/, `/api/exports/${ids.exportId}`);
  return storagePath
    .replace(':wid', ids.workspaceId)
    .replace(':id', id)
    .replace(':userId', ids.userId)
    .replace(':revision', '0')
    .replace(':inviteId', ids.inviteId)
    .replace(':token', ids.inviteToken)
    .replace(':linkId', ids.linkId)
    .replace(':circleId', ids.circleId);
}

/** Query parameters a route needs to be valid at all (so a refusal is about access, not shape). */
function requiredQuery(route: RouteSpec): Record<string, string> {
  if (route.path === '/api/graph') return { passage: 'Romans 8' };
  return route.path.endsWith('/diff') ? { from: '0', to: '0' } : {};
}

describe('authorization matrix', () => {
  let t: TestService;
  let ann: SignedUpUser; // the victim
  let eve: SignedUpUser; // the outsider
  const canary = `CANARY-${randomUUID()}`;
  let victim: Ids;
  let own: Ids;
  let routes: RouteSpec[];
  let s3: TestS3;

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestService('authz', { env: s3.env });
    ann = await signUp(t.http, { displayName: `${canary}-ann` });
    const bob = await signUp(t.http, { displayName: `${canary}-bob` });
    eve = await signUp(t.http, { displayName: 'Eve' });
    await signUp(t.http, { email: 'eve-friend@example.com' });
    const ws = await t.http.post('/api/workspaces').set(ann.auth).send({ name: `${canary}-workspace` });
    await t.http.post(`/api/workspaces/${ws.body.id}/members`).set(ann.auth).send({ email: bob.email }).expect(201);
    const doc = await t.http.post(`/api/workspaces/${ws.body.id}/documents`).set(ann.auth).send({ title: `${canary}-title`, content: `${canary}-content` });
    const victimCircle = await circleIds(ann, doc.body.id, bob);
    const victimScribes = await scribesIds(ann, `${canary}-note`);
    victim = { workspaceId: ws.body.id, documentId: doc.body.id, userId: bob.id, ...victimCircle, ...victimScribes, ...(await reminderIds(ann, victimScribes.noteId)), ...(await storageIds(ann, doc.body.id, `${canary}-file.txt`)) };
    const mine = await t.http.post('/api/workspaces').set(eve.auth).send({ name: 'Eve own' });
    const myDoc = await t.http.post(`/api/workspaces/${mine.body.id}/documents`).set(eve.auth).send({ title: 'Eve doc', content: 'mine' });
    const ownScribes = await scribesIds(eve, 'Eve note');
    own = { workspaceId: mine.body.id, documentId: myDoc.body.id, userId: eve.id, ...(await circleIds(eve, myDoc.body.id)), ...ownScribes, ...(await reminderIds(eve, ownScribes.noteId)), ...(await storageIds(eve, myDoc.body.id, 'eve.txt')) };
    await shareWithCircle(ann, victim, bob);
    routes = [...t.service.queryRoutes, ...t.service.commandRoutes];
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  /** An attachment uploaded (presigned PUT) to the document and completed, and an export of the owner's notes. */
  async function storageIds(owner: SignedUpUser, documentId: string, fileName: string) {
    const body = Buffer.from(`${canary}-bytes`);
    const signed = await t.http.post('/api/uploads/presign').set(owner.auth).send({ documentId, fileName, contentType: 'text/plain', size: body.length }).expect(200);
    const uploaded = await fetch(signed.body.put.url, { method: 'PUT', headers: signed.body.put.headers, body });
    if (uploaded.status !== 200) throw new Error(`upload failed: ${uploaded.status}`);
    await t.http.post('/api/attachments').set(owner.auth).send({ key: signed.body.key }).expect(201);
    const exported = await t.http.post('/api/exports').set(owner.auth).send({ format: 'markdown', scope: { all: true } }).expect(202);
    // Built before the matrix runs, so that the builder's own events do not count as the outsider's doing.
    const deadline = Date.now() + 20_000;
    while ((await t.db.knex('exports').where({ id: exported.body.id }).first<{ status: string } | undefined>('status'))?.status !== 'ready') {
      if (Date.now() > deadline) throw new Error('the export was never built');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { attachmentId: signed.body.attachmentId as string, attachmentKey: signed.body.key as string, exportId: exported.body.id as string };
  }

  /** The victim's note and prayer point shared with their circle (the member prays), and a public link to the note. */
  async function shareWithCircle(owner: SignedUpUser, ids: Ids, member: SignedUpUser) {
    await t.http.post(`/api/notes/${ids.noteId}/shares`).set(owner.auth).send({ circleId: ids.circleId }).expect(201);
    await t.http.post(`/api/prayer-points/${ids.prayerPointId}/shares`).set(owner.auth).send({ circleId: ids.circleId }).expect(201);
    await t.http.post(`/api/prayer-points/${ids.prayerPointId}/prayed`).set(member.auth).expect(201);
    victimNoteLinkId = (await t.http.post(`/api/notes/${ids.noteId}/links`).set(owner.auth).send({}).expect(201)).body.id;
  }
  let victimNoteLinkId = '';

  /** A circle `owner` owns (with `member` in it), a pending invite for another address, a link to `documentId`. */
  async function circleIds(owner: SignedUpUser, documentId: string, member?: SignedUpUser) {
    const circle = await t.http.post('/api/circles').set(owner.auth).send({ name: member ? `${canary}-circle` : 'Eve circle' }).expect(201);
    if (member) {
      const joining = await t.http.post(`/api/circles/${circle.body.id}/invites`).set(owner.auth).send({ email: member.email }).expect(201);
      await t.http.post(`/api/invites/${joining.body.token}/accept`).set(member.auth).expect(200);
    }
    const pending = await t.http.post(`/api/circles/${circle.body.id}/invites`).set(owner.auth).send({ email: `pending-${owner.id}@example.com` }).expect(201);
    const link = await t.http.post(`/api/documents/${documentId}/links`).set(owner.auth).send({}).expect(201);
    return { circleId: circle.body.id as string, inviteId: pending.body.id as string, inviteToken: pending.body.token as string, linkId: link.body.id as string };
  }

  /** A note citing Romans 8:28 (so the outsider's graph and related notes would meet it) and a prayer point linking it. */
  async function scribesIds(owner: SignedUpUser, title: string) {
    const note = await t.http.post('/api/notes').set(owner.auth).send({ title: `${title} on Romans 8:28`, content: `${title} content`, dateTime: '2026-11-20T08:00:00Z' }).expect(201);
    const point = await t.http.post('/api/prayer-points').set(owner.auth).send({ title: `${title} prayer`, noteIds: [note.body.id], passages: ['Rom 8:28'] }).expect(201);
    return { noteId: note.body.id as string, prayerPointId: point.body.id as string };
  }

  /** A spaced reminder on the note, and the notification of a once reminder that the dispatcher fired (its title is the note's). */
  async function reminderIds(owner: SignedUpUser, noteId: string) {
    const fired = await t.http.post(`/api/notes/${noteId}/reminders`).set(owner.auth).send({ kind: 'once', at: new Date(Date.now() - 60_000).toISOString() }).expect(201);
    const spaced = await t.http.post(`/api/notes/${noteId}/reminders`).set(owner.auth).send({ kind: 'spaced' }).expect(201);
    let notificationId: string | undefined;
    const deadline = Date.now() + 20_000;
    while (!notificationId && Date.now() < deadline) {
      notificationId = (await t.db.knex('notifications').where({ reminder_id: fired.body.id }).first<{ id: string } | undefined>('id'))?.id;
      if (!notificationId) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!notificationId) throw new Error('the due reminder never fired');
    return { reminderId: spaced.body.id as string, notificationId };
  }

  const keyOf = (route: RouteSpec) => `${route.method} ${route.path}`;

  it('has an entry for every route of both APIs, and no stale entries', () => {
    const keys = routes.map(keyOf).sort();
    expect(keys).toEqual(Object.keys(MATRIX).sort());
  });

  async function victimStreams(): Promise<unknown> {
    return t.db
      .knex('streams')
      .whereIn('stream_id', [
        `workspace-${victim.workspaceId}`,
        `document-${victim.documentId}`,
        `document_labels-${victim.documentId}`,
        `circle-${victim.circleId}`,
        `public_link-${victim.linkId}`,
        `public_link-${victimNoteLinkId}`,
        `shares-note-${victim.noteId}`,
        `shares-prayerPoint-${victim.prayerPointId}`,
        `note-${victim.noteId}`,
        `note_labels-${victim.noteId}`,
        `prayer_point-${victim.prayerPointId}`,
        `user-${ann.id}`,
        `storage-${ann.id}`,
        `export-${victim.exportId}`,
        `user-${victim.userId}`,
        `workspace_ai-${victim.workspaceId}`,
        `reminder-${victim.reminderId}`,
        `notification-${victim.notificationId}`,
        `reminder_settings-${ann.id}`,
      ])
      .orderBy('stream_id');
  }

  function send(http: TestAgent, route: RouteSpec, pathIds: Ids, query: Record<string, string>, body: Record<string, unknown> | undefined) {
    const req = http[route.method](pathWith(route, pathIds))
      .set(eve.auth)
      .set('If-Match', '*')
      .query({ ...requiredQuery(route), ...query });
    return route.method === 'get' || route.method === 'delete' ? req : req.send(body ?? {});
  }

  it('refuses the outsider everywhere and leaves the victim untouched', async () => {
    let cases = 0;
    for (const route of routes) {
      const entry = MATRIX[keyOf(route)]!;
      if (entry.noTargetIds) continue;
      const hasPathIds = route.path.includes(':');
      const placements: Placement[] = hasPathIds ? ['path', 'query', 'body'] : ['query', 'body'];
      for (const placement of placements) {
        const before = await victimStreams();
        const victimQuery = { id: victim.documentId, workspaceId: victim.workspaceId, documentId: victim.documentId, userId: victim.userId };
        const res =
          placement === 'path'
            ? await send(t.http, route, victim, {}, entry.body?.(victim))
            : placement === 'query'
              ? await send(t.http, route, own, victimQuery, entry.body?.(own))
              : await send(t.http, route, own, {}, { ...entry.body?.(own), id: victim.documentId, workspaceId: victim.workspaceId, documentId: victim.documentId, userId: victim.userId });
        const label = `${keyOf(route)} [${placement}]`;
        if (placement === 'path') expect([label, res.status]).toEqual([label, 404]);
        expect([label, res.status < 500]).toEqual([label, true]);
        expect([label, JSON.stringify(res.body ?? '') + JSON.stringify(res.headers)]).not.toEqual([label, expect.stringContaining(canary)]);
        expect([label, await victimStreams()]).toEqual([label, before]);
        cases++;
      }
      for (const body of entry.victimBodies?.(victim, own) ?? []) {
        const before = await victimStreams();
        const res = await send(t.http, route, own, {}, body);
        const label = `${keyOf(route)} [ids inside the body: ${JSON.stringify(body)}]`;
        expect([label, res.status]).toEqual([label, 404]);
        expect([label, JSON.stringify(res.body ?? '') + JSON.stringify(res.headers)]).not.toEqual([label, expect.stringContaining(canary)]);
        expect([label, await victimStreams()]).toEqual([label, before]);
        cases++;
      }
    }
    console.info(`authorization matrix: ${routes.length} routes, ${cases} outsider cases`);
    expect(cases).toBeGreaterThanOrEqual(60);
  });

  it('the victim still sees their workspace intact', async () => {
    const res = await t.http.get(`/api/workspaces/${victim.workspaceId}`).set(ann.auth);
    expect(res.status).toBe(200);
    expect(res.body.name).toBe(`${canary}-workspace`);
    const doc = await t.http.get(`/api/documents/${victim.documentId}`).set(ann.auth);
    expect(doc.body).toMatchObject({ title: `${canary}-title`, content: `${canary}-content`, revision: 0 });
  });
});
