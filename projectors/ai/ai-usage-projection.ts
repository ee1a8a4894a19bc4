/**
 * The `ai_usage` read model: one row per AI call, from its AiCallRecorded event. A call's stream has
 * exactly one event, so the row is written once; the revision makes a replay harmless all the same.
 */
import type { AiCallEvent } from '../../domain/ai/ai-call';
import { upsertIfNewer, type Projection } from '../runtime/projection';

export const aiUsageProjection: Projection = {
  name: 'ai_usage',
  tables: ['ai_usage'],
  handles: ['AiCallRecorded'],
  apply(recorded, sql) {
    const event = recorded as unknown as AiCallEvent;
    const usage = event.data;
    return upsertIfNewer(sql, 'ai_usage', ['id'], {
      id: usage.callId,
      user_id: usage.userId,
      workspace_id: usage.workspaceId,
      purpose: usage.purpose,
      provider: usage.provider,
      model: usage.model,
      tokens_in: usage.tokensIn,
      tokens_out: usage.tokensOut,
      latency_ms: usage.latencyMs,
      outcome: usage.outcome,
      cost_micro_usd: usage.costMicroUsd,
      occurred_at: usage.recordedAt,
      revision: recorded.streamRevision,
    });
  },
};
