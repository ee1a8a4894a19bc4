/**
 * The `scriptorium` binary itself, as an operator runs it: `node bin/scriptorium.js ...` in a child
 * process, configured by the environment, answering with exit codes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectionNames } from '../../projectors/projections';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { cli } from './operations-support';

const BIN = path.join(__dirname, '../../bin/scriptorium.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function scriptorium(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: path.join(__dirname, '../..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the scriptorium binary', () => {
  let db: TestSchema;
  const unmigrated = () => `${db.schema}_new`;

  beforeAll(async () => {
    db = await createTestSchema('cli_binary');
  });
  afterAll(async () => {
    await db.knex.raw(`DROP SCHEMA IF EXISTS ${unmigrated()} CASCADE`);
    await db.drop();
  });

  it('given --help, then it lists the commands and exits with 0', async () => {
    const run = await scriptorium(['--help']);

    expect(run.code).toBe(0);
    for (const command of ['migrate', 'projections', 'verify', 'history']) expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it("given --help on every command, then each prints its usage and exits with 0", async () => {
    for (const command of [['migrate'], ['projections'], ['projections', 'status'], ['projections', 'rebuild'], ['verify'], ['history']]) {
      const run = await cli({ db: { url: db.url, schema: db.schema } }, [...command, '--help']);
      expect([command.join(' '), run.code, run.stderr]).toEqual([command.join(' '), 0, '']);
      expect(run.stdout).toContain(`Usage: scriptorium ${command.join(' ')}`);
    }
  });

  it('given a migrated schema, when asked for the projections status as JSON, then it answers every projection and exits with 0', async () => {
    const run = await scriptorium(['projections', 'status', '--json'], { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.head).toBeNull();
    expect(report.projections.map((p: { projection: string; position: string | null }) => [p.projection, p.position])).toEqual(projectionNames.map((name) => [name, null]));
  });

  it('given an unknown projection, then it says which ones exist and exits with 2', async () => {
    const run = await scriptorium(['projections', 'rebuild', 'nope'], { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`no projection is named "nope"; known projections: ${projectionNames.join(', ')}`);
  });

  // The same command line, run in this process (a child process costs seconds of start-up each).
  it('given a bad configuration or an unmigrated schema, then it says so and exits with 2; migrate fixes the latter', async () => {
    const badConfig = await cli({ db: { url: db.url, schema: 'Not-A-Schema' } }, ['projections', 'status']);
    expect([badConfig.code, badConfig.stderr]).toEqual([2, expect.stringContaining('DATABASE_SCHEMA')]);
    const fresh = { db: { url: db.url, schema: unmigrated() } };
    const notMigrated = await cli(fresh, ['projections', 'status']);
    expect([notMigrated.code, notMigrated.stderr]).toEqual([2, expect.stringContaining('run `scriptorium migrate` first')]);

    const migrated = await cli(fresh, ['migrate']);

    expect([migrated.code, migrated.stdout]).toEqual([0, expect.stringMatching(/^schema \S+: \d+ migrations applied\n$/)]);
    const after = await cli(fresh, ['projections', 'status']);
    expect([after.code, after.stderr]).toEqual([0, '']);
  });
});
