import { osisToVerseRange } from '../../domain/scripture/verse-index';
import { chapterOf, describeChapter, describeRange, linksOf, MAX_LINKS_PER_NOTE, mergedRanges, passageQuery, segmentsOf } from './graph-keys';

const verse = (osis: string) => osisToVerseRange(osis)!.first;

describe('graph keys', () => {
  it('merges overlapping and adjacent passages, then cuts them at chapter ends', () => {
    expect(mergedRanges(['Rom.8.30', 'Rom.8.28-Rom.9.3', 'Rom.9.4', 'Rom.9.6', 'not osis'])).toEqual([
      { first: verse('Rom.8.28'), last: verse('Rom.9.4') },
      { first: verse('Rom.9.6'), last: verse('Rom.9.6') },
    ]);
    expect(segmentsOf(['Rom.8.28-Rom.9.3', 'Rom.9.5'])).toEqual([
      { chapter: verse('Rom.8.1'), first: verse('Rom.8.28'), last: verse('Rom.8.39') },
      { chapter: verse('Rom.9.1'), first: verse('Rom.9.1'), last: verse('Rom.9.3') },
      { chapter: verse('Rom.9.1'), first: verse('Rom.9.5'), last: verse('Rom.9.5') },
    ]);
    expect(segmentsOf(['Jude'])).toEqual([{ chapter: verse('Jude.1.1'), first: verse('Jude.1.1'), last: verse('Jude.1.25') }]);
    expect(segmentsOf(['Gen-Rev'])).toHaveLength(1189);
  });

  it('keys a chapter by its first verse, and describes ranges and chapters as OSIS', () => {
    expect(chapterOf(verse('Rom.8.28'))).toBe(verse('Rom.8.1'));
    expect(chapterOf(verse('Gen.1.1'))).toBe(1);
    expect(describeRange(verse('Rom.8.28'), verse('Rom.8.28'))).toBe('Rom.8.28');
    expect(describeRange(verse('Rom.8.1'), verse('Rom.8.39'))).toBe('Rom.8');
    expect(describeChapter(verse('Rom.8.1'))).toBe('Rom.8');
  });

  it('links a note’s verses to the verses the Treasury names, never to verses the note itself cites', () => {
    const links = linksOf(['Rom.8.28']);
    expect(links).toContainEqual({ from: verse('Rom.8.28'), to: verse('Gen.50.20'), toChapter: verse('Gen.50.1'), weight: 2 });
    expect(links.every((link, i) => i === 0 || links[i - 1]!.weight >= link.weight)).toBe(true);
    const withGenesis = linksOf(['Rom.8.28', 'Gen.50.20']);
    expect(withGenesis.some((link) => link.to === verse('Gen.50.20') || link.to === verse('Rom.8.28'))).toBe(false);
    expect(linksOf(['Rom.8.28-Rom.8.30']).some((link) => link.to === verse('Rom.8.30'))).toBe(false);
  });

  it('whole books and long runs of chapters contribute no links; a note keeps at most MAX_LINKS_PER_NOTE', () => {
    expect(linksOf(['Rom'])).toEqual([]);
    expect(linksOf(['Ps.119']).length).toBeGreaterThan(500);
    expect(linksOf(['Ps.119', 'Ps.118', 'Ps.117', 'Ps.116', 'Ps.145', 'Isa.53', 'John.17']).length).toBe(MAX_LINKS_PER_NOTE);
  });

  it('reads a user’s passage strictly', () => {
    expect(passageQuery('Romans 8')).toEqual({ osis: 'Rom.8', first: verse('Rom.8.1'), last: verse('Rom.8.39'), chapters: [verse('Rom.8.1')] });
    expect(passageQuery('Rom.8.39-Rom.9.1')?.chapters).toEqual([verse('Rom.8.1'), verse('Rom.9.1')]);
    expect(passageQuery('Romans 99')).toBeUndefined();
    expect(passageQuery('hello')).toBeUndefined();
  });
});
