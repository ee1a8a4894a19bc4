import { readFileSync } from 'node:fs';
import { bcv_parser } from 'bible-passage-reference-parser/cjs/en_bcv_parser.js';
import { BOOK_IDS, BOOK_NAMES, TOTAL_VERSES, VERSES_PER_CHAPTER } from '../../domain/scripture/canon-data';
import { CANON_MODULE_PATH, canonFromKjv, readKjvVerses, renderCanonModule } from './generate-canon';

describe('the generated canon module', () => {
  // Read once for the file: the kjv verse list is 4.7 MB.
  const canon = canonFromKjv(readKjvVerses());

  it('says what the kjv verse list says: books, names, verses per chapter', () => {
    expect(canon.map((book) => book.id)).toEqual([...BOOK_IDS]);
    expect(Object.fromEntries(canon.map((book) => [book.id, book.name]))).toEqual(BOOK_NAMES);
    expect(Object.fromEntries(canon.map((book) => [book.id, book.verses]))).toEqual(VERSES_PER_CHAPTER);
    expect(canon.flatMap((book) => book.verses).reduce((a, b) => a + b, 0)).toBe(TOTAL_VERSES);
  });

  it('is exactly what the generator writes (nobody edited it by hand)', () => {
    expect(readFileSync(CANON_MODULE_PATH, 'utf8')).toBe(renderCanonModule(canon));
  });

  it('agrees with the versification the reference parser validates against', () => {
    // references.ts lets the parser refuse "Gen 50:27"; both must mean the same verses.
    const info = new bcv_parser().translation_info('kjv') as { chapters: Record<string, number[]> };
    for (const id of BOOK_IDS) expect([id, info.chapters[id]]).toEqual([id, VERSES_PER_CHAPTER[id]]);
  });

  it('knows the landmarks', () => {
    expect(BOOK_IDS).toHaveLength(66);
    expect(TOTAL_VERSES).toBe(31_102);
    expect(VERSES_PER_CHAPTER.Ps).toHaveLength(150);
    expect(VERSES_PER_CHAPTER.Ps[118]).toBe(176);
    expect(VERSES_PER_CHAPTER['3John']).toEqual([14]); // KJV numbering: 14, not 15
    expect(BOOK_NAMES.Song).toBe("Solomon's Song");
  });
});

describe('deriving the canon', () => {
  const verses = (keys: string[]) => new Map(keys.map((key) => [key, 'text']));

  it('counts verses per chapter and maps KJV names to OSIS ids', () => {
    expect(canonFromKjv(verses(['Genesis 1:1', 'Genesis 1:2', 'Genesis 2:1', "Solomon's Song 1:1"]))).toEqual([
      { id: 'Gen', name: 'Genesis', verses: [2, 1] },
      { id: 'Song', name: "Solomon's Song", verses: [1] },
    ]);
  });

  it('refuses gaps, disorder and names the parser does not know', () => {
    expect(() => canonFromKjv(verses(['Genesis 1:1', 'Genesis 1:3']))).toThrow(/out of order/);
    expect(() => canonFromKjv(verses(['Genesis 1:1', 'Genesis 3:1']))).toThrow(/out of order/);
    expect(() => canonFromKjv(verses(['Genesis 1:1', 'Exodus 1:1', 'Genesis 2:1']))).toThrow(/out of order/);
    expect(() => canonFromKjv(verses(['Genesis 1']))).toThrow(/unexpected verse key/);
    expect(() => canonFromKjv(verses(['Hezekiah 1:1']))).toThrow(/does not read/);
  });
});
