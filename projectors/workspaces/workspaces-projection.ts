/**
 * The `workspaces` and `workspace_members` read models. Membership rows are what the query side
 * authorizes with, so member changes are awaited by the command side before it answers.
 */
import { unreachable } from '../../domain/shared/events';
import type { WorkspaceEvent } from '../../domain/workspaces/workspace';
import { upsertIfNewer, type Projection } from '../runtime/projection';

export const workspacesProjection: Projection = {
  name: 'workspaces',
  tables: ['workspaces', 'workspace_members'],
  handles: ['WorkspaceCreated', 'WorkspaceRenamed', 'WorkspaceDeleted', 'MemberAdded', 'MemberRoleChanged', 'MemberRemoved'],
  apply(recorded, sql) {
    const event = recorded as unknown as WorkspaceEvent;
    const revision = recorded.streamRevision.toString();
    const workspace = (id: string) => sql('workspaces').where('id', id).andWhere('revision', '<', revision);
    switch (event.type) {
      case 'WorkspaceCreated':
        return upsertIfNewer(sql, 'workspaces', ['id'], {
          id: event.data.workspaceId,
          name: event.data.name,
          created_at: event.data.createdAt,
          updated_at: event.data.createdAt,
          deleted: false,
          revision,
        });
      case 'WorkspaceRenamed':
        return workspace(event.data.workspaceId).update({ name: event.data.name, updated_at: event.data.renamedAt, revision });
      case 'WorkspaceDeleted':
        return [
          workspace(event.data.workspaceId).update({ deleted: true, updated_at: event.data.deletedAt, revision }),
          sql('workspace_members').where('workspace_id', event.data.workspaceId).delete(),
        ];
      // Members are part of the workspace's stream, so each member change also moves the workspace's
      // revision: its ETag on the query side is the stream revision, as on the command side.
      case 'MemberAdded':
        return [
          upsertIfNewer(sql, 'workspace_members', ['workspace_id', 'user_id'], {
            workspace_id: event.data.workspaceId,
            user_id: event.data.userId,
            role: event.data.role,
            added_at: event.data.addedAt,
            revision,
          }),
          workspace(event.data.workspaceId).update({ revision }),
        ];
      case 'MemberRoleChanged':
        return [
          sql('workspace_members')
            .where({ workspace_id: event.data.workspaceId, user_id: event.data.userId })
            .andWhere('revision', '<', revision)
            .update({ role: event.data.role, revision }),
          workspace(event.data.workspaceId).update({ revision }),
        ];
      case 'MemberRemoved':
        return [
          sql('workspace_members').where({ workspace_id: event.data.workspaceId, user_id: event.data.userId }).andWhere('revision', '<', revision).delete(),
          workspace(event.data.workspaceId).update({ revision }),
        ];
      default:
        return unreachable(event);
    }
  },
};
