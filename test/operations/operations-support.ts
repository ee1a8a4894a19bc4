/**
 * What the operations tests share: waiting until the service's projectors have reached the head of
 * the log, running the CLI in-process against a test schema with its output captured, and finding
 * scratch schemas a command left behind.
 */
import type { Knex } from 'knex';
import type { LogPosition } from '../../infra/event-store/log-position';
import { runCli } from '../../infra/cli/cli';
import { projectionNames } from '../../projectors/projections';
import type { TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';

/** Waits until every projection's checkpoint is the head of the log (read afresh each time); answers it. */
export async function projectionsCaughtUp(t: TestService, timeoutMs = 10_000): Promise<LogPosition> {
  const reached: { head?: LogPosition } = {};
  await waitFor(
    async () => {
      const head = await t.service.platform.store.headPosition();
      if (head === 'start') return false;
      const rows = await t.db.knex('projection_checkpoints').whereIn('projection', [...projectionNames]).andWhere('position', head);
      if (rows.length !== projectionNames.length) return false;
      reached.head = head;
      return true;
    },
    timeoutMs,
    'every projection to reach the head of the log',
  );
  return reached.head!;
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `scriptorium <argv>` in this process on the test service's schema. */
export async function cli(t: { db: { url: string; schema: string } }, argv: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    env: { DATABASE_URL: t.db.url, DATABASE_SCHEMA: t.db.schema, LOG_LEVEL: 'silent' },
  });
  return { code, stdout, stderr };
}

/** Scratch schemas that name `liveSchema` as theirs (in their comment). */
export async function scratchSchemasOf(knex: Knex, liveSchema: string): Promise<string[]> {
  const result = await knex.raw<{ rows: Array<{ name: string }> }>(
    `SELECT nspname AS name FROM pg_namespace
      WHERE nspname LIKE 'scratch\\_%' AND obj_description(oid, 'pg_namespace') LIKE ?`,
    [`% of schema ${liveSchema}, %`],
  );
  return result.rows.map((row) => row.name);
}
