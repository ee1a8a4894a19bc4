/**
 * Several thousand requests generated from the routes' own zod schemas (schema-arbitraries.ts): valid
 * ones and mutated ones (wrong types, missing and extra fields, huge strings, deep nesting, prototype
 * keys, invalid UTF-8, broken JSON, wrong content types), with path ids that are the victim's, the
 * attacker's, random or garbage, and hostile conditional and idempotency headers. Whatever arrives:
 * never a 5xx, never a stack trace, errors are problem+json, Object.prototype stays clean, the
 * service keeps answering, and the victim's data (as they see it, and their streams in the log) does
 * not change.
 */
import fc from 'fast-check';
import { documentStreamId } from '../../domain/documents/document';
import { userStreamId } from '../../domain/users/user';
import { workspaceStreamId } from '../../domain/workspaces/workspace';
import type { RouteSpec } from '../../infra/http/routes';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { jsonSchemaOf, wireBody, wireQuery, type JsonSchema } from './schema-arbitraries';

jest.setTimeout(600_000);

const RUNS = Number(process.env.HOSTILE_RUNS ?? 3_000);

interface Party {
  readonly user: SignedUpUser;
  readonly workspaceId: string;
  readonly documentId: string;
  /** Where the party's last setup write landed: reads name it, so they see all of the setup. */
  readonly position: string;
}

async function party(t: TestService, name: string): Promise<Party> {
  const user = await signUp(t.http, { displayName: name });
  const workspace = await t.http.post('/api/workspaces').set(user.auth).send({ name: `${name}'s` }).expect(201);
  const document = await t.http
    .post(`/api/workspaces/${workspace.body.id}/documents`)
    .set(user.auth)
    .send({ title: `${name}'s notes`, content: `private to ${name}` })
    .expect(201);
  return { user, workspaceId: workspace.body.id, documentId: document.body.id, position: String(document.headers['x-consistency-token']) };
}

/** What the victim sees of their own data, and the revisions of their streams in the log. */
async function snapshot(t: TestService, victim: Party): Promise<unknown> {
  const read = async (path: string) => {
    const res = await t.http.get(path).set(victim.user.auth).set('X-Consistency-Token', victim.position);
    // A sync cursor names the log position read up to, which others' writes move: only the changes count.
    const { cursor: _cursor, ...body } = res.body as Record<string, unknown>;
    return { path, status: res.status, body };
  };
  const views = await Promise.all(
    [
      '/api/me',
      '/api/workspaces',
      `/api/workspaces/${victim.workspaceId}`,
      `/api/workspaces/${victim.workspaceId}/members`,
      `/api/workspaces/${victim.workspaceId}/documents?includeDeleted=true`,
      `/api/documents/${victim.documentId}`,
      `/api/documents/${victim.documentId}/versions`,
      '/api/sync/since?limit=1000',
    ].map(read),
  );
  const store = t.service.platform.store;
  const streams = await Promise.all(
    [userStreamId(victim.user.id), workspaceStreamId(victim.workspaceId), documentStreamId(victim.documentId)].map(async (stream) => [stream, (await store.readStream(stream)).length]),
  );
  return { views, streams };
}

