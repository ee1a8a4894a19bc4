/**
 * Who may use the AI proxy, and with which context. A request names a workspace: the caller must be a
 * member (else 404, as for any workspace they cannot see), and its AI policy must allow the proxy
 * (else 403 `AI.WORKSPACE_DISALLOWS_PROXY`). Context ids name documents (readable by members of their
 * workspace, not deleted) or notes (their owner's alone, not deleted); an id the caller cannot read is
 * the same 404 `AI.CONTEXT_NOT_FOUND` as one that does not exist, so nothing leaks. A context document's
 * own workspace must allow the proxy too: its content is sent to the provider.
 *
 * Membership and content come from the read models the command side already authorizes with
 * (`workspace_members`, `documents`, `notes`); the policy comes from its stream, so a change of it is
 * in force for the very next request.
 */
import type { Knex } from 'knex';
import { workspaceAiPolicyDecider, workspaceAiPolicyStreamId } from '../../domain/ai/workspace-ai-policy';
import type { EventStore } from '../../infra/event-store/event-store';
import { Problem } from '../../infra/http/problem';
import { loadAggregate } from '../command-handling';
import { isWorkspaceMember } from '../workspaces/membership';

export interface ContextItem {
  readonly id: string;
  readonly kind: 'document' | 'note';
  readonly title: string;
  readonly content: string;
  /** The document's workspace; undefined for a note (owned by a user, in no workspace). */
  readonly workspaceId?: string;
}

export interface AiAccess {
  /** 404 unless the caller is a member of the workspace. */
  assertMember(workspaceId: string, userId: string): Promise<void>;
  /** The context items in the order given, each readable by the caller; 404 for any that is not. */
  readableContext(ids: readonly string[], userId: string): Promise<ContextItem[]>;
  /** 403 unless every workspace named allows the proxy. */
  assertProxyAllowed(workspaceIds: readonly string[]): Promise<void>;
}

const contextNotFound = () => new Problem('not_found', 'AI.CONTEXT_NOT_FOUND', 'no such document or note');

export function aiAccess(deps: { store: EventStore; db: Knex }): AiAccess {
  const { store, db } = deps;
  return {
    async assertMember(workspaceId, userId) {
      if (!(await isWorkspaceMember(db, workspaceId, userId))) throw new Problem('not_found', 'WORKSPACE.NOT_FOUND', 'no such workspace');
    },

    async readableContext(ids, userId) {
      const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
      if (unique.length === 0) return [];
      const [documents, notes] = await Promise.all([
        db('documents as d')
          .join('workspace_members as m', 'm.workspace_id', 'd.workspace_id')
          .join('workspaces as w', 'w.id', 'd.workspace_id')
          .whereIn('d.id', unique)
          .andWhere({ 'm.user_id': userId, 'w.deleted': false, 'd.deleted': false })
          .select<Array<{ id: string; title: string; content: string; workspace_id: string }>>('d.id', 'd.title', 'd.content', 'd.workspace_id'),
        db('notes')
          .whereIn('id', unique)
          .andWhere({ owner_id: userId, deleted: false })
          .select<Array<{ id: string; title: string | null; content: string | null }>>('id', 'title', 'content'),
      ]);
      const found = new Map<string, ContextItem>();
      for (const row of documents) found.set(row.id, { id: row.id, kind: 'document', title: row.title, content: row.content, workspaceId: row.workspace_id });
      for (const row of notes) if (!found.has(row.id)) found.set(row.id, { id: row.id, kind: 'note', title: row.title ?? '', content: row.content ?? '' });
      return unique.map((id) => found.get(id) ?? throwNotFound());
    },

    async assertProxyAllowed(workspaceIds) {
      const policies = await Promise.all([...new Set(workspaceIds)].map((workspaceId) => loadAggregate(store, workspaceAiPolicyStreamId(workspaceId), workspaceAiPolicyDecider)));
      for (const policy of policies) {
        if (!policy.state.aiProxy) {
          throw new Problem('forbidden', 'AI.WORKSPACE_DISALLOWS_PROXY', 'a workspace this request involves does not allow the AI proxy (an owner can turn it on with PATCH /api/workspaces/:id {"aiProxy": true})');
        }
      }
    },
  };
}

function throwNotFound(): never {
  throw contextNotFound();
}
