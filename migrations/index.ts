/**
 * The ordered list of migrations, given to knex as its migration source so that the same list runs
 * under ts (tests, tsx) and compiled JavaScript without any file-system scanning.
 */
import type { Knex } from 'knex';
import * as eventStore from './20261122_0001_event_store';
import * as projectionCheckpoints from './20261122_0002_projection_checkpoints';
import * as auth from './20261122_0003_auth';
import * as accountsReadModels from './20261122_0004_accounts_read_models';
import * as documents from './20261122_0005_documents';
import * as sync from './20261122_0006_sync';
import * as idempotencyKeys from './20261122_0007_idempotency';
import * as notes from './20261122_0008_notes';
import * as prayerPointsAndGraph from './20261122_0009_prayer_points_and_graph';
import * as storage from './20261122_0010_storage';
import * as reminders from './20261122_0011_reminders';
import * as circles from './20261122_0013_circles';
import * as ai from './20261122_0012_ai';
import * as secretKeys from './20261122_0015_secret_keys';
import * as checkpointMove from './20261122_0016_checkpoint_move';
import * as inlineRows from './20261123_0017_inline_rows';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const migrations: ReadonlyArray<readonly [string, Migration]> = [
  ['20261122_0001_event_store', eventStore],
  ['20261122_0002_projection_checkpoints', projectionCheckpoints],
  ['20261122_0003_auth', auth],
  ['20261122_0004_accounts_read_models', accountsReadModels],
  ['20261122_0005_documents', documents],
  ['20261122_0006_sync', sync],
  ['20261122_0007_idempotency', idempotencyKeys],
  ['20261122_0008_notes', notes],
  ['20261122_0009_prayer_points_and_graph', prayerPointsAndGraph],
  ['20261122_0010_storage', storage],
  ['20261122_0011_reminders', reminders],
  ['20261122_0012_ai', ai],
  ['20261122_0013_circles', circles],
  ['20261122_0015_secret_keys', secretKeys],
  ['20261122_0016_checkpoint_move', checkpointMove],
  ['20261123_0017_inline_rows', inlineRows],
];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
