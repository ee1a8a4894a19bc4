/**
 * Verse numbering over the whole Protestant canon (66 books, KJV versification): every verse gets an
 * absolute index, Genesis 1:1 = 1 to Revelation 22:21 = TOTAL_VERSES, so that any passage is one inclusive
 * integer range (a PostgreSQL int4range, overlap `&&`, GiST-indexed) and passage search is range overlap.
 *
 * It also owns `OsisRange`, the one canonical text form of a passage: the shortest OSIS that names exactly
 * those verses, both ends at the same precision ('Gen', 'Gen-Exod', 'Rom.8', 'Gen.1-Gen.3',
 * 'John.3.16', 'John.3.16-John.3.18'). Equal passages therefore have equal strings. Pure data and
 * arithmetic over canon-data.ts; no I/O.
 */
import { BOOK_IDS, TOTAL_VERSES, VERSES_PER_CHAPTER, type BookId } from './canon-data';

export { BOOK_IDS, TOTAL_VERSES, type BookId };

/** A canonical OSIS passage, only ever made by this module (parseOsisRange, toOsisRange) or references.ts. */
export type OsisRange = string & { readonly __brand: 'OsisRange' };

/** Inclusive absolute verse indexes, 1 ..= TOTAL_VERSES, first <= last. */
export interface VerseRange {
  readonly first: number;
  readonly last: number;
}

export interface VerseRef {
  readonly book: BookId;
  readonly chapter: number;
  readonly verse: number;
}

// ---- the numbering, computed once from canon-data --------------------------------------------------

const BOOK_ORDER = new Map<string, number>(BOOK_IDS.map((id, order) => [id, order]));
/** CHAPTER_FIRST[book order][chapter - 1]: the absolute index of the chapter's verse 1. */
const CHAPTER_FIRST: readonly (readonly number[])[] = (() => {
  let next = 1;
  return BOOK_IDS.map((id) =>
    VERSES_PER_CHAPTER[id].map((verses) => {
      const first = next;
      next += verses;
      return first;
    }),
  );
})();
const BOOK_RANGES: readonly VerseRange[] = BOOK_IDS.map((book, order) => {
  const chapters = CHAPTER_FIRST[order] ?? [];
  const lastChapter = VERSES_PER_CHAPTER[book].length;
  return { first: chapters[0] ?? 0, last: (chapters[lastChapter - 1] ?? 0) + (VERSES_PER_CHAPTER[book][lastChapter - 1] ?? 0) - 1 };
});
/** Flat per chapter, in canon order, for the binary search of fromVerseIndex. */
const CHAPTERS: readonly { readonly book: BookId; readonly chapter: number; readonly first: number }[] = BOOK_IDS.flatMap((book, order) =>
  (CHAPTER_FIRST[order] ?? []).map((first, index) => ({ book, chapter: index + 1, first })),
);

export const isBookId = (value: string): value is BookId => BOOK_ORDER.has(value);

export const bookOrder = (book: BookId): number => BOOK_ORDER.get(book) ?? -1;

export const chapterCount = (book: BookId): number => VERSES_PER_CHAPTER[book].length;

/** Verses in a chapter, 0 when the chapter does not exist. */
export const versesInChapter = (book: BookId, chapter: number): number => VERSES_PER_CHAPTER[book][chapter - 1] ?? 0;

/** The absolute index of a verse, undefined when the canon has no such verse. */
export function verseIndex(ref: VerseRef): number | undefined {
  const { book, chapter, verse } = ref;
  if (!Number.isInteger(chapter) || !Number.isInteger(verse) || verse < 1 || verse > versesInChapter(book, chapter)) return undefined;
  const first = CHAPTER_FIRST[bookOrder(book)]?.[chapter - 1];
  return first === undefined ? undefined : first + verse - 1;
}

/** The verse at an absolute index; a RangeError outside 1 ..= TOTAL_VERSES. */
export function fromVerseIndex(index: number): VerseRef {
  if (!Number.isInteger(index) || index < 1 || index > TOTAL_VERSES) throw new RangeError(`no verse ${index} in the canon (1..${TOTAL_VERSES})`);
  let low = 0;
  let high = CHAPTERS.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((CHAPTERS[middle]?.first ?? Infinity) <= index) low = middle;
    else high = middle - 1;
  }
  const chapter = CHAPTERS[low];
  if (chapter === undefined) throw new RangeError(`no verse ${index} in the canon`);
  return { book: chapter.book, chapter: chapter.chapter, verse: index - chapter.first + 1 };
}

