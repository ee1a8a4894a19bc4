/**
 * Tombstone retention for the sync feed: deleted documents, notes, prayer points, workspaces and circles,
 * removed memberships and withdrawn shares are kept for a while so offline clients learn of them, then
 * purged. The purge remembers the highest
 * position it removed (`sync_horizon`): a cursor from before it may have missed a delete, so the pull
 * route answers it with 410 and the client starts over.
 */
import type { Knex } from 'knex';

export async function purgeSyncTombstones(knex: Knex, now: Date, retentionDays: number): Promise<{ purged: number; horizon: string | undefined }> {
  const cutoff = new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000);
  return knex.transaction(async (trx) => {
    const purged: Array<{ position: string }> = [
      ...(await trx('sync_documents').where('deleted', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
      ...(await trx('sync_members').where('removed', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
      ...(await trx('sync_workspaces').where('deleted', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
      ...(await trx('sync_notes').where('deleted', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
      ...(await trx('sync_prayer_points').where('deleted', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
      ...(await trx('sync_circle_shares').where('unshared', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
      ...(await trx('sync_circle_members').where('removed', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
      ...(await trx('sync_circles').where('deleted', true).andWhere('changed_at', '<', cutoff).delete().returning('position')),
    ];
    const highest = purged.reduce<string | undefined>((max, row) => (max === undefined || row.position > max ? row.position : max), undefined);
    if (highest !== undefined) {
      await trx.raw(
        `INSERT INTO sync_horizon (only_row, position) VALUES (true, ?)
         ON CONFLICT (only_row) DO UPDATE SET position = GREATEST(sync_horizon.position, EXCLUDED.position)`,
        [highest],
      );
    }
    const horizon = await trx('sync_horizon').first<{ position: string } | undefined>('position');
    return { purged: purged.length, horizon: horizon?.position };
  });
}
