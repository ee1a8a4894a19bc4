/**
 * Checkpoints: how far each projection has applied the log. Moving one is a compare-and-set inside
 * the projection's own transaction, so rows and checkpoint commit together or not at all, and a second
 * runner that applied the same batch concurrently rolls back instead of applying it twice.
 */
import type { Knex } from 'knex';
import { LogPosition } from '../../infra/event-store/log-position';

export class CheckpointMoved extends Error {
  readonly code = 'PROJECTION.CHECKPOINT_MOVED';
  constructor(readonly projection: string) {
    super(`checkpoint of projection ${projection} was moved by another runner`);
    this.name = 'CheckpointMoved';
  }
}

export type Checkpoint = LogPosition | 'start';

export async function readCheckpoint(db: Knex | Knex.Transaction, projection: string): Promise<Checkpoint> {
  const row = await db('projection_checkpoints').where({ projection }).first<{ position: string | null } | undefined>('position');
  if (!row || row.position === null) return 'start';
  const position = LogPosition.parse(row.position);
  if (!position) throw new Error(`projection ${projection} has an unreadable checkpoint: ${row.position}`);
  return position;
}

/**
 * Moves the checkpoint from `expected` to `next` within `trx` (or, given the knex itself, in a
 * transaction of its own: one statement); throws CheckpointMoved if it was not at `expected`.
 */
export async function moveCheckpoint(
  trx: Knex | Knex.Transaction,
  projection: string,
  expected: Checkpoint,
  next: LogPosition,
  eventsSeen: number,
): Promise<void> {
  if (expected === 'start') {
    const inserted = await trx.raw(
      `INSERT INTO projection_checkpoints AS c (projection, position, events_seen, updated_at) VALUES (?, ?, ?, now())
       ON CONFLICT (projection) DO UPDATE
         SET position = EXCLUDED.position, events_seen = EXCLUDED.events_seen, updated_at = now(), last_error = NULL, last_error_at = NULL
       WHERE c.position IS NULL`,
      [projection, next, eventsSeen],
    );
    if (inserted.rowCount !== 1) throw new CheckpointMoved(projection);
    return;
  }
  const updated = await trx.raw(
    `UPDATE projection_checkpoints
        SET position = ?, events_seen = events_seen + ?, updated_at = now(), last_error = NULL, last_error_at = NULL
      WHERE projection = ? AND position = ?`,
    [next, eventsSeen, projection, expected],
  );
  if (updated.rowCount !== 1) throw new CheckpointMoved(projection);
}

/** Records an error outside any projection transaction, for `projections status`. */
export async function recordProjectionError(db: Knex, projection: string, message: string): Promise<void> {
  await db.raw(
    `INSERT INTO projection_checkpoints (projection, position, last_error, last_error_at) VALUES (?, NULL, ?, now())
     ON CONFLICT (projection) DO UPDATE SET last_error = EXCLUDED.last_error, last_error_at = EXCLUDED.last_error_at`,
    [projection, message.slice(0, 2000)],
  );
}
