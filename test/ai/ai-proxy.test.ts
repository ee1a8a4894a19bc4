/**
 * The AI proxy end to end, against a fake provider on loopback that speaks both wire formats: answers
 * and streams from both providers, a provider 429 retried into a success, a client hanging up
 * mid-stream (the provider sees its request aborted), context from documents and notes only where the
 * caller may read them, the workspace policy, the safety check, paraphrases, usage, and keys that
 * never reach a response, a log line or an event.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { signUp, startTestService, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';
import { aiEnv, ANTHROPIC_KEY, documentIn, listenOn, memoryLog, OPENAI_KEY, ownerWithProxy, postSse, type Listening, type Owner } from './ai-support';
import { startFakeProvider, type FakeProvider } from './fake-provider';

jest.setTimeout(60_000);

describe('the AI proxy', () => {
  let fake: FakeProvider;
  let t: TestService;
  let live: Listening;
  let ann: Owner;
  const log = memoryLog();
  /** Every answer the proxy gave in this file: status line, headers and body, checked for keys at the end. */
  const answers: string[] = [];
  const keep = <T extends { status: number; headers: object; text?: string }>(res: T): T => {
    answers.push(`${res.status} ${JSON.stringify(res.headers)} ${res.text ?? ''}`);
    return res;
  };

  beforeAll(async () => {
    fake = await startFakeProvider({ keys: { openai: OPENAI_KEY, anthropic: ANTHROPIC_KEY } });
    t = await startTestService('ai_proxy', { env: aiEnv(fake), logger: log.logger });
    live = await listenOn(t);
    ann = await ownerWithProxy(t.http);
  });
  afterAll(async () => {
    await live?.close();
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const generate = (owner: Owner, body: Record<string, unknown>) =>
    t.http
      .post('/api/ai/generate')
      .set(owner.user.auth)
      .send({ workspaceId: owner.workspaceId, ...body })
      .then(keep);

  describe('answers', () => {
    it('given an OpenAI-compatible provider, when asked, then the answer, its usage and the wire request are right', async () => {
      fake.queue({ kind: 'answer', text: 'Grace and peace.', tokensIn: 21, tokensOut: 5 });
      const res = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'Say hello' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ provider: 'openai', model: 'gpt-test', text: 'Grace and peace.', usage: { tokensIn: 21, tokensOut: 5 } });
      expect(res.headers['x-consistency-token']).toBeDefined();
      const [seen] = fake.requests;
      expect(seen!.wire).toBe('openai');
      expect(seen!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
      expect(seen!.body).toMatchObject({ model: 'gpt-test', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 1024 });
    });

    it('given an Anthropic provider, when asked, then the Messages format is spoken both ways', async () => {
      fake.queue({ kind: 'answer', text: 'Shalom.', tokensIn: 9, tokensOut: 3 });
      const res = await generate(ann, { provider: 'anthropic', model: 'claude-test', prompt: 'Greet me' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ provider: 'anthropic', model: 'claude-test', text: 'Shalom.', usage: { tokensIn: 9, tokensOut: 3 } });
      const [seen] = fake.requests;
      expect(seen!.wire).toBe('anthropic');
      expect(seen!.headers['x-api-key']).toBe(ANTHROPIC_KEY);
      expect(seen!.headers['anthropic-version']).toBe('2023-06-01');
      expect(seen!.body).toMatchObject({ model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: 'Greet me' }] });
    });

    it('given a provider that answers 429 once, then the proxy backs off, retries and answers', async () => {
      fake.queue({ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'status', status: 503 }, { kind: 'answer', text: 'Third time lucky.' });
      const res = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'Try hard' });
      expect(res.status).toBe(200);
      expect(res.body.text).toBe('Third time lucky.');
      expect(fake.requests).toHaveLength(3);
    });

    it('given a provider that keeps answering 429, then 503 AI.PROVIDER_BUSY after the retries, never the provider’s words', async () => {
      fake.fallback = { kind: 'status', status: 429, retryAfter: '0', echoRequest: true };
      const res = await generate(ann, { provider: 'anthropic', model: 'claude-test', prompt: 'Again' });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('AI.PROVIDER_BUSY');
      expect(fake.requests).toHaveLength(3); // the first try and AI_MAX_RETRIES=2
      expect(res.text).not.toContain('scripted failure');
    });

    it('given a model outside the allow-list, then 422; given an unknown provider, then 400', async () => {
      const notAllowed = await generate(ann, { provider: 'openai', model: 'gpt-expensive', prompt: 'x' });
      expect([notAllowed.status, notAllowed.body.code]).toEqual([422, 'AI.MODEL_NOT_ALLOWED']);
      const unknown = await generate(ann, { provider: 'mistral', model: 'x', prompt: 'x' });
      expect(unknown.status).toBe(400);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('streams', () => {
    for (const [provider, model] of [
      ['openai', 'gpt-test'],
      ['anthropic', 'claude-test'],
    ] as const) {
      it(`given ${provider}, when stream is true, then tokens are relayed as Server-Sent Events as they arrive`, async () => {
        fake.queue({ kind: 'stream', pieces: ['In ', 'the ', 'beginning', '.'], gapMs: 150, tokensIn: 17, tokensOut: 4 });
        const res = await postSse(live.url, '/api/ai/generate', ann.user.auth, { workspaceId: ann.workspaceId, provider, model, prompt: 'Genesis 1:1 please', stream: true });
        answers.push(res.raw);
        expect(res.status).toBe(200);
        expect(res.contentType).toMatch(/^text\/event-stream/);
        expect(res.events.map((e) => e.event)).toEqual(['start', 'token', 'token', 'token', 'token', 'done']);
        expect(res.events.filter((e) => e.event === 'token').map((e) => e.data.text).join('')).toBe('In the beginning.');
        const done = res.events.at(-1)!;
        expect(done.data).toMatchObject({ usage: { tokensIn: 17, tokensOut: 4 } });
        expect(typeof done.data.consistencyToken).toBe('string');
        // Relayed, not buffered: the first token reached the client long before the last was sent.
        const tokens = res.events.filter((e) => e.event === 'token');
        expect(tokens.at(-1)!.at - tokens[0]!.at).toBeGreaterThan(300);
        expect(fake.requests[0]!.body.stream).toBe(true);
      });
    }

    it('given a client that hangs up mid-stream, then the upstream request is aborted and the call recorded as cancelled', async () => {
      fake.queue({ kind: 'stream', pieces: ['One ', 'two ', 'three ', 'four'], gapMs: 100, hangAfter: 2 });
      const aborted = fake.nextAbort();
      const res = await postSse(live.url, '/api/ai/generate', ann.user.auth, { workspaceId: ann.workspaceId, provider: 'anthropic', model: 'claude-test', prompt: 'Count', stream: true }, { stopAfter: 2 });
      expect(res.events.map((e) => e.event)).toEqual(['start', 'token']);
      const seen = await Promise.race([aborted, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000))]);
      expect(seen?.aborted).toBe(true);
      expect(seen?.completed).toBe(false);
      await waitFor(async () => (await t.db.knex('ai_usage').where({ user_id: ann.user.id, outcome: 'cancelled' })).length === 1, 10_000, 'the cancelled call to be projected');
    });

    it('given an answer that turns unsafe mid-stream, then the refused piece is not relayed and an error event ends it', async () => {
      fake.queue({ kind: 'stream', pieces: ['Fine ', 'words, then forbidden', '-word here', ' and more'], gapMs: 20 });
      const res = await postSse(live.url, '/api/ai/generate', ann.user.auth, { workspaceId: ann.workspaceId, provider: 'openai', model: 'gpt-test', prompt: 'Say it', stream: true });
      answers.push(res.raw);
      expect(res.events.map((e) => e.event)).toEqual(['start', 'token', 'token', 'error']);
      expect(res.events.at(-1)!.data).toMatchObject({ status: 422, code: 'AI.OUTPUT_REFUSED', reason: 'blocked_term' });
      expect(res.raw).not.toContain('-word here');
    });

    it('given a client that hangs up before a (non-streamed) answer, then the upstream request is aborted too', async () => {
      fake.queue({ kind: 'hang' });
      const aborted = fake.nextAbort();
      const payload = JSON.stringify({ workspaceId: ann.workspaceId, provider: 'openai', model: 'gpt-test', prompt: 'Think long' });
      const req = request(`${live.url}/api/ai/generate`, { method: 'POST', headers: { ...ann.user.auth, 'content-type': 'application/json' } });
      req.on('error', () => undefined);
      req.end(payload);
      await waitFor(() => fake.requests.length === 1, 5_000, 'the provider to be called');
      req.destroy();
      const seen = await Promise.race([aborted, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000))]);
      expect(seen).toMatchObject({ aborted: true, completed: false });
    });

    it('refuses a stream with an Idempotency-Key (a stream cannot be replayed)', async () => {
      const res = await t.http.post('/api/ai/generate').set(ann.user.auth).set('Idempotency-Key', 'k1').send({ workspaceId: ann.workspaceId, provider: 'openai', model: 'gpt-test', prompt: 'x', stream: true }).then(keep);
      expect([res.status, res.body.code]).toEqual([400, 'AI.STREAM_NOT_REPLAYABLE']);
      const replayable = await t.http.post('/api/ai/generate').set(ann.user.auth).set('Idempotency-Key', 'k2').send({ workspaceId: ann.workspaceId, provider: 'openai', model: 'gpt-test', prompt: 'x' });
      const again = await t.http.post('/api/ai/generate').set(ann.user.auth).set('Idempotency-Key', 'k2').send({ workspaceId: ann.workspaceId, provider: 'openai', model: 'gpt-test', prompt: 'x' });
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(replayable.body);
      expect(fake.requests).toHaveLength(1);
    });

    it('given a provider failing before the stream starts, then an ordinary problem answer', async () => {
      fake.fallback = { kind: 'status', status: 500 };
      const res = await postSse(live.url, '/api/ai/generate', ann.user.auth, { workspaceId: ann.workspaceId, provider: 'openai', model: 'gpt-other', prompt: 'x', stream: true });
      expect(res.status).toBe(503);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.raw).code).toBe('AI.PROVIDER_FAILED');
    });
  });

  describe('context and access', () => {
    it('given documents and notes the caller may read, then their content goes to the provider as context', async () => {
      const docId = await documentIn(t.http, ann.user, ann.workspaceId, 'Sermon outline', 'Point one: the vine and the branches.');
      const noteId = randomUUID();
      await t.db.knex('notes').insert({ id: noteId, owner_id: ann.user.id, title: 'Quiet time', content: 'Abide in me, John 15.', date_time: new Date(), tags: '{}', topics: '{}', scripture: '{}', revision: 0 });
      const res = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'Summarize', contextIds: [docId, noteId] });
      expect(res.status).toBe(200);
      const messages = fake.requests[0]!.body.messages as Array<{ role: string; content: string }>;
      expect(messages[0]!.role).toBe('system');
      expect(messages[0]!.content).toContain('Point one: the vine and the branches.');
      expect(messages[0]!.content).toContain('Abide in me, John 15.');
      expect(messages[1]).toEqual({ role: 'user', content: 'Summarize' });
    });

    it('given ids the caller may not read (another user’s note or document, a deleted or unknown one), then the same 404, and nothing is sent', async () => {
      const bea = await ownerWithProxy(t.http);
      const beasDoc = await documentIn(t.http, bea.user, bea.workspaceId, 'Private', 'bea only');
      const beasNote = randomUUID();
      await t.db.knex('notes').insert({ id: beasNote, owner_id: bea.user.id, title: 'Mine', content: 'bea note', date_time: new Date(), tags: '{}', topics: '{}', scripture: '{}', revision: 0 });
      const deletedNote = randomUUID();
      await t.db.knex('notes').insert({ id: deletedNote, owner_id: ann.user.id, title: 'Gone', content: 'deleted', date_time: new Date(), tags: '{}', topics: '{}', scripture: '{}', revision: 0, deleted: true });
      for (const id of [beasDoc, beasNote, deletedNote, randomUUID()]) {
        const res = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'Leak it', contextIds: [id] });
        expect([id, res.status, res.body.code]).toEqual([id, 404, 'AI.CONTEXT_NOT_FOUND']);
        expect(res.text).not.toContain('bea');
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('given a workspace the caller is not in, then 404; given one whose policy is off, then 403 until an owner turns it on', async () => {
      const bea = await signUp(t.http);
      const beaWs = await t.http.post('/api/workspaces').set(bea.auth).send({ name: 'Bea' }).expect(201);
      const outsider = await generate(ann, { workspaceId: beaWs.body.id, provider: 'openai', model: 'gpt-test', prompt: 'x' });
      expect([outsider.status, outsider.body.code]).toEqual([404, 'WORKSPACE.NOT_FOUND']);

      const off = await t.http.post('/api/workspaces').set(ann.user.auth).send({ name: 'No AI here' }).expect(201);
      const refused = await generate(ann, { workspaceId: off.body.id, provider: 'openai', model: 'gpt-test', prompt: 'x' });
      expect([refused.status, refused.body.code]).toEqual([403, 'AI.WORKSPACE_DISALLOWS_PROXY']);

      await t.http.post(`/api/workspaces/${off.body.id}/members`).set(ann.user.auth).send({ email: bea.email }).expect(201);
      const byMember = await t.http.patch(`/api/workspaces/${off.body.id}`).set(bea.auth).send({ aiProxy: true });
      expect([byMember.status, byMember.body.code]).toEqual([403, 'WORKSPACE.OWNER_REQUIRED']);
      const turnedOn = await t.http.patch(`/api/workspaces/${off.body.id}`).set(ann.user.auth).send({ aiProxy: true });
      expect(turnedOn.status).toBe(200);
      expect(turnedOn.body).toMatchObject({ id: off.body.id, name: 'No AI here', aiProxy: true });
      const policy = await t.http.get(`/api/workspaces/${off.body.id}/ai`).set(bea.auth).set('X-Consistency-Token', String(turnedOn.headers['x-consistency-token']));
      expect(policy.body).toMatchObject({ workspaceId: off.body.id, aiProxy: true, setBy: ann.user.id });
      expect((await t.http.get(`/api/workspaces/${beaWs.body.id}/ai`).set(ann.user.auth)).status).toBe(404);
      const allowed = await generate({ user: { ...ann.user }, workspaceId: off.body.id }, { provider: 'openai', model: 'gpt-test', prompt: 'x' });
      expect(allowed.status).toBe(200);
      // Members use it too; turning it off again is in force for the very next request.
      const asMember = await t.http.post('/api/ai/generate').set(bea.auth).send({ workspaceId: off.body.id, provider: 'openai', model: 'gpt-test', prompt: 'x' });
      expect(asMember.status).toBe(200);
      await t.http.patch(`/api/workspaces/${off.body.id}`).set(ann.user.auth).send({ aiProxy: false }).expect(200);
      const afterOff = await t.http.post('/api/ai/generate').set(bea.auth).send({ workspaceId: off.body.id, provider: 'openai', model: 'gpt-test', prompt: 'x' });
      expect(afterOff.status).toBe(403);
    });

    it('given a context document whose own workspace disallows the proxy, then 403 even from a workspace that allows it', async () => {
      const closed = await t.http.post('/api/workspaces').set(ann.user.auth).send({ name: 'Closed' }).expect(201);
      const docId = await documentIn(t.http, ann.user, closed.body.id, 'Confidential', 'not for any model');
      const res = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'x', contextIds: [docId] });
      expect([res.status, res.body.code]).toEqual([403, 'AI.WORKSPACE_DISALLOWS_PROXY']);
      expect(fake.requests).toHaveLength(0);
    });

    it('renaming and setting the policy in one PATCH honours If-Match against the workspace', async () => {
      const ws = await t.http.post('/api/workspaces').set(ann.user.auth).send({ name: 'Both' }).expect(201);
      const stale = await t.http.patch(`/api/workspaces/${ws.body.id}`).set(ann.user.auth).set('If-Match', '"7"').send({ aiProxy: true });
      expect(stale.status).toBe(412);
      const both = await t.http.patch(`/api/workspaces/${ws.body.id}`).set(ann.user.auth).set('If-Match', String(ws.headers.etag)).send({ name: 'Both, renamed', aiProxy: true });
      expect(both.status).toBe(200);
      expect(both.body).toMatchObject({ name: 'Both, renamed', aiProxy: true });
      const empty = await t.http.patch(`/api/workspaces/${ws.body.id}`).set(ann.user.auth).send({});
      expect(empty.status).toBe(400);
    });
  });

  describe('safety', () => {
    it('given a prompt with a blocked term (in any case, or in the context), then 422 AI.PROMPT_REFUSED and no provider call', async () => {
      const prompt = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'please say FORBIDDEN-WORD' });
      expect([prompt.status, prompt.body.code, prompt.body.reason]).toEqual([422, 'AI.PROMPT_REFUSED', 'blocked_term']);
      const cyrillic = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'это другое   слово' });
      expect(cyrillic.status).toBe(422);
      const docId = await documentIn(t.http, ann.user, ann.workspaceId, 'Draft', 'contains forbidden-word inside');
      const viaContext = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'Summarize', contextIds: [docId] });
      expect([viaContext.status, viaContext.body.code]).toEqual([422, 'AI.PROMPT_REFUSED']);
      expect(prompt.text).not.toMatch(/forbidden-word/i);
      expect(fake.requests).toHaveLength(0);
    });

    it('given an answer with a blocked term, then 422 AI.OUTPUT_REFUSED', async () => {
      fake.queue({ kind: 'answer', text: 'Here is the Forbidden-Word you wanted.' });
      const res = await generate(ann, { provider: 'anthropic', model: 'claude-test', prompt: 'innocent' });
      expect([res.status, res.body.code]).toEqual([422, 'AI.OUTPUT_REFUSED']);
      expect(res.text).not.toContain('you wanted');
    });
  });

  describe('paraphrase', () => {
    it('looks the passage up locally and returns it beside the paraphrase', async () => {
      fake.queue({ kind: 'answer', text: '  God loved the world so much that he gave his only Son.  ' });
      const res = await t.http.post('/api/ai/paraphrase').set(ann.user.auth).send({ workspaceId: ann.workspaceId, reference: 'Jn 3:16', style: 'simple' }).then(keep);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ reference: 'John.3.16', style: 'simple', paraphrase: 'God loved the world so much that he gave his only Son.', provider: 'openai', model: 'gpt-test' });
      expect(res.body.original).toMatch(/^For God so loved the world, that he gave his only begotten Son/);
      const messages = fake.requests[0]!.body.messages as Array<{ role: string; content: string }>;
      expect(messages[1]!.content).toContain('For God so loved the world');
    });

    it('refuses what is not one reference (422) and needs a workspace that allows the proxy', async () => {
      const bad = await t.http.post('/api/ai/paraphrase').set(ann.user.auth).send({ workspaceId: ann.workspaceId, reference: 'the bit about love' });
      expect([bad.status, bad.body.code]).toEqual([422, 'SCRIPTURE.INVALID_REFERENCE']);
      const off = await t.http.post('/api/workspaces').set(ann.user.auth).send({ name: 'Off' }).expect(201);
      const refused = await t.http.post('/api/ai/paraphrase').set(ann.user.auth).send({ workspaceId: off.body.id, reference: 'Ps 23:1' });
      expect(refused.status).toBe(403);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('usage', () => {
    it('records each call as an event without the prompt or the answer, and answers GET /api/ai/usage for the caller alone', async () => {
      const cara = await ownerWithProxy(t.http);
      fake.queue({ kind: 'answer', text: 'SECRET-ANSWER-TEXT', tokensIn: 30, tokensOut: 12 }, { kind: 'answer', text: 'again', tokensIn: 5, tokensOut: 2 });
      await generate(cara, { provider: 'openai', model: 'gpt-test', prompt: 'SECRET-PROMPT-TEXT' }).then((res) => expect(res.status).toBe(200));
      const second = await generate(cara, { provider: 'anthropic', model: 'claude-test', prompt: 'x' });
      const usage = await t.http.get('/api/ai/usage').set(cara.user.auth).set('X-Consistency-Token', String(second.headers['x-consistency-token'])).then(keep);
      expect(usage.status).toBe(200);
      expect(usage.body.totals).toEqual({ requests: 2, tokensIn: 35, tokensOut: 14, costUsd: (35 * 1 + 14 * 4) / 1e6 });
      expect(usage.body.byDay).toHaveLength(1);
      expect(usage.body.recent.map((r: { provider: string; outcome: string; workspaceId: string }) => [r.provider, r.outcome, r.workspaceId])).toEqual([
        ['anthropic', 'succeeded', cara.workspaceId],
        ['openai', 'succeeded', cara.workspaceId],
      ]);
      expect(usage.body.recent[0].latencyMs).toBeGreaterThanOrEqual(0);
      const events = await t.db.knex('events').where('event_type', 'AiCallRecorded');
      const text = JSON.stringify(events);
      expect(text).not.toContain('SECRET-PROMPT-TEXT');
      expect(text).not.toContain('SECRET-ANSWER-TEXT');
      const someoneElse = await t.http.get('/api/ai/usage').set((await signUp(t.http)).auth);
      expect(someoneElse.body.totals.requests).toBe(0);
    });
  });

  // Last, in its own block (jest runs a block's own tests before its nested blocks): it reads what all the others did.
  describe('keys', () => {
    it('never lets a key reach a response, a log line or an event (checked over everything this file did)', async () => {
      fake.queue({ kind: 'status', status: 400, echoRequest: true });
      const echoed = await generate(ann, { provider: 'openai', model: 'gpt-test', prompt: 'provoke an echo' });
      expect([echoed.status, echoed.body.code]).toEqual([503, 'AI.PROVIDER_FAILED']);
      // Keys did reach the provider, so the checks below are not vacuous.
      expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
      const events = JSON.stringify(await t.db.knex('events').select('*'));
      expect(events).toContain('AiCallRecorded');
      for (const key of [OPENAI_KEY, ANTHROPIC_KEY, 'SECRET-3b9d', 'SECRET-8e4c']) {
        expect(answers.join('\n')).not.toContain(key);
        expect(log.text()).not.toContain(key);
        expect(events).not.toContain(key);
      }
      expect(answers.length).toBeGreaterThan(20);
      expect(log.text().length).toBeGreaterThan(1000);
    });
  });
});

describe('the AI proxy without providers', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('ai_disabled');
  });
  afterAll(() => t?.close());

  it('answers 503 AI.DISABLED once access is settled, for both routes', async () => {
    const owner = await ownerWithProxy(t.http);
    const generate = await t.http.post('/api/ai/generate').set(owner.user.auth).send({ workspaceId: owner.workspaceId, provider: 'openai', model: 'gpt-4o-mini', prompt: 'x' });
    expect([generate.status, generate.body.code]).toEqual([503, 'AI.DISABLED']);
    const paraphrase = await t.http.post('/api/ai/paraphrase').set(owner.user.auth).send({ workspaceId: owner.workspaceId, reference: 'Gen 1:1' });
    expect([paraphrase.status, paraphrase.body.code]).toEqual([503, 'AI.DISABLED']);
  });
});
