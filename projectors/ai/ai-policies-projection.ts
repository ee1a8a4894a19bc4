/**
 * The `workspace_ai_policies` read model: whether each workspace's members may use the AI proxy, for
 * GET /api/workspaces/:id/ai. (The proxy itself decides from the policy's stream, never from this.)
 */
import type { WorkspaceAiPolicyEvent } from '../../domain/ai/workspace-ai-policy';
import { upsertIfNewer, type Projection } from '../runtime/projection';

export const aiPoliciesProjection: Projection = {
  name: 'ai_policies',
  tables: ['workspace_ai_policies'],
  handles: ['WorkspaceAiProxySet'],
  apply(recorded, sql) {
    const event = recorded as unknown as WorkspaceAiPolicyEvent;
    return upsertIfNewer(sql, 'workspace_ai_policies', ['workspace_id'], {
      workspace_id: event.data.workspaceId,
      ai_proxy: event.data.enabled,
      set_by: event.data.setBy,
      set_at: event.data.setAt,
      revision: recorded.streamRevision,
    });
  },
};
