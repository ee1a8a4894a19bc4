/**
 * Who may touch a workspace's content, as the command side asks it: a member of a workspace that is
 * not deleted, read from the `workspace_members` read model. Membership changes wait for that model
 * before they answer, so it is never behind a change the caller could know of.
 */
import type { Knex } from 'knex';

export async function isWorkspaceMember(db: Knex, workspaceId: string, userId: string): Promise<boolean> {
  const row = await db('workspace_members as m')
    .join('workspaces as w', 'w.id', 'm.workspace_id')
    .where({ 'm.workspace_id': workspaceId, 'm.user_id': userId, 'w.deleted': false })
    .first('m.role');
  return row !== undefined;
}
