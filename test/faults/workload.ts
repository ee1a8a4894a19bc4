/**
 * The load generator of the fault suite: a few simulated users, each issuing a steady mix of commands
 * (sign-ups, workspace creates, document creates, edits with If-Match, deletes, member adds and
 * removals) and sync pulls, recording every attempt of every operation and what it acknowledged.
 *
 * Every operation has its own id, sent as X-Request-Id (it becomes the correlation id of the events it
 * appends, which is how the checker finds them in the log) and as Idempotency-Key on signed-in writes.
 * An attempt that failed in a way that leaves the outcome open (no answer, a 5xx, "still in flight",
 * 408 or 429) is retried with the same id and key, as a careful client would; an operation whose
 * answer never came is recorded as `unknown`, and one that was refused after an open attempt as
 * `ambiguous` (the refusal may be the first attempt's own effect, e.g. a 412 against its own edit).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { SyncReplica } from '../support/sync-client';

export type OperationKind =
  | 'signup'
  | 'create-workspace'
  | 'create-document'
  | 'edit-document'
  | 'delete-document'
  | 'add-member'
  | 'remove-member';

export interface Attempt {
  readonly at: number;
  readonly status?: number;
  readonly error?: string;
  readonly code?: string;
}

export interface Operation {
  readonly id: string;
  readonly actor: string;
  readonly kind: OperationKind;
  readonly method: string;
  readonly path: string;
  /** The stream the operation writes to, when one stream is its target. */
  readonly stream?: string;
  readonly attempts: Attempt[];
  outcome: 'acked' | 'rejected' | 'ambiguous' | 'unknown';
  status?: number;
  etag?: string;
  consistencyToken?: string;
  startedAt: number;
  settledAt?: number;
  /** Kept for sign-ups only (the session the actor goes on with). */
  responseBody?: unknown;
}

export interface ReadCheck {
  readonly actor: string;
  readonly documentId: string;
  readonly expectedRevision: number;
  readonly status: number | 'error';
  readonly revision?: number;
}

interface Actor {
  readonly name: string;
  readonly email: string;
  readonly password: string;
  userId: string;
  auth: { Authorization: string };
  readonly ownWorkspaces: string[];
  /** Workspaces of other actors this one was added to (and not removed from, as far as it knows). */
  readonly memberOf: Set<string>;
  /** Members this actor added to its workspaces: workspace id -> user ids. */
  readonly addedMembers: Map<string, Set<string>>;
  readonly documents: Map<string, { workspaceId: string; etag: string; revision: number; deleted: boolean }>;
  replica: SyncReplica;
  /** The latest document this actor wrote, and the token of that write: what a read-your-writes check reads. */
  lastWrite?: { documentId: string; revision: number; token: string };
}

export interface WorkloadOptions {
  readonly commandUrl: string;
  readonly queryUrl: string;
  readonly actors: number;
  /** Pause between one actor's operations. */
  readonly pauseMs: number;
  /** How long one operation keeps retrying an open outcome before it is recorded as unknown. */
  readonly retryForMs: number;
  readonly random?: () => number;
}

const RETRYABLE_CODES = new Set(['IDEMPOTENCY.IN_FLIGHT']);
const PASSWORD = 'faulty but durable password 42';

export class Workload {
  readonly operations: Operation[] = [];
  readonly readChecks: ReadCheck[] = [];
  readonly actors: Actor[] = [];
  pulls = 0;
  pullFailures = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly random: () => number;
  private readonly queryAgent;

  constructor(private readonly options: WorkloadOptions) {
    this.random = options.random ?? Math.random;
    this.queryAgent = request(options.queryUrl);
  }

  /** Signs the actors up and gives each a workspace (retrying through whatever happens meanwhile). */
  async setUp(): Promise<void> {
    for (let i = 0; i < this.options.actors; i++) {
      const actor = await this.signUpActor(`actor${i}`);
      if (!actor) throw new Error(`could not sign up actor${i}`);
      this.actors.push(actor);
      await this.createWorkspace(actor);
    }
  }

