/**
 * A workspace's AI policy (the seed's "BYO vs Proxy"): whether its members may use the service's AI
 * proxy. Off until an owner turns it on; clients that bring their own key never ask us. It is its own
 * small stream beside the workspace (`workspace_ai-<id>`), so the workspace's event union, and every
 * projection that switches over it, stays as it is. Who may change it is decided here from the role
 * the caller has in the workspace, which the command carries (looked up from the workspace's stream).
 */
import type { Decider } from '../shared/decider';
import { forbidden, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const workspaceAiPolicyStreamId = (workspaceId: string) => `workspace_ai-${workspaceId}`;

export type WorkspaceAiPolicyEvent = DomainEvent<'WorkspaceAiProxySet', { workspaceId: string; enabled: boolean; setBy: string; setAt: string }>;

export interface WorkspaceAiPolicy {
  readonly aiProxy: boolean;
}

export type WorkspaceAiPolicyCommand = {
  readonly type: 'SetWorkspaceAiProxy';
  readonly workspaceId: string;
  readonly enabled: boolean;
  readonly actorId: string;
  /** The actor's role in the (live) workspace; null when they are no member or it does not exist. */
  readonly actorRole: 'owner' | 'member' | null;
  readonly at: string;
};

export const workspaceAiPolicyDecider: Decider<WorkspaceAiPolicyCommand, WorkspaceAiPolicyEvent, WorkspaceAiPolicy> = {
  initialState: { aiProxy: false },

  decide(command, state) {
    switch (command.type) {
      case 'SetWorkspaceAiProxy': {
        if (command.actorRole === null) throw notFound('WORKSPACE.NOT_FOUND', 'no such workspace');
        if (command.actorRole !== 'owner') throw forbidden('WORKSPACE.OWNER_REQUIRED', 'only an owner may do this');
        if (state.aiProxy === command.enabled) return [];
        return [{ type: 'WorkspaceAiProxySet', data: { workspaceId: command.workspaceId, enabled: command.enabled, setBy: command.actorId, setAt: command.at } }];
      }
      default:
        return unreachable(command.type);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'WorkspaceAiProxySet':
        return { aiProxy: event.data.enabled };
      default:
        return unreachable(event.type);
    }
  },
};
