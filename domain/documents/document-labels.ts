/**
 * Named versions of a document ("before the rewrite"): labels on revisions, kept in a stream of their
 * own so that naming a version does not move the document's revision (and so its ETag). The decider is
 * the shared one (domain/shared/version-labels.ts).
 */
import { versionLabelsDecider, type VersionNamed } from '../shared/version-labels';

export const documentLabelsStreamId = (documentId: string) => `document_labels-${documentId}`;

export const MAX_LABELS_PER_DOCUMENT = 1_000;

export type DocumentLabelEvent = VersionNamed<'DocumentVersionNamed', 'documentId'>;

export const documentLabelsDecider = versionLabelsDecider({
  eventType: 'DocumentVersionNamed',
  idKey: 'documentId',
  tooManyCode: 'DOCUMENT.TOO_MANY_VERSIONS',
  noun: 'document',
  max: MAX_LABELS_PER_DOCUMENT,
});