  start(): void {
    this.running = true;
    this.loops = this.actors.map((actor, index) => this.loop(actor, index));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Pulls every actor's replica to the end of its feed (for the convergence check). */
  async drainReplicas(): Promise<void> {
    for (const actor of this.actors) await actor.replica.drain(500);
  }

  /** A new replica for an actor, pulled from the beginning: what a fresh device would get. */
  async freshReplica(actorIndex: number): Promise<SyncReplica> {
    const replica = new SyncReplica(this.queryAgent, this.actors[actorIndex]!.auth);
    await replica.drain(500);
    return replica;
  }

  // ---- the loop ----

  private async loop(actor: Actor, index: number): Promise<void> {
    // Staggered, so that the actors do not move in lockstep.
    await sleep(index * (this.options.pauseMs / Math.max(1, this.actors.length)));
    while (this.running) {
      try {
        await this.step(actor);
      } catch (error) {
        // A bug of the generator, not of the service: make it loud.
        process.stderr.write(`workload step failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      }
      await sleep(this.options.pauseMs);
    }
  }

  private async step(actor: Actor): Promise<void> {
    const roll = this.random();
    const live = [...actor.documents.entries()].filter(([, doc]) => !doc.deleted);
    if (roll < 0.2) return this.pull(actor);
    if (roll < 0.28) return this.editSharedDocument(actor);
    if (roll < 0.42 || live.length === 0) return this.createDocument(actor);
    if (roll < 0.72) return this.editDocument(actor, this.pick(live));
    if (roll < 0.8) return this.deleteDocument(actor, this.pick(live));
    if (roll < 0.86) return this.addMember(actor);
    if (roll < 0.91) return this.removeMember(actor);
    if (roll < 0.94) return void (await this.createWorkspace(actor));
    if (roll < 0.96) return void (await this.signUpActor(`extra${this.operations.length}`));
    return this.readOwnWrite(actor);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  // ---- operations ----

  private async signUpActor(name: string): Promise<Actor | undefined> {
    const email = `${name}-${randomUUID().slice(0, 8)}@faults.example.com`;
    const op = await this.send(undefined, 'signup', 'POST', '/api/auth/signup', { email, password: PASSWORD, displayName: name }, { stream: undefined });
    let session = op.outcome === 'acked' ? (op.responseBody as SessionBody | undefined) : undefined;
    if (!session && op.outcome !== 'rejected') session = await this.logIn(email);
    if (!session) return undefined;
    const auth = { Authorization: `Bearer ${session.accessToken}` };
    return {
      name,
      email,
      password: PASSWORD,
      userId: session.user.id,
      auth,
      ownWorkspaces: [],
      memberOf: new Set(),
      addedMembers: new Map(),
      documents: new Map(),
      replica: new SyncReplica(this.queryAgent, auth),
    };
  }

  /** After a sign-up whose answer was lost: the account may exist; logging in tells. */
  private async logIn(email: string): Promise<SessionBody | undefined> {
    const deadline = Date.now() + this.options.retryForMs;
    while (Date.now() < deadline) {
      const res = await fetch(`${this.options.commandUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
        signal: AbortSignal.timeout(15_000),
      }).catch(() => undefined);
      if (res?.status === 200) return (await res.json()) as SessionBody;
      if (res?.status === 401) return undefined;
      await sleep(500);
    }
    return undefined;
  }

  private async createWorkspace(actor: Actor): Promise<void> {
    const id = randomUUID();
    const op = await this.send(actor, 'create-workspace', 'POST', '/api/workspaces', { id, name: `ws ${id.slice(0, 6)}` }, { stream: `workspace-${id}` });
    // An unknown outcome may have created it: the actor may use it either way (a 404 later is fine).
    if (op.outcome !== 'rejected') actor.ownWorkspaces.push(id);
  }

  private async createDocument(actor: Actor): Promise<void> {
    const workspaces = [...actor.ownWorkspaces, ...actor.memberOf];
    if (workspaces.length === 0) return this.createWorkspace(actor);
    const workspaceId = this.pick(workspaces);
    const id = randomUUID();
    const op = await this.send(actor, 'create-document', 'POST', `/api/workspaces/${workspaceId}/documents`, { id, title: `doc ${id.slice(0, 6)}`, content: `created by ${actor.name}` }, { stream: `document-${id}` });
    if (op.outcome === 'acked') {
      actor.documents.set(id, { workspaceId, etag: op.etag ?? '"0"', revision: 0, deleted: false });
      actor.lastWrite = op.consistencyToken ? { documentId: id, revision: 0, token: op.consistencyToken } : actor.lastWrite;
    }
  }

  private async editDocument(actor: Actor, [id, doc]: [string, { workspaceId: string; etag: string; revision: number; deleted: boolean }]): Promise<void> {
    const content = `edit ${this.operations.length} by ${actor.name}: ${randomUUID()}`;
    const op = await this.send(actor, 'edit-document', 'PUT', `/api/documents/${id}`, { title: `doc ${id.slice(0, 6)}`, content }, { stream: `document-${id}`, ifMatch: doc.etag });
    if (op.outcome === 'acked' && op.etag) {
      doc.etag = op.etag;
      doc.revision = Number(JSON.parse(op.etag));
      if (op.consistencyToken) actor.lastWrite = { documentId: id, revision: doc.revision, token: op.consistencyToken };
    } else if (op.status === 412 || op.status === 404 || op.outcome === 'unknown') {
      await this.refreshDocument(actor, id);
    }
  }

  /**
   * Edits a document someone else created in a workspace this actor was added to, at the revision its
   * sync replica last saw: concurrent edits from several users, so stale ones get 412 (and must write nothing).
   */
  private async editSharedDocument(actor: Actor): Promise<void> {
    const shared = [...actor.replica.documents()].filter(([id, doc]) => actor.memberOf.has(doc.workspaceId) && !actor.documents.has(id));
    if (shared.length === 0) return this.pull(actor);
    const [id, doc] = this.pick(shared);
    const content = `shared edit ${this.operations.length} by ${actor.name}`;
    await this.send(actor, 'edit-document', 'PUT', `/api/documents/${id}`, { title: String(doc.title), content }, { stream: `document-${id}`, ifMatch: `"${doc.revision}"` });
  }

  private async deleteDocument(actor: Actor, [id, doc]: [string, { workspaceId: string; etag: string; revision: number; deleted: boolean }]): Promise<void> {
    const op = await this.send(actor, 'delete-document', 'DELETE', `/api/documents/${id}`, undefined, { stream: `document-${id}`, ifMatch: doc.etag });
    if (op.outcome === 'acked') doc.deleted = true;
    else await this.refreshDocument(actor, id);
  }

  private async addMember(actor: Actor): Promise<void> {
    const others = this.actors.filter((other) => other !== actor);
    if (others.length === 0 || actor.ownWorkspaces.length === 0) return;
    const workspaceId = this.pick(actor.ownWorkspaces);
    const other = this.pick(others);
    const added = actor.addedMembers.get(workspaceId) ?? new Set<string>();
    if (added.has(other.userId)) return;
    const op = await this.send(actor, 'add-member', 'POST', `/api/workspaces/${workspaceId}/members`, { email: other.email, role: 'member' }, { stream: `workspace-${workspaceId}` });
    if (op.outcome === 'acked' || op.status === 409) {
      added.add(other.userId);
      actor.addedMembers.set(workspaceId, added);
      other.memberOf.add(workspaceId);
    }
  }

  private async removeMember(actor: Actor): Promise<void> {
    const candidates = [...actor.addedMembers.entries()].flatMap(([workspaceId, users]) => [...users].map((userId) => ({ workspaceId, userId })));
    if (candidates.length === 0) return;
    const { workspaceId, userId } = this.pick(candidates);
    const op = await this.send(actor, 'remove-member', 'DELETE', `/api/workspaces/${workspaceId}/members/${userId}`, undefined, { stream: `workspace-${workspaceId}` });
    if (op.outcome === 'acked' || op.status === 404) {
      actor.addedMembers.get(workspaceId)?.delete(userId);
      const other = this.actors.find((candidate) => candidate.userId === userId);
      other?.memberOf.delete(workspaceId);
      // Documents the removed member created there are out of its reach now.
      for (const [documentId, doc] of other?.documents ?? []) if (doc.workspaceId === workspaceId) other!.documents.delete(documentId);
    }
  }

  private async pull(actor: Actor): Promise<void> {
    try {
      await actor.replica.pull(200);
      this.pulls++;
    } catch {
      this.pullFailures++; // the cursor stays where it was; the next pull resumes from there
    }
  }

  /** Reads the actor's last written document with that write's token: it must show that revision or a later one. */
  private async readOwnWrite(actor: Actor): Promise<void> {
    const write = actor.lastWrite;
    if (!write) return;
    const res = await fetch(`${this.options.queryUrl}/api/documents/${write.documentId}`, {
      headers: { ...actor.auth, 'X-Consistency-Token': write.token },
      signal: AbortSignal.timeout(15_000),
    }).catch(() => undefined);
    const body = res ? ((await res.json().catch(() => ({}))) as { revision?: number }) : {};
    this.readChecks.push({ actor: actor.name, documentId: write.documentId, expectedRevision: write.revision, status: res?.status ?? 'error', revision: body.revision });
  }

  /** Learns a document's current ETag after a refusal or a lost answer (the command side reads the log). */
  private async refreshDocument(actor: Actor, id: string): Promise<void> {
    const res = await fetch(`${this.options.queryUrl}/api/documents/${id}`, { headers: actor.auth, signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
    if (res?.status === 200) {
      const body = (await res.json()) as { revision: number; deleted: boolean };
      const doc = actor.documents.get(id);
      if (doc && body.revision >= doc.revision) Object.assign(doc, { etag: `"${body.revision}"`, revision: body.revision, deleted: body.deleted });
    } else if (res?.status === 404) {
      actor.documents.delete(id);
    }
  }

  // ---- sending with retries, recording every attempt ----

  private async send(
    actor: Actor | undefined,
    kind: OperationKind,
    method: string,
    path: string,
    body: unknown,
    options: { stream: string | undefined; ifMatch?: string },
  ): Promise<Operation> {
    const op: Operation = { id: randomUUID(), actor: actor?.name ?? 'anonymous', kind, method, path, stream: options.stream, attempts: [], outcome: 'unknown', startedAt: Date.now() };
    this.operations.push(op);
    const headers: Record<string, string> = { 'X-Request-Id': op.id, ...(actor ? { ...actor.auth, 'Idempotency-Key': op.id } : {}) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.ifMatch) headers['If-Match'] = options.ifMatch;
    const deadline = Date.now() + this.options.retryForMs;
    let open = false;
    for (let delay = 200; ; delay = Math.min(delay * 2, 2_000)) {
      const at = Date.now();
      let res: Response | undefined;
      let error: string | undefined;
      try {
        res = await fetch(`${this.options.commandUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
      } catch (failure) {
        error = failure instanceof Error ? `${failure.name}: ${(failure.cause as Error | undefined)?.message ?? failure.message}` : String(failure);
      }
      if (!res) {
        op.attempts.push({ at, error });
        open = true;
      } else {
        const text = await res.text().catch(() => '');
        const parsed = parseJson(text);
        const code = typeof parsed?.code === 'string' ? parsed.code : undefined;
        op.attempts.push({ at, status: res.status, ...(code ? { code } : {}) });
        const retry = res.status >= 500 || res.status === 408 || res.status === 429 || (res.status === 409 && code !== undefined && RETRYABLE_CODES.has(code));
        if (!retry) {
          op.status = res.status;
          op.settledAt = Date.now();
          if (res.status >= 200 && res.status < 300) {
            op.outcome = 'acked';
            op.etag = res.headers.get('etag') ?? undefined;
            op.consistencyToken = res.headers.get('x-consistency-token') ?? undefined;
            if (kind === 'signup') op.responseBody = parsed;
          } else {
            op.outcome = open ? 'ambiguous' : 'rejected';
          }
          return op;
        }
        open = true;
      }
      if (Date.now() + delay > deadline) {
        op.outcome = 'unknown';
        op.settledAt = Date.now();
        return op;
      }
      await sleep(delay);
    }
  }
}

interface SessionBody {
  readonly user: { readonly id: string };
  readonly accessToken: string;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
