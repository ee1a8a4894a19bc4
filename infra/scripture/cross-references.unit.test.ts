import { parseOsisRange, toVerseRange, type OsisRange } from '../../domain/scripture/verse-index';
import { MAX_CROSS_REFERENCE_LIMIT, crossReferenceStats, crossReferences } from './cross-references';

const osis = (text: string): OsisRange => {
  const parsed = parseOsisRange(text);
  if (parsed === undefined) throw new Error(`test passage ${text} does not parse`);
  return parsed;
};

describe('Treasury of Scripture Knowledge cross-references', () => {
  it('loads every link into a compact index: none skipped, under a megabyte', () => {
    const stats = crossReferenceStats();
    // 386,550 listed; 32 listed twice under the same verse and 45 pointing at their own verse are dropped.
    expect(stats).toEqual({ links: 386_473, skipped: 0, bytes: expect.any(Number) });
    expect(stats.bytes).toBeLessThan(1_000_000);
  });

  it('given a verse, then its links as our OSIS ids, links both ways first', () => {
    const links = crossReferences(osis('John.3.16'), MAX_CROSS_REFERENCE_LIMIT);
    expect(links).toHaveLength(23);
    expect(links.every((link) => link.from === 'John.3.16')).toBe(true);
    // Rom 5:8 lists John 3:16 back; Matt 9:13 does not.
    expect(links).toContainEqual({ from: 'John.3.16', to: 'Rom.5.8', weight: 2 });
    expect(links).toContainEqual({ from: 'John.3.16', to: 'Matt.9.13', weight: 1 });
    expect(links[0]).toEqual({ from: 'John.3.16', to: 'Gen.22.12', weight: 2 }); // same weight: canon order
    const weights = links.map((link) => link.weight);
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
  });

  it('given Rom 8:28 and a limit of 1, then its strongest link (Gen 50:20)', () => {
    expect(crossReferences(osis('Rom.8.28'), 1)).toEqual([{ from: 'Rom.8.28', to: 'Gen.50.20', weight: 2 }]);
  });

  it('given a chapter, then links from all its verses to verses outside it', () => {
    const chapter = toVerseRange(osis('Rom.8'));
    const links = crossReferences(osis('Rom.8'), MAX_CROSS_REFERENCE_LIMIT);
    expect(links.length).toBeGreaterThan(500);
    expect(new Set(links.map((link) => link.from)).size).toBe(39);
    for (const link of links) {
      const target = toVerseRange(link.to);
      expect(target.first === target.last && (target.first < chapter.first || target.first > chapter.last)).toBe(true);
    }
  });

  it('answers at most `limit`, and refuses limits outside 1..MAX', () => {
    expect(crossReferences(osis('Gen.1.1'))).toHaveLength(50);
    expect(crossReferences(osis('Gen.1.1'), 3)).toHaveLength(3);
    for (const limit of [0, -1, 1.5, MAX_CROSS_REFERENCE_LIMIT + 1, Number.NaN]) {
      expect(() => crossReferences(osis('Gen.1.1'), limit)).toThrow(RangeError);
    }
  });
});
