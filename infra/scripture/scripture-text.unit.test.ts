import { parseOsisRange, type OsisRange } from '../../domain/scripture/verse-index';
import { DomainError } from '../../domain/shared/errors';
import { MAX_TEXT_VERSES, plainVerseText, verseText } from './scripture-text';

const osis = (text: string): OsisRange => {
  const parsed = parseOsisRange(text);
  if (parsed === undefined) throw new Error(`test passage ${text} does not parse`);
  return parsed;
};

describe('the KJV text of a passage', () => {
  it('given a verse, then its words without the paragraph sign', () => {
    expect(verseText(osis('John.3.16'))).toEqual([
      {
        osis: 'John.3.16',
        text: 'For God so loved the world, that he gave his only begotten Son, that whosoever believeth in him should not perish, but have everlasting life.',
      },
    ]);
  });

  it('given a verse with supplied words, then the brackets go and the words stay', () => {
    // The 1769 text prints "[was]" in italics: the translators' supplied word.
    expect(verseText(osis('Gen.1.2'))[0]?.text).toBe(
      'And the earth was without form, and void; and darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters.',
    );
  });

  it('given a range across chapters, then every verse in order, each with its own OSIS', () => {
    const verses = verseText(osis('Gen.1.30-Gen.2.2'));
    expect(verses.map((verse) => verse.osis)).toEqual(['Gen.1.30', 'Gen.1.31', 'Gen.2.1', 'Gen.2.2']);
    expect(verses[2]?.text).toBe('Thus the heavens and the earth were finished, and all the host of them.');
  });

  it('given a chapter or a whole short book, then all of its verses', () => {
    expect(verseText(osis('Ps.23'))).toHaveLength(6);
    expect(verseText(osis('Jude'))).toHaveLength(25);
    expect(verseText(osis('3John')).map((verse) => verse.osis).at(-1)).toBe('3John.1.14');
  });

  it('no verse of the canon keeps KJV markup', () => {
    const everyVerse = verseText(osis('Ps.119')).concat(verseText(osis('Rev.22')), verseText(osis('Gen.1')));
    for (const { text } of everyVerse) expect(text).not.toMatch(/[#[\]]|\s{2}|^\s|\s$/);
  });

  it(`given more than ${MAX_TEXT_VERSES} verses, then a 422 problem with a stable code`, () => {
    expect(verseText(osis('Gen.1.1-Gen.8.16'))).toHaveLength(200); // exactly the limit: answered
    expect(() => verseText(osis('Gen.1.1-Gen.8.17'))).toThrow(DomainError);
    const tooLong = () => verseText(osis('Gen'));
    expect(tooLong).toThrow(DomainError);
    expect(tooLong).toThrow(expect.objectContaining({ kind: 'unprocessable', code: 'SCRIPTURE.PASSAGE_TOO_LONG' }));
  });
});

describe('KJV markup', () => {
  it('removes the paragraph sign and the brackets, and tidies the spaces', () => {
    expect(plainVerseText('# In the beginning [was] the Word')).toBe('In the beginning was the Word');
    expect(plainVerseText('and [it was]  so. ')).toBe('and it was so.');
  });
});