describe('requests generated from the route schemas, valid and mutated', () => {
  let t: TestService;
  let attacker: Party;
  let victim: Party;
  let routes: RouteSpec[];

  beforeAll(async () => {
    // A 1 MB body limit: the huge-string mutation (1.2 MB) crosses it without megabytes of traffic per request.
    t = await startTestService('hostile_schemas', { env: { JSON_BODY_LIMIT_BYTES: '1000000', DOCUMENT_MAX_CONTENT_BYTES: '400000' } });
    attacker = await party(t, 'Mallory');
    victim = await party(t, 'Victor');
    routes = [...t.service.queryRoutes, ...t.service.commandRoutes];
  });
  afterAll(() => t?.close());

  it('never answers 5xx, never leaks, never pollutes prototypes, never touches another user', async () => {
    const before = await snapshot(t, victim);
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

    const idFor = (param: string): fc.Arbitrary<string> => {
      const known = param === 'userId' ? [victim.user.id, attacker.user.id] : [victim.workspaceId, victim.documentId, attacker.workspaceId, attacker.documentId, victim.user.id];
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...known) },
        { weight: 1, arbitrary: fc.uuid() },
        { weight: 1, arbitrary: fc.constantFrom('0', '1', '-1', '..', '%00', '%2e%2e%2f', 'null', 'John 3:16', '9'.repeat(40), 'a'.repeat(300), '%F0%9F%98%80', '%ff') },
      );
    };
    const schemas = new Map(routes.map((route) => [route, { body: route.body ? jsonSchemaOf(route.body) : undefined, query: route.query ? jsonSchemaOf(route.query) : undefined }]));

    const request = fc.integer({ min: 0, max: routes.length - 1 }).chain((index) => {
      const route = routes[index]!;
      const { body, query } = schemas.get(route)! as { body: JsonSchema | undefined; query: JsonSchema | undefined };
      const params = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]!);
      return fc.record({
        route: fc.constant(route),
        ids: fc.tuple(...params.map(idFor)) as fc.Arbitrary<string[]>,
        body: route.method === 'get' ? fc.constant(undefined) : wireBody(body),
        query: wireQuery(query),
        auth: fc.oneof({ weight: 8, arbitrary: fc.constant('attacker') }, { weight: 1, arbitrary: fc.constantFrom('none', 'garbage') }),
        // Each header on about one request in eight, so that most requests get past them to the handler.
        headers: fc.record({
          'If-Match': rarely(fc.constantFrom('"0"', '"1"', '*', '"-1"', '"99999999999999999999"', 'W/"0"', '"abc"', '0', '""')),
          'If-None-Match': rarely(fc.constantFrom('"0"', '*', 'garbage')),
          'Idempotency-Key': rarely(fc.oneof(fc.uuid(), fc.constantFrom('', 'k'.repeat(300), 'cl\u00e9', 'same-key'))),
          'X-Consistency-Token': rarely(fc.constantFrom('00000000000000000001.00000000000000000001', '99999999999999999999.99999999999999999999', 'garbage', '-1')),
          'X-Request-Id': rarely(fc.constantFrom('ok-id', 'bad id with spaces', 'x'.repeat(500))),
        }),
      });
    });

    const mutations = new Map<string, number>();
    const timing = new Map<string, number>();
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ route, ids, body, query, auth, headers }) => {
        let i = 0;
        // Ids starting with % are deliberate (broken) encodings and go as they are.
        const path = route.path.replace(/:[A-Za-z]+/g, () => (ids[i]!.startsWith('%') ? ids[i++]! : encodeURIComponent(ids[i++]!)));
        // Long polls answer at once: a `wait` beyond 0 (or a long default) would only make the run slow.
        const waits = route.query !== undefined && 'wait' in (schemas.get(route)!.query?.properties ?? {});
        const bounded = query.query.replace(/(^|&)wait=\d+/g, '$1wait=0');
        const queryString = waits && !/(^|&)wait=/.test(bounded) ? [bounded, 'wait=0'].filter(Boolean).join('&') : bounded;
        const url = queryString ? `${path}?${queryString}` : path;
        let req = t.http[route.method](url).timeout(30_000);
        if (auth === 'attacker') req = req.set(attacker.user.auth);
        if (auth === 'garbage') req = req.set('Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');
        for (const [name, value] of Object.entries(headers)) if (value !== null) req = req.set(name, value);
        if (body?.contentType) req = req.set('Content-Type', body.contentType);
        const began = Date.now();
        const res = body?.bytes ? await req.send(body.bytes) : await req;
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (process.env.HOSTILE_TIMING) {
          const key = `${route.method} ${route.path} | ${body?.mutation.split(' (')[0] ?? '-'}`;
          timing.set(key, (timing.get(key) ?? 0) + Date.now() - began);
        }
        const label = `${route.method.toUpperCase()} ${url.slice(0, 200)} [${body?.mutation ?? '-'} / ${query.mutation}]`;
        for (const mutation of [`body: ${body?.mutation ?? 'none'}`, `query: ${query.mutation}`]) mutations.set(mutation, (mutations.get(mutation) ?? 0) + 1);
        const text = res.text ?? '';
        if (res.status >= 500) throw new Error(`${label} -> ${res.status}: ${text.slice(0, 300)}`);
        if (/\bat .+\.(ts|js):\d+/.test(text) || /node_modules/.test(text)) throw new Error(`${label} leaked a stack trace: ${text.slice(0, 300)}`);
        if (res.status >= 400 && !/json/.test(String(res.headers['content-type']))) throw new Error(`${label} -> ${res.status} with ${res.headers['content-type']}, not problem+json`);
        const polluted = Object.getOwnPropertyNames(Object.prototype).sort();
        if (JSON.stringify(polluted) !== JSON.stringify(prototypeKeys) || ({} as Record<string, unknown>).polluted !== undefined || ({} as Record<string, unknown>).isAdmin !== undefined) {
          throw new Error(`${label} polluted Object.prototype`);
        }
      }),
      { numRuns: RUNS, seed: 20261122, endOnFailure: true },
    );

    if (process.env.HOSTILE_TIMING) process.stdout.write(`${[...timing].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, ms]) => `${ms} ms  ${k}`).join('\n')}\n`);
    expect(sent).toBe(RUNS);
    // Not only refusals: enough generated requests were valid and allowed to reach the handlers' success path.
    const successes = [...statuses].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
    if (process.env.HOSTILE_TIMING) process.stdout.write(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(successes).toBeGreaterThan(RUNS / 20);
    // Every kind of mutation was actually sent, a fair number of times.
    const sentOf = (prefix: string) => [...mutations].filter(([label]) => label.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0);
    const kinds = ['valid', 'wrong type', 'missing field', 'extra field', 'huge string', 'nested', 'prototype keys', 'invalid UTF-8', 'content type', 'no content type', 'not a JSON object'];
    expect(kinds.filter((kind) => sentOf(`body: ${kind}`) < RUNS / 200)).toEqual([]);
    const queryKinds = ['valid', 'wrong value', 'repeated key', 'huge value', 'prototype keys', 'extra key', 'broken encoding'];
    expect(queryKinds.filter((kind) => sentOf(`query: ${kind}`) < RUNS / 200)).toEqual([]);
    await t.http.get('/healthz').expect(200);
    expect(await snapshot(t, victim)).toEqual(before);
  });
});

function rarely(value: fc.Arbitrary<string>): fc.Arbitrary<string | null> {
  return fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: value });
}
