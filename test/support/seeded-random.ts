/**
 * A small deterministic random generator (mulberry32) for generated corpora in tests and benchmarks:
 * the same seed gives the same sequence, so a failing test can be replayed and two benchmark runs
 * measure the same data.
 */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  /** The next number in [0, 1). */
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  /** An integer from `low` to `high`, both included. */
  const int = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  return { next, int, pick };
}

export type SeededRandom = ReturnType<typeof seededRandom>;
