/**
 * The `sync` projection: the state every sync client converges to, one row per entity, each stamped
 * with the log position of its last change so that a pull can ask "what changed after my cursor".
 * Its rows and its checkpoint commit together, so a reader's snapshot always shows the log applied up
 * to exactly that checkpoint: the cursor it hands out never passes a change it has not shown.
 */
import type { DocumentEvent } from '../../domain/documents/document';
import type { NoteEvent } from '../../domain/notes/note';
import type { PrayerPointEvent } from '../../domain/prayer-points/prayer-point';
import { unreachable } from '../../domain/shared/events';
import type { UserEvent } from '../../domain/users/user';
import type { WorkspaceEvent } from '../../domain/workspaces/workspace';
import { PRAYER_POINT_EVENTS, prayerPointChanges } from '../prayer-points/prayer-points-projection';
import { NOTE_SYNC_EVENTS, noteSyncStatement } from '../notes/notes-sync';
import type { Projection } from '../runtime/projection';
import { CIRCLE_SYNC_EVENTS, CIRCLE_SYNC_TABLES, circleSyncStatements, isCircleSyncEvent } from '../circles/circles-sync';

type SyncedEvent = WorkspaceEvent | DocumentEvent | UserEvent | PrayerPointEvent | NoteEvent;

export const syncProjection: Projection = {
  name: 'sync',
  tables: ['sync_workspaces', 'sync_users', 'sync_members', 'sync_documents', 'sync_prayer_points', 'sync_notes', ...CIRCLE_SYNC_TABLES],
  handles: [
    'WorkspaceCreated',
    'WorkspaceRenamed',
    'WorkspaceDeleted',
    'MemberAdded',
    'MemberRoleChanged',
    'MemberRemoved',
    'UserSignedUp',
    'UserDisplayNameChanged',
    'UserPasswordChanged',
    'UserPasswordHashRenewed',
    'DocumentCreated',
    'DocumentEdited',
    'DocumentDeleted',
    'DocumentRestored',
    ...PRAYER_POINT_EVENTS,
    ...NOTE_SYNC_EVENTS,
    ...CIRCLE_SYNC_EVENTS,
  ],
  apply(recorded, sql) {
    // Circles, their members and what is shared with them: see ../circles/circles-sync.ts.
    if (isCircleSyncEvent(recorded)) return circleSyncStatements(recorded, sql);
    const event = recorded as unknown as SyncedEvent;
    const revision = recorded.streamRevision.toString();
    const position = recorded.position;
    const changedAt = recorded.metadata.occurredAt;
    const change = { revision, position, changed_at: changedAt };
    const workspace = (id: string) => sql('sync_workspaces').where('id', id).andWhere('revision', '<', revision);
    const member = (workspaceId: string, userId: string) =>
      sql('sync_members').where({ workspace_id: workspaceId, user_id: userId }).andWhere('revision', '<', revision);
    const document = (id: string) => sql('sync_documents').where('id', id).andWhere('revision', '<', revision);

    switch (event.type) {
      case 'WorkspaceCreated':
        return sql('sync_workspaces')
          .insert({ id: event.data.workspaceId, name: event.data.name, created_at: event.data.createdAt, deleted: false, ...change })
          .onConflict('id')
          .ignore();
      case 'WorkspaceRenamed':
        return workspace(event.data.workspaceId).update({ name: event.data.name, ...change });
      case 'WorkspaceDeleted':
        return [
          workspace(event.data.workspaceId).update({ deleted: true, ...change }),
          // Every member loses the workspace: each gets one delete, and nothing more from it.
          sql('sync_members').where({ workspace_id: event.data.workspaceId, removed: false }).update({ removed: true, ...change }),
        ];
      case 'MemberAdded':
        return sql.raw(
          `INSERT INTO sync_members (workspace_id, user_id, role, added_at, removed, joined_position, revision, position, changed_at)
           VALUES (?, ?, ?, ?, false, ?, ?, ?, ?)
           ON CONFLICT (workspace_id, user_id) DO UPDATE
             SET role = EXCLUDED.role, added_at = EXCLUDED.added_at, removed = false, joined_position = EXCLUDED.joined_position,
                 revision = EXCLUDED.revision, position = EXCLUDED.position, changed_at = EXCLUDED.changed_at
           WHERE sync_members.revision < EXCLUDED.revision`,
          [event.data.workspaceId, event.data.userId, event.data.role, event.data.addedAt, position, revision, position, changedAt],
        );
      case 'MemberRoleChanged':
        return member(event.data.workspaceId, event.data.userId).update({ role: event.data.role, ...change });
      case 'MemberRemoved':
        return member(event.data.workspaceId, event.data.userId).update({ removed: true, ...change });
      case 'UserSignedUp':
        return sql('sync_users').insert({ id: event.data.userId, email: event.data.email, display_name: event.data.displayName }).onConflict('id').ignore();
      case 'UserDisplayNameChanged':
        return [
          sql('sync_users').where('id', event.data.userId).update({ display_name: event.data.displayName }),
          // Memberships show the member's name: each one of theirs is a change to send.
          sql('sync_members').where({ user_id: event.data.userId, removed: false }).update({ position, changed_at: changedAt }),
        ];
      case 'UserPasswordChanged':
      case 'UserPasswordHashRenewed':
        return [];
      case 'DocumentCreated':
        return sql('sync_documents')
          .insert({
            id: event.data.documentId,
            workspace_id: event.data.workspaceId,
            title: event.data.title,
            content: event.data.content,
            created_at: event.data.createdAt,
            updated_at: event.data.createdAt,
            created_by: event.data.createdBy,
            updated_by: event.data.createdBy,
            deleted: false,
            ...change,
          })
          .onConflict('id')
          .ignore();
      case 'DocumentEdited':
        return document(event.data.documentId).update({
          title: event.data.title,
          content: event.data.content,
          updated_at: event.data.editedAt,
          updated_by: event.data.editedBy,
          ...change,
        });
      case 'DocumentDeleted':
        return document(event.data.documentId).update({ deleted: true, updated_at: event.data.deletedAt, updated_by: event.data.deletedBy, ...change });
      case 'DocumentRestored':
        return document(event.data.documentId).update({ deleted: false, updated_at: event.data.restoredAt, updated_by: event.data.restoredBy, ...change });
      case 'PrayerPointCreated':
        return sql('sync_prayer_points').insert({ ...prayerPointChanges(event), ...change }).onConflict('id').ignore();
      case 'PrayerPointEdited':
      case 'PrayerPointAnswered':
      case 'PrayerPointReopened':
      case 'PrayerPointDeleted':
      case 'PrayerPointRestored':
        // The owner's feed: one whole-entity change (a tombstone once deleted), like a document's.
        return sql('sync_prayer_points').where('id', event.data.prayerPointId).andWhere('revision', '<', revision).update({ ...prayerPointChanges(event), ...change });
      case 'NoteCreated':
      case 'NoteEdited':
      case 'NoteScriptureReviewed':
      case 'NoteDeleted':
      case 'NoteRestored':
        // The owner's feed: one whole-entity change (a tombstone once deleted), like a document's.
        return noteSyncStatement(event, sql, change);
      default:
        return unreachable(event);
    }
  },
};
