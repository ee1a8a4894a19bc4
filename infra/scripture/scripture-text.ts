/**
 * The words of a passage, from the public-domain King James Version (1769 Oxford text) that the kjv package
 * ships with the service: what `GET /api/scripture/:reference` answers beside the normalized reference.
 *
 * The 4.7 MB verse file is read on first use, once, into one array indexed by absolute verse number (see
 * domain/scripture/verse-index.ts); the parsed JSON is dropped (not kept in require's cache). The KJV's
 * markup is removed: '#' opens a paragraph, and [brackets] mark words the translators supplied (printed
 * in italics); the words stay. A passage longer than MAX_TEXT_VERSES is refused with a 422 problem.
 */
import { readFileSync } from 'node:fs';
import { BOOK_IDS, BOOK_NAMES, TOTAL_VERSES } from '../../domain/scripture/canon-data';
import { toOsisRange, toVerseRange, verseCount, verseIndex, type OsisRange } from '../../domain/scripture/verse-index';
import { DomainError } from '../../domain/shared/errors';

export const MAX_TEXT_VERSES = 200;

export interface VerseText {
  /** The single verse, 'John.3.16'. */
  readonly osis: OsisRange;
  readonly text: string;
}

/** The kjv package's map from 'John 3:16' to the verse text. */
const KJV_VERSES_PATH = require.resolve('kjv/json/verses-1769.json');

/** KJV markup removed: the paragraph sign, the brackets around supplied words, doubled spaces. */
export function plainVerseText(kjv: string): string {
  return kjv
    .replace(/#\s*/g, '')
    .replace(/[[\]]/g, '')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

let verses: readonly string[] | undefined;

/** Text by absolute verse index (index 0 unused). Every verse of the canon must be present. */
function loadVerses(): readonly string[] {
  const parsed: unknown = JSON.parse(readFileSync(KJV_VERSES_PATH, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('kjv verses: not a JSON object');
  const bookByName = new Map<string, (typeof BOOK_IDS)[number]>(BOOK_IDS.map((id) => [BOOK_NAMES[id], id]));
  const texts: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    const match = /^(.+) (\d+):(\d+)$/.exec(key);
    const book = bookByName.get(match?.[1] ?? '');
    const index = book && match ? verseIndex({ book, chapter: Number(match[2]), verse: Number(match[3]) }) : undefined;
    if (index === undefined || typeof value !== 'string') throw new Error(`kjv verses: unexpected entry ${JSON.stringify(key)}`);
    texts[index] = plainVerseText(value);
  }
  const present = texts.filter((text) => typeof text === 'string').length;
  if (present !== TOTAL_VERSES) throw new Error(`kjv verses: ${present} verses, the canon has ${TOTAL_VERSES}`);
  return texts;
}

/** The verses of a passage in order, each with its own OSIS; a DomainError (422) beyond MAX_TEXT_VERSES. */
export function verseText(passage: OsisRange): VerseText[] {
  const range = toVerseRange(passage);
  if (verseCount(range) > MAX_TEXT_VERSES) {
    throw new DomainError('unprocessable', 'SCRIPTURE.PASSAGE_TOO_LONG', `${passage} has ${verseCount(range)} verses; at most ${MAX_TEXT_VERSES} are answered at once`);
  }
  verses ??= loadVerses();
  const answer: VerseText[] = [];
  for (let index = range.first; index <= range.last; index++) {
    const text = verses[index];
    if (text === undefined) throw new Error(`kjv verses: no text for verse ${index}`);
    answer.push({ osis: toOsisRange({ first: index, last: index }), text });
  }
  return answer;
}
