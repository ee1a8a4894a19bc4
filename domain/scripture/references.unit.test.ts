import { MAX_SCANNED_CHARACTERS, detectReferences, normalizeReference } from './references';

/** Sentences as people write them in notes, and the passages they cite (canon order, each once). */
const CITING: Array<[text: string, cites: string[]]> = [
  // verses and ranges
  ['Read John 3:16-18 tonight.', ['John.3.16-John.3.18']],
  ['John 3:16–18 (en dash)', ['John.3.16-John.3.18']],
  ['Paul says it in Rom 8:28—30, em dash and all', ['Rom.8.28-Rom.8.30']],
  ['The sermon covered Matt 5:3-7:29, the whole Sermon on the Mount.', ['Matt.5.3-Matt.7.29']],
  ['Rev 21:1-22:5 describes the new Jerusalem', ['Rev.21.1-Rev.22.5']],
  ['Memorise Phil 4:13 this week', ['Phil.4.13']],
  ['Faith is defined in Heb. 11:1', ['Heb.11.1']],
  ['John 3.16 with a full stop as separator', ['John.3.16']],
  ['Start at Gen 1:1a, the first clause', ['Gen.1.1']],
  ['Deut 6:4ff is the Shema', ['Deut.6.4-Deut.6.25']],
  ['Sing Jude 24-25 as a doxology', ['Jude.1.24-Jude.1.25']],
  ['Philemon 6 speaks of fellowship', ['Phlm.1.6']],
  ['Compare Phil 2:5-11 (NIV) with the KJV', ['Phil.2.5-Phil.2.11']],
  // chapters, and books spelled out as chapters
  ['Gen 1 and Romans 8 side by side', ['Gen.1', 'Rom.8']],
  ['Ps 23 at the funeral', ['Ps.23']],
  ['We read Genesis 1-3 in the first week', ['Gen.1-Gen.3']],
  ['Obadiah 1 is the whole prophecy', ['Obad']],
  ['in chapter 23 of Matthew Jesus rebukes the Pharisees', ['Matt.23']],
  // lists
  ['Rom 8:28; Gen 50:20, John 3:16', ['Gen.50.20', 'John.3.16', 'Rom.8.28']],
  ['Luke 2:1-20, 24:13-35 for the Christmas and Easter readings', ['Luke.2.1-Luke.2.20', 'Luke.24.13-Luke.24.35']],
  ['John 3:16, 18 contrast belief and unbelief', ['John.3.16', 'John.3.18']],
  ['Isaiah 53:5 and Ps 22:16-18 are read on Good Friday', ['Ps.22.16-Ps.22.18', 'Isa.53.5']],
  ['Romans 8 (ESV), 1 John 4:8', ['Rom.8', '1John.4.8']],
  ['Pray Rom 8:28 12 times a day', ['Rom.8.28']], // R4: the bare 12 does not continue it
  // numbered books
  ['Love is patient: 1 Cor 13:4-7', ['1Cor.13.4-1Cor.13.7']],
  ['Elijah is taken up in II Kings 2', ['2Kgs.2']],
  ['3 John 4 is short', ['3John.1.4']],
  ['A royal priesthood, 1st Peter 2:9', ['1Pet.2.9']],
  ['First Thessalonians 4:13-18 on grief', ['1Thess.4.13-1Thess.4.18']],
  ['II Cor 5:17, a new creation', ['2Cor.5.17']],
  ['1 cor 13 typed in a hurry', ['1Cor.13']],
  // abbreviations
  ['The Beatitudes start at Mt 5:3', ['Matt.5.3']],
  ['Jn 1:1 and then jn 3:16 in lower case', ['John.1.1', 'John.3.16']],
  ['Ex 20:1-17, the ten commandments', ['Exod.20.1-Exod.20.17']],
  ['Is 40:31 and Am 5:24 need the verse to count', ['Isa.40.31', 'Amos.5.24']],
  ['Psalm 119:105, a lamp', ['Ps.119.105']],
  ['cf. Eph 2:8-9', ['Eph.2.8-Eph.2.9']],
  ['ps 23:1-3 lower case with a verse is fine', ['Ps.23.1-Ps.23.3']],
  ['Song of Solomon 2:1, the rose of Sharon', ['Song.2.1']],
];

/** Sentences the parser alone would read as references, and the filter rule that refuses them. */
const NOT_CITING: Array<[text: string, rule: string]> = [
  ['I am 1 of many', 'R1: "am" is a word, not Amos'],
  ['see ex 2', 'R2: lower-case short abbreviation without a verse'],
  ['she is 2 cool', 'R1'],
  ['so 2 of them came', 'R1'],
  ['the meeting is 10:30 tomorrow', 'R1: only Title-case with chapter:verse'],
  ['He is 5 years old', 'R1'],
  ['at 9 am 10 people came', 'R1'],
  ['on Mar 15 we met', 'R1: a month'],
  ['Row 3, Col 4 of the sheet', 'R1: a column'],
  ['Act 2, Scene 1', 'R1: a play'],
  ['PS 2 more things', 'R2: all-caps short abbreviation'],
  ['pr 42 merged', 'R2'],
  ['mark 2 as done', 'R2: lower-case common word'],
  ['the numbers 1 to 5 are odd', 'R2'],
  ['my job 2 days a week', 'R2'],
  ['read Acts 2 of the story', 'R3: "of" after a number'],
  ['Mark 2 hours for it', 'R3: a unit after a number'],
  ['I love Romans and Job.', 'books alone are ignored'],
  ['Gen 50:27 does not exist', 'no such verse'],
  ['Ps 151 is in the Apocrypha', 'no such chapter in the 66 books'],
  ['Tobit 1 is deuterocanonical', 'the Apocrypha is not searched'],
];

