/** `npm run migrate`: applies every pending migration to the configured database and schema. */
import { loadConfig } from '../config/config';
import { createKnex, migrate } from '../database/database';

async function run(): Promise<void> {
  const config = loadConfig(process.env);
  const knex = createKnex({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolMax: 1 });
  try {
    await migrate(knex, config.DATABASE_SCHEMA);
    const [completed] = (await knex.migrate.list()) as [Array<{ name: string }>, unknown];
    process.stdout.write(`schema ${config.DATABASE_SCHEMA}: ${completed.length} migrations applied\n`);
  } finally {
    await knex.destroy();
  }
}

run().catch((error: unknown) => {
  process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
