/**
 * Named versions of a document ("before the rewrite"): labels on revisions, kept in a stream of their
 * own so that naming a version does not move the document's revision (and so its ETag).
 */
import type { Decider } from '../shared/decider';
import { conflict } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const documentLabelsStreamId = (documentId: string) => `document_labels-${documentId}`;

export const MAX_LABELS_PER_DOCUMENT = 1_000;

export type DocumentLabelEvent = DomainEvent<'DocumentVersionNamed', { documentId: string; revision: string; label: string | null; namedAt: string; namedBy: string }>;

export interface DocumentLabels {
  readonly count: number;
}

export type DocumentLabelCommand = {
  readonly type: 'NameVersion';
  readonly documentId: string;
  /** The document's current revision, as a decimal string (revisions are 64-bit). */
  readonly revision: string;
  readonly label: string | null;
  readonly actorId: string;
  readonly at: string;
};

export const documentLabelsDecider: Decider<DocumentLabelCommand, DocumentLabelEvent, DocumentLabels> = {
  initialState: { count: 0 },
  decide(command, state) {
    switch (command.type) {
      case 'NameVersion':
        if (state.count >= MAX_LABELS_PER_DOCUMENT) throw conflict('DOCUMENT.TOO_MANY_VERSIONS', `at most ${MAX_LABELS_PER_DOCUMENT} named versions per document`);
        return [{ type: 'DocumentVersionNamed', data: { documentId: command.documentId, revision: command.revision, label: command.label, namedAt: command.at, namedBy: command.actorId } }];
      default:
        return unreachable(command.type);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'DocumentVersionNamed':
        return { count: state.count + 1 };
      default:
        return unreachable(event.type);
    }
  },
};
