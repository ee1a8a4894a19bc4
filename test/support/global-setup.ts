/** Runs once before all test files: drops the schemas that earlier, interrupted runs left behind. */
import pg from 'pg';
import { testDatabaseUrl } from './test-database';

export default async function globalSetup(): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const stale = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%' ESCAPE '\\'`,
    );
    // Only schemas from runs that are surely over: a run going on beside this one keeps its own.
    const cutoff = Date.now() / 1000 - 3 * 3600;
    for (const { nspname } of stale.rows) {
      const createdAt = Number(/_(\d{10})_[0-9a-f]{8}$/.exec(nspname)?.[1] ?? 0);
      if (createdAt < cutoff) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}
