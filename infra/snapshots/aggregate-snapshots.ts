/**
 * Aggregate snapshots: the folded state of a stream at some revision, so that deciding on a stream with
 * ten thousand events reads a snapshot and the few events after it. A snapshot is only a cache of the
 * log: it carries the decider's state version, and one of another version is ignored (and replaced).
 */
import type { Knex } from 'knex';
import { LogPosition } from '../event-store/log-position';

export interface Snapshot {
  readonly revision: bigint;
  readonly position: LogPosition;
  readonly state: unknown;
}

export interface AggregateSnapshots {
  load(streamId: string, kind: string, version: number): Promise<Snapshot | undefined>;
  save(streamId: string, kind: string, version: number, snapshot: Snapshot): Promise<void>;
}

export class PostgresAggregateSnapshots implements AggregateSnapshots {
  constructor(private readonly knex: Knex) {}

  async load(streamId: string, kind: string, version: number): Promise<Snapshot | undefined> {
    const row = await this.knex('aggregate_snapshots')
      .where({ stream_id: streamId, kind, version })
      .first<{ revision: string; position: string; state: unknown } | undefined>('revision', 'position', 'state');
    const position = row && LogPosition.parse(row.position);
    if (!row || !position) return undefined;
    return { revision: BigInt(row.revision), position, state: row.state };
  }

  async save(streamId: string, kind: string, version: number, snapshot: Snapshot): Promise<void> {
    await this.knex.raw(
      `INSERT INTO aggregate_snapshots AS s (stream_id, kind, version, revision, position, state, saved_at)
       VALUES (?, ?, ?, ?, ?, ?::jsonb, now())
       ON CONFLICT (stream_id) DO UPDATE
         SET kind = EXCLUDED.kind, version = EXCLUDED.version, revision = EXCLUDED.revision,
             position = EXCLUDED.position, state = EXCLUDED.state, saved_at = EXCLUDED.saved_at
       WHERE s.revision < EXCLUDED.revision OR s.version <> EXCLUDED.version`,
      [streamId, kind, version, snapshot.revision.toString(), snapshot.position, JSON.stringify(snapshot.state)],
    );
  }
}