describe('detecting the passages a note cites', () => {
  it('given the two known false positives, when detected, then nothing is found', () => {
    expect(detectReferences('I am 1 of many')).toEqual([]);
    expect(detectReferences('see ex 2')).toEqual([]);
  });

  it.each(CITING)('given %j, when detected, then it cites %j', (text, cites) => {
    expect(detectReferences(text)).toEqual(cites);
  });

  it.each(NOT_CITING)('given %j, when detected, then nothing is found (%s)', (text) => {
    expect(detectReferences(text)).toEqual([]);
  });

  it('given Title-case abbreviations without a verse, then they are trusted', () => {
    expect(detectReferences('see Ex 2 and Job 1 and Rev 2')).toEqual(['Exod.2', 'Job.1', 'Rev.2']);
  });

  it('given one part of a list refused, then the parts continuing it are refused too', () => {
    expect(detectReferences('is 2, 3:4')).toEqual([]);
    expect(detectReferences('Rom 8:28; is 2')).toEqual(['Rom.8.28']);
  });

  it('given bare numbers after a reference, then they do not continue it (R4)', () => {
    expect(detectReferences('John 3:16 12 34')).toEqual(['John.3.16']);
    expect(detectReferences('John 3:16, 18')).toEqual(['John.3.16', 'John.3.18']);
  });

  it('given a passage cited twice, then it is listed once, in canon order', () => {
    expect(detectReferences('John 3:16 first, then Gen 1, and John 3:16 again; also Gen.1.1-Gen.1.31')).toEqual(['Gen.1', 'John.3.16']);
  });

  it('given a long note, then references anywhere in it are found, and prose alone costs little', () => {
    const prose = 'And the earth was without form, and void; and darkness was upon the face of the deep. '.repeat(200);
    const note = `Rom 8:28 opens. ${prose} In the middle, Gen 50:20. ${prose} Closing with John 3:16`;
    expect(detectReferences(note)).toEqual(['Gen.50.20', 'John.3.16', 'Rom.8.28']);
    expect(detectReferences(prose)).toEqual([]);
    expect(detectReferences('')).toEqual([]);
  });

  it('given more digit-bearing text than MAX_SCANNED_CHARACTERS, then references past it are not seen', () => {
    const numbers = 'item12 '.repeat(Math.ceil(MAX_SCANNED_CHARACTERS / 7));
    expect(detectReferences(`John 3:16 ${numbers} Rom 8:28`)).toEqual(['John.3.16']);
  });
});

describe('normalizing a reference a user typed', () => {
  it.each([
    ['1Cor.13.4-7', '1Cor.13.4-1Cor.13.7'],
    ['Rom 8', 'Rom.8'],
    ['Romans 8:28', 'Rom.8.28'],
    ['Romans', 'Rom'],
    ['John.3.16-John.3.18', 'John.3.16-John.3.18'],
    ['Gen.1.1-Gen.1.31', 'Gen.1'],
    ['  john 3.16 ', 'John.3.16'],
    ['Gen 1:1-2:3', 'Gen.1.1-Gen.2.3'],
    ['Rom 8:28-39', 'Rom.8.28-Rom.8.39'],
    ['Jude 3', 'Jude.1.3'],
    ['Phlm 1', 'Phlm'],
    ['Genesis - Exodus', 'Gen-Exod'],
    ['1 Corinthians 13', '1Cor.13'],
    ['Exodus 20:1-17 (NIV)', 'Exod.20.1-Exod.20.17'],
  ])('given %j, then it is %j', (input, expected) => {
    expect(normalizeReference(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['hello', 'no reference'],
    ['John 99', 'no such chapter'],
    ['John 3:99', 'no such verse'],
    ['3 John 15', 'no such verse in the KJV'],
    ['3 John 15 ESV', 'no such verse in the KJV, whatever the translation'],
    ['Ps 151', 'not in the 66 books'],
    ['Tobit 1', 'the Apocrypha'],
    ['Gen 0', 'chapter zero'],
    ['Rom 8 blah', 'words after the reference'],
    ['I am 1 of many', 'words around the reference'],
    ['Rom 8, 9', 'a list, not one passage'],
    ['Rev 22:21-Gen 1:1', 'a backwards range'],
    ['Gen 2-1', 'a backwards range'],
    ['John 3:16'.padEnd(200, ' x'), 'too long'],
  ])('given %j, then it is refused (%s)', (input) => {
    expect(normalizeReference(input)).toBeUndefined();
  });
});
