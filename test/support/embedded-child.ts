/**
 * Serves an embedded database (PGlite in DATA_DIR) from a process of its own, for tests that run in
 * jest, where PGlite cannot load (its WebAssembly loader needs dynamic import, which jest's module
 * sandbox refuses). Prints "url <url>" once it serves; closes the database on SIGTERM and exits 0.
 */
import { startEmbeddedDatabase } from '../../infra/database/embedded-database';

async function main(): Promise<void> {
  const embedded = await startEmbeddedDatabase(process.env.DATA_DIR!);
  process.stdout.write(`url ${embedded.url}\n`);
  process.once('SIGTERM', () => {
    void embedded.close().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`embedded-child: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
