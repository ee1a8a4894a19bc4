/**
 * A minimal offline replica, as a sync client keeps one: applies pulled pages in order and remembers
 * every revision it saw per entity, so tests can check convergence and that revisions only rise.
 */
import type TestAgent from 'supertest/lib/agent';

export interface Change {
  entity: 'workspace' | 'membership' | 'document';
  id: string;
  workspaceId: string;
  op: 'upsert' | 'delete';
  revision: number;
  data?: Record<string, unknown>;
}

export class SyncReplica {
  readonly entities = new Map<string, Change>();
  readonly revisionsSeen = new Map<string, number[]>();
  cursor: string | undefined;
  pulls = 0;

  constructor(
    private readonly http: TestAgent,
    private readonly auth: { Authorization: string },
  ) {}

  /** Pulls one page and applies it; answers the raw response body. */
  async pull(limit: number, wait = 0): Promise<{ changes: Change[]; cursor: string; hasMore: boolean }> {
    const query: Record<string, string> = { limit: String(limit), wait: String(wait) };
    if (this.cursor) query.cursor = this.cursor;
    const res = await this.http.get('/api/sync/since').set(this.auth).query(query);
    if (res.status !== 200) throw new Error(`pull failed: ${res.status} ${JSON.stringify(res.body)}`);
    this.pulls++;
    const keys = res.body.changes.map((c: Change) => `${c.entity}:${c.id}`);
    if (new Set(keys).size !== keys.length) throw new Error(`a page held two changes for one entity: ${keys.join(', ')}`);
    for (const change of res.body.changes as Change[]) this.apply(change);
    this.cursor = res.body.cursor;
    return res.body;
  }

  /** Pulls until the feed has nothing more. */
  async drain(limit: number): Promise<void> {
    for (;;) {
      const page = await this.pull(limit);
      if (!page.hasMore && page.changes.length === 0) return;
    }
  }

  apply(change: Change): void {
    const key = `${change.entity}:${change.id}`;
    const seen = this.revisionsSeen.get(key) ?? [];
    seen.push(change.revision);
    this.revisionsSeen.set(key, seen);
    if (change.op === 'delete') {
      this.entities.delete(key);
      if (change.entity === 'workspace') {
        // Losing a workspace drops everything in it.
        for (const [other, entity] of this.entities) if (entity.workspaceId === change.workspaceId) this.entities.delete(other);
      }
    } else {
      this.entities.set(key, change);
    }
  }

  documents(): Map<string, { title: unknown; content: unknown; revision: number; workspaceId: string }> {
    const result = new Map<string, { title: unknown; content: unknown; revision: number; workspaceId: string }>();
    for (const change of this.entities.values()) {
      if (change.entity === 'document') result.set(change.id, { title: change.data!.title, content: change.data!.content, revision: change.revision, workspaceId: change.workspaceId });
    }
    return result;
  }
}
