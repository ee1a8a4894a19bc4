/**
 * Who may touch a workspace's content, as the command side asks it: a member of a workspace that is
 * not deleted, read from the `workspace_members` read model. Membership changes wait for that model
 * before they answer, so it is never behind a change the caller could know of.
 *
 * `WorkspaceMembership` keeps the answers of one process for a few seconds, because the documents
 * routes ask on every edit. The cache holds only while wake-ups are live: whenever the `workspaces`
 * projection applies an event it announces `projection.workspaces.changed` before its progress, and
 * every process drops all it keeps. A change's answer waits for that progress, so in one process the
 * cache is empty before the change is answered. Between processes the message reaches the others
 * about when it reaches the one answering (NATS delivers it to all at once); a message lost (NATS is
 * at most once) leaves an answer at most `ttlMs` old. While wake-ups are down every call asks the database.
 */
import type { Knex } from 'knex';
import { WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';

export async function isWorkspaceMember(db: Knex, workspaceId: string, userId: string): Promise<boolean> {
  const row = await db('workspace_members as m')
    .join('workspaces as w', 'w.id', 'm.workspace_id')
    .where({ 'm.workspace_id': workspaceId, 'm.user_id': userId, 'w.deleted': false })
    .first('m.role');
  return row !== undefined;
}

export interface WorkspaceMembershipOptions {
  /** How long an answer is kept at most (default 5 s). */
  readonly ttlMs?: number;
  /** How many answers are kept at most (default 10,000; the oldest go first). */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class WorkspaceMembership {
  private readonly answers = new Map<string, { readonly member: boolean; readonly until: number }>();
  /** Moves on every membership change heard of: an answer read across one is not kept. */
  private generation = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly db: Knex,
    private readonly wakeups: Wakeups,
    options: WorkspaceMembershipOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
    this.unsubscribe = wakeups.subscribe(WakeupTopics.projectionChanged('workspaces'), () => this.forgetAll());
  }

  async isMember(workspaceId: string, userId: string): Promise<boolean> {
    if (!this.wakeups.live) {
      // No word of changes can arrive: keep nothing, and forget what was kept before.
      this.forgetAll();
      return isWorkspaceMember(this.db, workspaceId, userId);
    }
    const key = `${workspaceId}/${userId}`;
    const kept = this.answers.get(key);
    if (kept && kept.until > this.now()) return kept.member;
    const generation = this.generation;
    const member = await isWorkspaceMember(this.db, workspaceId, userId);
    if (generation === this.generation && this.wakeups.live) {
      this.answers.delete(key);
      if (this.answers.size >= this.maxEntries) this.answers.delete(this.answers.keys().next().value!);
      this.answers.set(key, { member, until: this.now() + this.ttlMs });
    }
    return member;
  }

  close(): void {
    this.unsubscribe();
    this.forgetAll();
  }

  private forgetAll(): void {
    this.generation += 1;
    this.answers.clear();
  }
}
