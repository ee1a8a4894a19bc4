/**
 * Reading a passage the user asked for, for the query side (which may not import domain/): the
 * reference made canonical ('Romans 8' -> 'Rom.8', 'John 3:16' -> 'John.3.16') and its absolute verse
 * range (domain/scripture/verse-index.ts), which is what `note_passages.verses` stores. Pure functions
 * of the domain's scripture modules, exposed here as an adapter.
 */
import { normalizeReference } from '../../domain/scripture/references';
import { toVerseRange, type OsisRange } from '../../domain/scripture/verse-index';

export type { OsisRange } from '../../domain/scripture/verse-index';

export interface PassageQuery {
  readonly osis: OsisRange;
  /** Inclusive absolute verse indexes (Gen.1.1 = 1). */
  readonly first: number;
  readonly last: number;
}

/** The canonical passage and its verses, or undefined when the input is not exactly one reference. */
export function readPassage(input: string): PassageQuery | undefined {
  const osis = normalizeReference(input);
  if (osis === undefined) return undefined;
  const { first, last } = toVerseRange(osis);
  return { osis, first, last };
}
