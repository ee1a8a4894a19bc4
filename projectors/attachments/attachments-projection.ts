/**
 * The `attachments` read model (what each document or note has attached, for lists, downloads and the
 * command side's lookups) and `storage_deletions`, the objects the deletion reactor still has to
 * delete: a row appears with `AttachmentRemoved` and goes with `AttachmentObjectDeleted`.
 */
import type { StorageAccountEvent } from '../../domain/attachments/storage-account';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';

export const attachmentsProjection: Projection = {
  name: 'attachments',
  tables: ['attachments', 'storage_deletions'],
  handles: ['AttachmentAdded', 'AttachmentRemoved', 'AttachmentObjectDeleted'],
  apply(recorded, sql) {
    const event = recorded as unknown as StorageAccountEvent;
    const revision = recorded.streamRevision.toString();
    switch (event.type) {
      case 'AttachmentAdded': {
        const { attachmentId, ownerId, target, workspaceId, key, fileName, contentType, size, addedAt } = event.data;
        return upsertIfNewer(sql, 'attachments', ['id'], {
          id: attachmentId,
          owner_id: ownerId,
          target_kind: target.kind,
          target_id: target.id,
          workspace_id: workspaceId,
          key,
          file_name: fileName,
          content_type: contentType,
          size,
          added_at: addedAt,
          removed: false,
          revision,
        });
      }
      case 'AttachmentRemoved': {
        const { attachmentId, ownerId, key, removedAt } = event.data;
        return [
          sql('attachments').where('id', attachmentId).andWhere('revision', '<', revision).update({ removed: true, removed_at: removedAt, revision }),
          sql.raw('INSERT INTO storage_deletions (attachment_id, owner_id, key, requested_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [attachmentId, ownerId, key, removedAt]),
        ];
      }
      case 'AttachmentObjectDeleted':
        return [sql('storage_deletions').where('attachment_id', event.data.attachmentId).delete(), sql('attachments').where('id', event.data.attachmentId).delete()];
      default:
        return unreachable(event);
    }
  },
};
