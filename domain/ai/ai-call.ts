/**
 * One call to the AI proxy, recorded once it is over: who asked, through which workspace, which
 * provider and model, the tokens in and out, how long it took and how it ended. Never the prompt, the
 * context or the answer: usage is accounting, not a transcript. Each call is its own one-event stream
 * (`ai_call-<id>`), so recording never contends with another call.
 */
import type { Decider } from '../shared/decider';
import { conflict, DomainError } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const aiCallStreamId = (callId: string) => `ai_call-${callId}`;

export const AI_CALL_OUTCOMES = ['succeeded', 'refused', 'provider_failed', 'unavailable', 'cancelled'] as const;
export type AiCallOutcome = (typeof AI_CALL_OUTCOMES)[number];
export type AiCallPurpose = 'generate' | 'paraphrase';

export interface AiCallUsage {
  readonly callId: string;
  readonly userId: string;
  readonly workspaceId: string;
  readonly purpose: AiCallPurpose;
  readonly provider: string;
  readonly model: string;
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly latencyMs: number;
  readonly outcome: AiCallOutcome;
  /** What the call cost at the configured prices, in micro-dollars. */
  readonly costMicroUsd: number;
}

export type AiCallEvent = DomainEvent<'AiCallRecorded', AiCallUsage & { recordedAt: string }>;

export type AiCall = { readonly status: 'none' } | { readonly status: 'recorded'; readonly usage: AiCallUsage };

export type AiCallCommand = { readonly type: 'RecordAiCall'; readonly usage: AiCallUsage; readonly at: string };

const isCount = (value: number) => Number.isInteger(value) && value >= 0;

export const aiCallDecider: Decider<AiCallCommand, AiCallEvent, AiCall> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'RecordAiCall': {
        if (state.status !== 'none') throw conflict('AI_CALL.ALREADY_RECORDED', 'this call is already recorded');
        const { usage } = command;
        if (![usage.tokensIn, usage.tokensOut, usage.latencyMs, usage.costMicroUsd].every(isCount)) {
          throw new DomainError('invalid', 'AI_CALL.INVALID_USAGE', 'token counts, latency and cost are whole non-negative numbers');
        }
        return [{ type: 'AiCallRecorded', data: { ...usage, recordedAt: command.at } }];
      }
      default:
        return unreachable(command.type);
    }
  },

  evolve(_state, event) {
    switch (event.type) {
      case 'AiCallRecorded': {
        const { recordedAt: _at, ...usage } = event.data;
        return { status: 'recorded', usage };
      }
      default:
        return unreachable(event.type);
    }
  },
};
