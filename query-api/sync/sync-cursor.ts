/**
 * Sync cursors: opaque to clients, and to us a (position, entity, id) key into the ordered feed plus
 * the identity of the store that issued it. A cursor that cannot be read is the client's mistake
 * (400); one that can be read but not honoured (another store, purged tombstones) means "start over"
 * (410), which the pull route decides.
 */
import { LogPosition } from '../../infra/event-store/log-position';
import { Problem } from '../../infra/http/problem';

export interface SyncCursor {
  readonly store: string;
  /** Feed position of the last change delivered ('' for the start). */
  readonly position: string;
  readonly entity: string;
  readonly id: string;
}

/** Sorts after every entity name: a cursor with it has delivered everything at its position. */
export const AFTER_ALL = '~';

export function encodeCursor(cursor: SyncCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, s: cursor.store, p: cursor.position, e: cursor.entity, i: cursor.id })).toString('base64url');
}

export function decodeCursor(text: string): SyncCursor {
  const invalid = () => new Problem('invalid', 'SYNC.INVALID_CURSOR', 'the cursor is not one this service issued; pull from the beginning without one');
  if (text.length > 1_000 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid();
  let parsed: { v?: unknown; s?: unknown; p?: unknown; e?: unknown; i?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { v, s, p, e, i } = parsed ?? {};
  if (v !== 1 || typeof s !== 'string' || typeof p !== 'string' || typeof e !== 'string' || typeof i !== 'string') throw invalid();
  if (p !== '' && LogPosition.parse(p) === undefined) throw invalid();
  if (!/^[0-9a-f-]{36}$/.test(s) || e.length > 20 || i.length > 100) throw invalid();
  return { store: s, position: p, entity: e, id: i };
}
