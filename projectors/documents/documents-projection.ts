/**
 * The `documents` read model (current state with a search vector), `document_versions` (one row per
 * revision: who, when, what changed, size delta), and `document_labels` (named versions). A version
 * row is computed from the document row as it was before the event, in the same transaction.
 */
import type { DocumentLabelEvent } from '../../domain/documents/document-labels';
import type { DocumentEvent } from '../../domain/documents/document';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

export const documentsProjection: Projection = {
  name: 'documents',
  tables: ['documents', 'document_versions', 'document_labels'],
  handles: ['DocumentCreated', 'DocumentEdited', 'DocumentDeleted', 'DocumentRestored', 'DocumentVersionNamed'],
  apply(recorded, sql) {
    const event = recorded as unknown as DocumentEvent | DocumentLabelEvent;
    const revision = recorded.streamRevision.toString();

    /** The version row of an event that keeps title and content (delete, restore). */
    const unchangedVersion = (documentId: string, change: 'deleted' | 'restored', at: string, by: string) =>
      sql.raw(
        `INSERT INTO document_versions (document_id, revision, change, at, by, title, size, size_delta, title_changed, content_changed)
         SELECT d.id, ?, ?, ?, ?, d.title, octet_length(d.content), 0, false, false FROM documents d WHERE d.id = ? AND d.revision < ?
         ON CONFLICT DO NOTHING`,
        [revision, change, at, by, documentId, revision],
      );
    const document = (id: string) => sql('documents').where('id', id).andWhere('revision', '<', revision);

    switch (event.type) {
      case 'DocumentCreated': {
        const { documentId, workspaceId, title, content, createdAt, createdBy } = event.data;
        return [
          upsertIfNewer(sql, 'documents', ['id'], {
            id: documentId,
            workspace_id: workspaceId,
            title,
            content,
            revision,
            created_at: createdAt,
            updated_at: createdAt,
            created_by: createdBy,
            updated_by: createdBy,
            deleted: false,
          }),
          sql.raw(
            `INSERT INTO document_versions (document_id, revision, change, at, by, title, size, size_delta, title_changed, content_changed)
             VALUES (?, ?, 'created', ?, ?, ?, ?, ?, true, true) ON CONFLICT DO NOTHING`,
            [documentId, revision, createdAt, createdBy, title, bytes(content), bytes(content)],
          ),
        ];
      }
      case 'DocumentEdited': {
        const { documentId, title, content, editedAt, editedBy } = event.data;
        return [
          sql.raw(
            `INSERT INTO document_versions (document_id, revision, change, at, by, title, size, size_delta, title_changed, content_changed)
             SELECT d.id, ?, 'edited', ?, ?, ?, ?, ? - octet_length(d.content), d.title <> ?, d.content <> ?
               FROM documents d WHERE d.id = ? AND d.revision < ?
             ON CONFLICT DO NOTHING`,
            [revision, editedAt, editedBy, title, bytes(content), bytes(content), title, content, documentId, revision],
          ),
          document(documentId).update({ title, content, revision, updated_at: editedAt, updated_by: editedBy }),
        ];
      }
      case 'DocumentDeleted': {
        const { documentId, deletedAt, deletedBy } = event.data;
        return [unchangedVersion(documentId, 'deleted', deletedAt, deletedBy), document(documentId).update({ deleted: true, revision, updated_at: deletedAt, updated_by: deletedBy })];
      }
      case 'DocumentRestored': {
        const { documentId, restoredAt, restoredBy } = event.data;
        return [unchangedVersion(documentId, 'restored', restoredAt, restoredBy), document(documentId).update({ deleted: false, revision, updated_at: restoredAt, updated_by: restoredBy })];
      }
      case 'DocumentVersionNamed': {
        const { documentId, label, namedAt, namedBy } = event.data;
        return sql.raw(
          `INSERT INTO document_labels (document_id, label_revision, revision, label, named_at, named_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          [documentId, revision, event.data.revision, label, namedAt, namedBy],
        );
      }
      default:
        return unreachable(event);
    }
  },
};
