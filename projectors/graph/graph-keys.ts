/**
 * How the cross-reference graph encodes passages in its tables, shared by the `graph` projection that
 * writes them and the graph queries that read them (the query side may not read the domain, so the
 * scripture arithmetic it needs is reached through here).
 *
 *  - A note's verses are merged into disjoint ranges and cut at chapter boundaries: its *segments*.
 *    A chapter is keyed by the absolute index of its first verse.
 *  - Its *links* are the Treasury of Scripture Knowledge links out of those verses to verses the note
 *    does not cite, strongest first. Passages longer than MAX_LINKED_PASSAGE_VERSES (a whole book, a
 *    run of chapters) contribute no links: the Treasury links nearly every verse, so a whole book would
 *    "cross-reference" everything and drown the real links. At most MAX_LINKS_PER_NOTE links are kept.
 */
import { chapterRange, fromVerseIndex, osisToVerseRange, toOsisRange, verseCount, type VerseRange } from '../../domain/scripture/verse-index';
import { normalizeReference } from '../../domain/scripture/references';
import { crossReferences, MAX_CROSS_REFERENCE_LIMIT } from '../../infra/scripture/cross-references';

/** The longest chapter (Ps.119) is 176 verses: any one chapter, or a passage within one, links. */
export const MAX_LINKED_PASSAGE_VERSES = 200;
export const MAX_LINKS_PER_NOTE = 2_000;

export interface Segment {
  /** The chapter's key: the absolute index of its first verse. */
  readonly chapter: number;
  readonly first: number;
  readonly last: number;
}

export interface Link {
  readonly from: number;
  readonly to: number;
  readonly toChapter: number;
  /** 2 when the Treasury links both ways, else 1. */
  readonly weight: number;
}

/** The key of the chapter a verse is in. */
export function chapterOf(verse: number): number {
  const { book, chapter } = fromVerseIndex(verse);
  return chapterRange(book, chapter)?.first ?? verse;
}

/** The verse ranges of OSIS passages (ones that do not parse are left out), merged and sorted. */
export function mergedRanges(passages: readonly string[]): VerseRange[] {
  const ranges = passages
    .map((passage) => osisToVerseRange(passage))
    .filter((range): range is VerseRange => range !== undefined)
    .sort((a, b) => a.first - b.first || a.last - b.last);
  const merged: Array<{ first: number; last: number }> = [];
  for (const range of ranges) {
    const previous = merged[merged.length - 1];
    if (previous && range.first <= previous.last + 1) previous.last = Math.max(previous.last, range.last);
    else merged.push({ first: range.first, last: range.last });
  }
  return merged;
}

/** A range cut at chapter boundaries. */
export function splitByChapter(range: VerseRange): Segment[] {
  const segments: Segment[] = [];
  let first = range.first;
  while (first <= range.last) {
    const { book, chapter } = fromVerseIndex(first);
    const whole = chapterRange(book, chapter);
    const chapterLast = whole ? whole.last : first;
    const last = Math.min(chapterLast, range.last);
    segments.push({ chapter: whole ? whole.first : first, first, last });
    first = last + 1;
  }
  return segments;
}

/** The segments of the verses a note cites. */
export function segmentsOf(passages: readonly string[]): Segment[] {
  return mergedRanges(passages).flatMap(splitByChapter);
}

/** The Treasury's links out of the note's (short enough) passages to verses it does not cite. */
export function linksOf(passages: readonly string[]): Link[] {
  const cited = mergedRanges(passages);
  const citedVerse = (verse: number) => cited.some((range) => verse >= range.first && verse <= range.last);
  const strongest = new Map<string, Link>();
  for (const passage of passages) {
    const range = osisToVerseRange(passage);
    if (range === undefined || verseCount(range) > MAX_LINKED_PASSAGE_VERSES) continue;
    for (const reference of crossReferences(toOsisRange(range), MAX_CROSS_REFERENCE_LIMIT)) {
      const from = osisToVerseRange(reference.from)?.first;
      const to = osisToVerseRange(reference.to)?.first;
      if (from === undefined || to === undefined || citedVerse(to)) continue;
      const key = `${from}-${to}`;
      const known = strongest.get(key);
      if (!known || known.weight < reference.weight) strongest.set(key, { from, to, toChapter: chapterOf(to), weight: reference.weight });
    }
  }
  return [...strongest.values()].sort((a, b) => b.weight - a.weight || a.from - b.from || a.to - b.to).slice(0, MAX_LINKS_PER_NOTE);
}

// ---- for the query side --------------------------------------------------------------------------

/** A user's passage ('Rom 8', 'John.3.16') as its verse range and canonical OSIS, or undefined. */
export function passageQuery(text: string): { osis: string; first: number; last: number; chapters: number[] } | undefined {
  const osis = normalizeReference(text);
  const range = osis === undefined ? undefined : osisToVerseRange(osis);
  if (osis === undefined || range === undefined) return undefined;
  return { osis, first: range.first, last: range.last, chapters: splitByChapter(range).map((segment) => segment.chapter) };
}

/** A verse range as canonical OSIS ('Rom.8.28', 'Rom.8', 'Rom.8.28-Rom.8.30'). */
export const describeRange = (first: number, last: number): string => toOsisRange({ first, last });

/** A chapter key as OSIS ('Rom.8'). */
export function describeChapter(chapter: number): string {
  const { book, chapter: number } = fromVerseIndex(chapter);
  return `${book}.${number}`;
}
