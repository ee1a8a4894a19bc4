/**
 * A position in the global log. Both adapters describe a position with two unsigned 64-bit numbers
 * (EventStoreDB: commit and prepare; PostgreSQL: transaction id and sequence), so a position is kept
 * as one fixed-width string that sorts the way the log does, survives JSON and HTTP headers untouched,
 * and never passes through a JS number.
 */
export type LogPosition = string & { readonly __brand: 'LogPosition' };

const WIDTH = 20; // digits in 2^64 - 1
const MAX = (1n << 64n) - 1n;
const FORMAT = /^(\d{20})\.(\d{20})$/;

export const LogPosition = {
  of(major: bigint, minor: bigint): LogPosition {
    if (major < 0n || major > MAX || minor < 0n || minor > MAX) {
      throw new RangeError(`log position parts must fit in 64 unsigned bits: ${major}/${minor}`);
    }
    return `${major.toString().padStart(WIDTH, '0')}.${minor.toString().padStart(WIDTH, '0')}` as LogPosition;
  },

  /** Reads a serialized position; undefined for anything that is not one. */
  parse(text: string): LogPosition | undefined {
    const match = FORMAT.exec(text);
    if (!match) return undefined;
    if (BigInt(match[1]!) > MAX || BigInt(match[2]!) > MAX) return undefined;
    return text as LogPosition;
  },

  major(position: LogPosition): bigint {
    return BigInt(position.slice(0, WIDTH));
  },

  minor(position: LogPosition): bigint {
    return BigInt(position.slice(WIDTH + 1));
  },

  compare(a: LogPosition, b: LogPosition): -1 | 0 | 1 {
    return a < b ? -1 : a > b ? 1 : 0;
  },

  max(a: LogPosition, b: LogPosition): LogPosition {
    return a >= b ? a : b;
  },
};

/** Before the first event of any log. */
export const START: LogPosition = LogPosition.of(0n, 0n);
