import { given } from '../../test/support/decider-spec';
import { aiCallDecider, type AiCallUsage } from './ai-call';
import { workspaceAiPolicyDecider } from './workspace-ai-policy';

const at = '2026-11-22T10:00:00.000Z';
const set = (enabled: boolean, setBy = 'ann') => ({ type: 'WorkspaceAiProxySet' as const, data: { workspaceId: 'w', enabled, setBy, setAt: at } });
const command = (enabled: boolean, actorRole: 'owner' | 'member' | null, actorId = 'ann') => ({ type: 'SetWorkspaceAiProxy' as const, workspaceId: 'w', enabled, actorId, actorRole, at });

describe('workspace AI policy', () => {
  it('is off until an owner turns it on', () => {
    expect(workspaceAiPolicyDecider.initialState.aiProxy).toBe(false);
    given(workspaceAiPolicyDecider).when(command(true, 'owner')).then([set(true)]);
    given(workspaceAiPolicyDecider, set(true)).when(command(false, 'owner')).then([set(false)]);
  });

  it('setting what is already set records nothing', () => {
    given(workspaceAiPolicyDecider).when(command(false, 'owner')).thenNothing();
    given(workspaceAiPolicyDecider, set(true)).when(command(true, 'owner')).thenNothing();
  });

  it('a member may not change it, and to a stranger the workspace does not exist', () => {
    given(workspaceAiPolicyDecider).when(command(true, 'member', 'bob')).thenFails('WORKSPACE.OWNER_REQUIRED');
    given(workspaceAiPolicyDecider).when(command(true, null, 'eve')).thenFails('WORKSPACE.NOT_FOUND');
  });
});

describe('AI call', () => {
  const usage: AiCallUsage = { callId: 'c', userId: 'ann', workspaceId: 'w', purpose: 'generate', provider: 'openai', model: 'm', tokensIn: 12, tokensOut: 30, latencyMs: 420, outcome: 'succeeded', costMicroUsd: 132 };

  it('records its usage once, without the prompt', () => {
    given(aiCallDecider).when({ type: 'RecordAiCall', usage, at }).then([{ type: 'AiCallRecorded', data: { ...usage, recordedAt: at } }]);
    given(aiCallDecider, { type: 'AiCallRecorded', data: { ...usage, recordedAt: at } }).when({ type: 'RecordAiCall', usage, at }).thenFails('AI_CALL.ALREADY_RECORDED');
  });

  it('refuses counts that are not whole non-negative numbers', () => {
    given(aiCallDecider).when({ type: 'RecordAiCall', usage: { ...usage, tokensIn: -1 }, at }).thenFails('AI_CALL.INVALID_USAGE');
    given(aiCallDecider).when({ type: 'RecordAiCall', usage: { ...usage, latencyMs: 1.5 }, at }).thenFails('AI_CALL.INVALID_USAGE');
  });
});
