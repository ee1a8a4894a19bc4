import { LogPosition, START } from './log-position';

describe('LogPosition', () => {
  it('round-trips values beyond 2^53 without loss', () => {
    const big = (1n << 64n) - 1n;
    const position = LogPosition.of(big, (1n << 53n) + 1n);
    expect(LogPosition.major(position)).toBe(big);
    expect(LogPosition.minor(position)).toBe((1n << 53n) + 1n);
    expect(LogPosition.parse(JSON.parse(JSON.stringify(position)))).toBe(position);
  });

  it('orders as the log does: by the first part, then the second', () => {
    const positions = [LogPosition.of(10n, 1n), LogPosition.of(9n, 500n), LogPosition.of(10n, 0n), START];
    expect([...positions].sort(LogPosition.compare)).toEqual([START, LogPosition.of(9n, 500n), LogPosition.of(10n, 0n), LogPosition.of(10n, 1n)]);
    expect(LogPosition.max(LogPosition.of(2n, 0n), LogPosition.of(1n, 9n))).toBe(LogPosition.of(2n, 0n));
  });

  it('refuses what is not a position', () => {
    expect(LogPosition.parse('12.34')).toBeUndefined();
    expect(LogPosition.parse(`${'9'.repeat(20)}.${'0'.repeat(20)}`)).toBeUndefined(); // above 2^64 - 1
    expect(() => LogPosition.of(-1n, 0n)).toThrow(RangeError);
  });
});
