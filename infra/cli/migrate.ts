/**
 * Applying migrations: `scriptorium migrate`, and `npm run migrate`, which runs this file directly.
 * Either applies every pending migration to the configured database and schema.
 */
import { loadConfig, type Config } from '../config/config';
import { migrate } from '../database/database';
import { openDatabaseForCli } from './cli-context';

/** Applies what is pending; answers how many migrations the schema has applied in all. */
export async function applyMigrations(config: Config): Promise<number> {
  const database = await openDatabaseForCli(config);
  try {
    await migrate(database.knex, config.DATABASE_SCHEMA);
    const [completed] = (await database.knex.migrate.list()) as [Array<{ name: string }>, unknown];
    return completed.length;
  } finally {
    await database.close();
  }
}

if (require.main === module) {
  const run = async () => {
    const config = loadConfig(process.env);
    const applied = await applyMigrations(config);
    process.stdout.write(`schema ${config.DATABASE_SCHEMA}: ${applied} migrations applied\n`);
  };
  run().catch((error: unknown) => {
    process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
