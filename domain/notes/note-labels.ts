/** Named versions of a note: the shared version-labels decider (domain/shared/version-labels.ts) on a stream of its own. */
import { versionLabelsDecider, type VersionNamed } from '../shared/version-labels';

export const noteLabelsStreamId = (noteId: string) => `note_labels-${noteId}`;

export const MAX_LABELS_PER_NOTE = 1_000;

export type NoteLabelEvent = VersionNamed<'NoteVersionNamed', 'noteId'>;

export const noteLabelsDecider = versionLabelsDecider({
  eventType: 'NoteVersionNamed',
  idKey: 'noteId',
  tooManyCode: 'NOTE.TOO_MANY_VERSIONS',
  noun: 'note',
  max: MAX_LABELS_PER_NOTE,
});
