import { newCard, replayReviews, reviewCard, type Review } from './spaced-repetition';

const day = 86_400_000;

describe('spaced repetition (FSRS)', () => {
  it('a good review pushes the next due time further out each time; again brings it back', () => {
    let card = newCard('2026-01-01T00:00:00.000Z');
    const intervals: number[] = [];
    let at = '2026-01-02T00:00:00.000Z';
    for (const rating of ['good', 'good', 'good', 'again'] as const) {
      card = reviewCard(card, { rating, reviewedAt: at, targetRetention: 0.9 });
      intervals.push((Date.parse(card.due) - Date.parse(at)) / day);
      at = card.due;
    }
    expect(intervals[1]!).toBeGreaterThan(intervals[0]!);
    expect(intervals[2]!).toBeGreaterThan(intervals[1]!);
    expect(intervals[3]!).toBeLessThan(intervals[2]!);
    expect(card.lapses).toBe(1);
    expect(card.reps).toBe(4);
  });

  it('a higher target retention schedules sooner', () => {
    const log = (targetRetention: number): Review[] => [
      { rating: 'good', reviewedAt: '2026-01-02T00:00:00.000Z', targetRetention },
      { rating: 'good', reviewedAt: '2026-01-06T00:00:00.000Z', targetRetention },
      { rating: 'easy', reviewedAt: '2026-01-20T00:00:00.000Z', targetRetention },
    ];
    const lenient = replayReviews('2026-01-01T00:00:00.000Z', log(0.8));
    const strict = replayReviews('2026-01-01T00:00:00.000Z', log(0.95));
    expect(Date.parse(strict.due)).toBeLessThan(Date.parse(lenient.due));
  });

  it('replaying a review log gives the same card, review by review', () => {
    const reviews: Review[] = [
      { rating: 'good', reviewedAt: '2026-01-02T08:00:00.000Z', targetRetention: 0.9 },
      { rating: 'hard', reviewedAt: '2026-01-05T09:30:00.000Z', targetRetention: 0.9 },
      { rating: 'again', reviewedAt: '2026-01-12T07:00:00.000Z', targetRetention: 0.85 },
      { rating: 'easy', reviewedAt: '2026-01-13T20:00:00.000Z', targetRetention: 0.85 },
    ];
    let card = newCard('2026-01-01T00:00:00.000Z');
    for (const review of reviews) card = reviewCard(JSON.parse(JSON.stringify(card)), review); // as if read back from the log
    expect(replayReviews('2026-01-01T00:00:00.000Z', reviews)).toEqual(card);
  });
});
