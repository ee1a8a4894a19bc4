/**
 * The `documents` read model (current state with a search vector), `document_versions` (one row per
 * revision: who, when, what changed, size delta), and `document_labels` (named versions). A version
 * row is computed from the document row as it was before the event, in the same transaction.
 */
import type { DocumentLabelEvent } from '../../domain/documents/document-labels';
import type { DocumentEvent } from '../../domain/documents/document';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';
import { versionStatements, type VersionTables } from '../versions/aggregate-versions';

const VERSION_TABLES: VersionTables = { current: 'documents', versions: 'document_versions', labels: 'document_labels', key: 'document_id' };

export const documentsProjection: Projection = {
  name: 'documents',
  tables: ['documents', 'document_versions', 'document_labels'],
  handles: ['DocumentCreated', 'DocumentEdited', 'DocumentDeleted', 'DocumentRestored', 'DocumentVersionNamed'],
  apply(recorded, sql) {
    const event = recorded as unknown as DocumentEvent | DocumentLabelEvent;
    const revision = recorded.streamRevision.toString();

    const versions = versionStatements(sql, VERSION_TABLES, revision);
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
          versions.created(documentId, createdAt, createdBy, title, content),
        ];
      }
      case 'DocumentEdited': {
        const { documentId, title, content, editedAt, editedBy } = event.data;
        return versions.editedInPlace(documentId, editedAt, editedBy, { title, content, revision, updated_at: editedAt, updated_by: editedBy });
      }
      case 'DocumentDeleted': {
        const { documentId, deletedAt, deletedBy } = event.data;
        return [versions.unchanged(documentId, 'deleted', deletedAt, deletedBy), document(documentId).update({ deleted: true, revision, updated_at: deletedAt, updated_by: deletedBy })];
      }
      case 'DocumentRestored': {
        const { documentId, restoredAt, restoredBy } = event.data;
        return [versions.unchanged(documentId, 'restored', restoredAt, restoredBy), document(documentId).update({ deleted: false, revision, updated_at: restoredAt, updated_by: restoredBy })];
      }
      case 'DocumentVersionNamed': {
        const { documentId, label, namedAt, namedBy } = event.data;
        return versions.labelled(documentId, event.data.revision, label, namedAt, namedBy);
      }
      default:
        return unreachable(event);
    }
  },
};
