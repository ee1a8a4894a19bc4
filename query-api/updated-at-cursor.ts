/**
 * The page cursor of lists ordered by last change, newest first (documents of a workspace, prayer
 * points): the (updated_at, id) of the last row of a page, opaque to clients. A cursor this service
 * did not issue is a 400 problem, never a 500.
 */
import { Problem } from '../infra/http/problem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface UpdatedAtCursor {
  readonly updatedAt: string;
  readonly id: string;
}

export function encodeUpdatedAtCursor(row: { readonly updated_at: Date; readonly id: string }): string {
  return Buffer.from(JSON.stringify({ u: row.updated_at.toISOString(), i: row.id })).toString('base64url');
}

export function decodeUpdatedAtCursor(text: string): UpdatedAtCursor {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { u?: unknown; i?: unknown };
    if (typeof parsed.u === 'string' && !Number.isNaN(Date.parse(parsed.u)) && typeof parsed.i === 'string' && UUID.test(parsed.i)) {
      return { updatedAt: parsed.u, id: parsed.i };
    }
  } catch {
    // fall through
  }
  throw new Problem('invalid', 'REQUEST.INVALID_CURSOR', 'the cursor is not one this service issued');
}