/** Every verse of a chapter, undefined when the chapter does not exist. */
export function chapterRange(book: BookId, chapter: number): VerseRange | undefined {
  const verses = versesInChapter(book, chapter);
  const first = verses > 0 ? verseIndex({ book, chapter, verse: 1 }) : undefined;
  return first === undefined ? undefined : { first, last: first + verses - 1 };
}

/** Every verse of a book. */
export const bookRange = (book: BookId): VerseRange => BOOK_RANGES[bookOrder(book)] ?? { first: 1, last: TOTAL_VERSES };

export const verseCount = (range: VerseRange): number => range.last - range.first + 1;

// ---- OSIS text <-> verse ranges ----------------------------------------------------------------------

/** The shortest OSIS naming exactly these verses: whole books, else whole chapters, else verses. */
export function toOsisRange(range: VerseRange): OsisRange {
  if (range.last < range.first) throw new RangeError(`a range ends before it starts: ${range.first}..${range.last}`);
  const start = fromVerseIndex(range.first);
  const end = fromVerseIndex(range.last);
  const startsBook = range.first === bookRange(start.book).first;
  const endsBook = range.last === bookRange(end.book).last;
  if (startsBook && endsBook) return osis(start.book === end.book ? start.book : `${start.book}-${end.book}`);
  const startsChapter = start.verse === 1;
  const endsChapter = end.verse === versesInChapter(end.book, end.chapter);
  if (startsChapter && endsChapter) {
    const from = `${start.book}.${start.chapter}`;
    const to = `${end.book}.${end.chapter}`;
    return osis(from === to ? from : `${from}-${to}`);
  }
  const from = `${start.book}.${start.chapter}.${start.verse}`;
  const to = `${end.book}.${end.chapter}.${end.verse}`;
  return osis(from === to ? from : `${from}-${to}`);
}

const OSIS_POINT = '([1-3]?[A-Z][a-z]+)(?:\\.(\\d{1,3})(?:\\.(\\d{1,3}))?)?';
const OSIS_RANGE = new RegExp(`^${OSIS_POINT}(?:-${OSIS_POINT})?$`);

/**
 * Reads OSIS text ('Rom.8', 'John.3.16-John.3.18', 'Gen.1.1-Gen.1.31', 'Gen-Exod'): strict syntax, book
 * ids as OSIS spells them, every verse existing, end not before start. Answers the verse range, or
 * undefined. A book or chapter at the start means its first verse, at the end its last.
 */
export function osisToVerseRange(text: string): VerseRange | undefined {
  const match = OSIS_RANGE.exec(text);
  if (!match) return undefined;
  const [, startBook = '', startChapter, startVerse, endBook, endChapter, endVerse] = match;
  const first = pointIndex(startBook, startChapter, startVerse, 'first');
  const last = endBook === undefined ? pointIndex(startBook, startChapter, startVerse, 'last') : pointIndex(endBook, endChapter, endVerse, 'last');
  return first !== undefined && last !== undefined && first <= last ? { first, last } : undefined;
}

function pointIndex(bookText: string, chapterText: string | undefined, verseText: string | undefined, end: 'first' | 'last'): number | undefined {
  if (!isBookId(bookText)) return undefined;
  if (chapterText === undefined) return bookRange(bookText)[end];
  const chapter = Number(chapterText);
  if (verseText === undefined) return chapterRange(bookText, chapter)?.[end];
  return verseIndex({ book: bookText, chapter, verse: Number(verseText) });
}

/** OSIS text made canonical ('Gen.1.1-Gen.1.31' -> 'Gen.1'), or undefined when it names no verses. */
export function parseOsisRange(text: string): OsisRange | undefined {
  const range = osisToVerseRange(text);
  return range === undefined ? undefined : toOsisRange(range);
}

/** The verses of a canonical passage. An OsisRange that does not parse was not made here: an Error. */
export function toVerseRange(passage: OsisRange): VerseRange {
  const range = osisToVerseRange(passage);
  if (range === undefined) throw new Error(`not an OSIS passage: ${JSON.stringify(passage)}`);
  return range;
}

/** The verses two passages share ("both cite Rom.8.28"), or undefined when they share none. */
export function overlap(a: OsisRange, b: OsisRange): { count: number; description: OsisRange } | undefined {
  const ra = toVerseRange(a);
  const rb = toVerseRange(b);
  const first = Math.max(ra.first, rb.first);
  const last = Math.min(ra.last, rb.last);
  return first > last ? undefined : { count: last - first + 1, description: toOsisRange({ first, last }) };
}

/** Canon order, then shorter first: how passages are listed. */
export const compareRanges = (a: VerseRange, b: VerseRange): number => a.first - b.first || a.last - b.last;

const osis = (text: string) => text as OsisRange;
