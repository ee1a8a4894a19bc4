import fc from 'fast-check';
import {
  BOOK_IDS,
  TOTAL_VERSES,
  bookRange,
  chapterRange,
  fromVerseIndex,
  osisToVerseRange,
  overlap,
  parseOsisRange,
  toOsisRange,
  toVerseRange,
  verseIndex,
  type OsisRange,
} from './verse-index';

const osis = (text: string) => {
  const parsed = parseOsisRange(text);
  if (parsed === undefined) throw new Error(`test passage ${text} does not parse`);
  return parsed;
};

describe('absolute verse numbers', () => {
  it('run from Genesis 1:1 = 1 to Revelation 22:21 = TOTAL_VERSES', () => {
    expect(verseIndex({ book: 'Gen', chapter: 1, verse: 1 })).toBe(1);
    expect(verseIndex({ book: 'Gen', chapter: 2, verse: 1 })).toBe(32);
    expect(verseIndex({ book: 'Exod', chapter: 1, verse: 1 })).toBe(1534); // Genesis has 1533 verses
    expect(verseIndex({ book: 'Matt', chapter: 1, verse: 1 })).toBe(23_146); // the New Testament's first verse
    expect(verseIndex({ book: 'Rev', chapter: 22, verse: 21 })).toBe(TOTAL_VERSES);
  });

  it('do not exist for verses the KJV lacks', () => {
    expect(verseIndex({ book: 'Gen', chapter: 50, verse: 27 })).toBeUndefined();
    expect(verseIndex({ book: 'Gen', chapter: 51, verse: 1 })).toBeUndefined();
    expect(verseIndex({ book: '3John', chapter: 1, verse: 15 })).toBeUndefined();
    expect(verseIndex({ book: 'John', chapter: 3, verse: 0 })).toBeUndefined();
  });

  it('map back to the same verse, for every verse of the canon', () => {
    for (let index = 1; index <= TOTAL_VERSES; index++) {
      const ref = fromVerseIndex(index);
      if (verseIndex(ref) !== index) throw new Error(`verse ${index} maps to ${JSON.stringify(ref)}`);
    }
    expect(fromVerseIndex(26_137)).toEqual({ book: 'John', chapter: 3, verse: 16 });
    expect(() => fromVerseIndex(0)).toThrow(RangeError);
    expect(() => fromVerseIndex(TOTAL_VERSES + 1)).toThrow(RangeError);
  });

  it('cover chapters and books whole', () => {
    const psalm119 = chapterRange('Ps', 119);
    expect(psalm119 && psalm119.last - psalm119.first + 1).toBe(176);
    expect(chapterRange('Ps', 151)).toBeUndefined();
    expect(bookRange('Gen')).toEqual({ first: 1, last: 1533 });
    expect(bookRange('Rev').last).toBe(TOTAL_VERSES);
    const total = BOOK_IDS.reduce((sum, book) => sum + bookRange(book).last - bookRange(book).first + 1, 0);
    expect(total).toBe(TOTAL_VERSES);
  });
});

describe('OSIS passages', () => {
  it('read as inclusive verse ranges: a chapter all its verses, a book all its chapters', () => {
    expect(toVerseRange(osis('John.3.16'))).toEqual({ first: 26_137, last: 26_137 });
    expect(toVerseRange(osis('John.3.16-John.3.18'))).toEqual({ first: 26_137, last: 26_139 });
    expect(toVerseRange(osis('Gen.1'))).toEqual({ first: 1, last: 31 });
    expect(toVerseRange(osis('Gen'))).toEqual({ first: 1, last: 1533 });
    expect(toVerseRange(osis('Gen-Exod'))).toEqual({ first: 1, last: 1533 + 1213 });
    expect(toVerseRange(osis('Jude.1.3'))).toEqual({ first: bookRange('Jude').first + 2, last: bookRange('Jude').first + 2 });
    expect(osisToVerseRange('Jude.1.3-Jude.1.3')).toEqual(toVerseRange(osis('Jude.1.3')));
  });

  it('are made canonical: the shortest form naming exactly those verses', () => {
    expect(parseOsisRange('Gen.1.1-Gen.1.31')).toBe('Gen.1');
    expect(parseOsisRange('Gen.1.1-Gen.50.26')).toBe('Gen');
    expect(parseOsisRange('Gen.1-Gen.50')).toBe('Gen');
    expect(parseOsisRange('Gen.1.1-Gen.2.25')).toBe('Gen.1-Gen.2');
    expect(parseOsisRange('Rom.8.1-Rom.8.39')).toBe('Rom.8');
    expect(parseOsisRange('Rom.8.28-Rom.8')).toBe('Rom.8.28-Rom.8.39');
    expect(parseOsisRange('Jude.1')).toBe('Jude');
    expect(parseOsisRange('Gen.50-Exod.1')).toBe('Gen.50-Exod.1');
    expect(parseOsisRange('John.3.16-John.3.16')).toBe('John.3.16');
    expect(parseOsisRange('Matt.5.3-Matt.7.29')).toBe('Matt.5.3-Matt.7.29');
  });

  it('refuse what names no verse: unknown books, missing chapters or verses, backwards ranges, loose syntax', () => {
    for (const text of ['', 'Gen.51', 'Gen.50.27', 'John.3.0', '3John.1.15', 'Rev-Gen', 'John.3.18-John.3.16', 'john.3.16', 'John 3:16', 'John.3.16-18', 'Tob.1', 'Gen.1.1.1', 'Gen.']) {
      expect([text, parseOsisRange(text)]).toEqual([text, undefined]);
    }
    expect(() => toVerseRange('John 3:16' as OsisRange)).toThrow(/not an OSIS passage/);
  });

  it('name any range so that reading the name gives the range back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: TOTAL_VERSES }), fc.integer({ min: 0, max: 3_000 }), (first, length) => {
        const range = { first, last: Math.min(TOTAL_VERSES, first + length) };
        expect(toVerseRange(toOsisRange(range))).toEqual(range);
      }),
    );
  });
});

describe('overlap between two passages', () => {
  it('counts and names the verses both cite', () => {
    expect(overlap(osis('Rom.8'), osis('Rom.8.28'))).toEqual({ count: 1, description: 'Rom.8.28' });
    expect(overlap(osis('Rom.8.26-Rom.8.30'), osis('Rom.8.28-Rom.9.5'))).toEqual({ count: 3, description: 'Rom.8.28-Rom.8.30' });
    expect(overlap(osis('Rom'), osis('Rom.8-Rom.9'))).toEqual({ count: 39 + 33, description: 'Rom.8-Rom.9' });
    expect(overlap(osis('Matt.5.3-Matt.7.29'), osis('Matt.6'))).toEqual({ count: 34, description: 'Matt.6' });
  });

  it('is undefined for passages that share no verse, even adjacent ones', () => {
    expect(overlap(osis('Rom.8'), osis('Rom.9'))).toBeUndefined();
    expect(overlap(osis('John.3.16'), osis('John.3.17'))).toBeUndefined();
  });
});
