/**
 * The operator and auditor command line, `scriptorium <command>` (bin/scriptorium.js starts it):
 * migrations, projection status and rebuilds, verification of every read model against a replay of
 * the log, and one stream's history. Configuration comes from the environment through loadConfig,
 * exactly as for the service. Results go to stdout (`--json` for machines), progress and errors to
 * stderr.
 *
 * Exit codes: 0 done (for verify: equal), 1 verify found differences, 2 a usage or configuration
 * error, an unknown projection, or any failure.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/config';
import { projectionNames, projections } from '../../projectors/projections';
import { findProjection, rebuildProjection, RebuildRefused, UnknownProjection, type RebuildProgress, type RebuildResult } from '../../projectors/runtime/rebuild';
import { verifyProjections, type RowDifference, type VerifyProgress, type VerifyReport } from '../../projectors/runtime/verify';
import { CliError, openCliContext, type CliContext } from './cli-context';
import type { CountFrom } from './event-counting';
import { formatHistoryTable, readStreamHistory } from './history';
import { applyMigrations } from './migrate';
import { formatStatusTable, readProjectionsStatus } from './projections-status';
import { formatCount, ProgressDisplay, renderTable, type OutputStream } from './terminal';

export const EXIT_OK = 0;
export const EXIT_DIFFERENT = 1;
export const EXIT_FAILED = 2;

/** Progress estimates count the log up to here, and give no ETA beyond. */
const PROGRESS_COUNT_CAP = 10_000_000;

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborts a rebuild or verification (Ctrl-C), which then cleans up its scratch schema. */
  readonly signal?: AbortSignal;
}

/** Runs one command line; answers the exit code (never throws). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportFailure(error, io.stderr);
  }
}

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('scriptorium')
    .description('Operate and audit a Scriptorium deployment (configured by the same environment variables as the service).')
    .exitOverride()
    .configureOutput({ writeOut: (text) => void io.stdout.write(text), writeErr: (text) => void io.stderr.write(text) })
    .showHelpAfterError('(scriptorium --help lists the commands)')
    .addHelpText('after', '\nExit codes: 0 done (verify: equal), 1 verify found differences, 2 usage, configuration or other errors.');

  program
    .command('migrate')
    .description('apply pending migrations to DATABASE_SCHEMA')
    .action(async () => {
      const config = loadConfig(io.env);
      const applied = await applyMigrations(config);
      io.stdout.write(`schema ${config.DATABASE_SCHEMA}: ${applied} migrations applied\n`);
    });

  const projectionsCommand = program.command('projections').description('the read-model projections: status and rebuilds');

  projectionsCommand
    .command('status')
    .description('checkpoint, events seen, lag (events and seconds) and last error of every projection')
    .option('--json', 'print JSON for machines')
    .option('--lag-cap <events>', 'stop counting lag here (then shown as ">= N")', positiveInteger, 100_000)
    .action(async (options: { json?: boolean; lagCap: number }) => {
      await withContext(io, async (context) => {
        const report = await readProjectionsStatus({
          knex: context.knex,
          store: context.store,
          counter: context.counter,
          projections,
          now: () => new Date(),
          lagCap: options.lagCap,
        });
        io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatusTable(report));
      });
    });

  projectionsCommand
    .command('rebuild')
    .description('build a projection afresh in a scratch schema while the live tables serve, then swap it in (one transaction)')
    .argument('<name>', `the projection (${projectionNames.join(', ')})`)
    .option('--batch-size <events>', 'events per transaction (default: PROJECTION_BATCH_SIZE)', positiveInteger)
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { batchSize?: number; json?: boolean }) => {
      findProjection(projections, name); // an unknown name fails before anything connects
      await withContext(io, async (context) => {
        refuseEmbedded(context, 'rebuild');
        const display = new ProgressDisplay(io.stderr);
        const result = await rebuildProjection({
          store: context.store,
          knex: context.knex,
          liveSchema: context.schema,
          projections,
          name,
          batchSize: options.batchSize ?? context.config.PROJECTION_BATCH_SIZE,
          countEventsAfter: countForProgress(context),
          onProgress: (progress) => display.update({ label: rebuildLabel(progress), done: progress.eventsRead, total: progress.eventsTotal }),
          signal: io.signal,
        });
        display.finish();
        io.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatRebuildResult(result, context.schema));
      });
    });

  program
    .command('verify')
    .description('replay the whole log into a scratch schema and compare every read-model table with the live one, row by row')
    .option('--json', 'print the report as JSON')
    .option('--limit <rows>', 'differing rows to print at most', positiveInteger, 20)
    .option('--batch-size <events>', 'events per transaction (default: PROJECTION_BATCH_SIZE)', positiveInteger)
    .action(async (options: { json?: boolean; limit: number; batchSize?: number }) => {
      await withContext(io, async (context) => {
        refuseEmbedded(context, 'verify');
        const display = new ProgressDisplay(io.stderr);
        const report = await verifyProjections({
          store: context.store,
          knex: context.knex,
          liveSchema: context.schema,
          projections,
          batchSize: options.batchSize ?? context.config.PROJECTION_BATCH_SIZE,
          maxDifferences: options.limit,
          countEventsAfter: countForProgress(context),
          onProgress: (progress) => display.update({ label: verifyLabel(progress), done: progress.eventsRead, total: progress.eventsTotal }),
          signal: io.signal,
        });
        display.finish();
        io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report));
        setExitCode(report.equal ? EXIT_OK : EXIT_DIFFERENT);
      });
    });

  program
    .command('history')
    .description("one stream's events: revision, type, position, recorded time and metadata")
    .argument('<stream>', 'the stream id, e.g. user-<id> or workspace-<id>')
    .option('--json', 'print JSON for machines')
    .option('--limit <events>', 'events to show at most', positiveInteger, 100)
    .option('--from <revision>', 'first revision to show (default: 0)', revision)
    .option('--data', 'include the event payloads')
    .action(async (stream: string, options: { json?: boolean; limit: number; from?: bigint; data?: boolean }) => {
      await withContext(io, async (context) => {
        const history = await readStreamHistory(context.store, stream, { fromRevision: options.from ?? 0n, limit: options.limit, withData: options.data === true });
        io.stdout.write(options.json ? `${JSON.stringify(history, null, 2)}\n` : formatHistoryTable(history));
      });
    });

  return program;
}

async function withContext(io: CliIo, use: (context: CliContext) => Promise<void>): Promise<void> {
  const config: Config = loadConfig(io.env);
  const context = await openCliContext(config);
  try {
    await use(context);
  } finally {
    await context.close();
  }
}

function refuseEmbedded(context: CliContext, command: string): void {
  if (context.embedded) {
    throw new CliError(`${command} needs a PostgreSQL server (DATABASE_URL): it works on several connections at once, and the embedded database has one`, EXIT_FAILED);
  }
}

function countForProgress(context: CliContext): (position: CountFrom) => Promise<number | undefined> {
  return async (position) => {
    const counted = await context.counter.countEventsAfter(position, PROGRESS_COUNT_CAP);
    return counted.capped ? undefined : counted.count;
  };
}

function reportFailure(error: unknown, stderr: OutputStream): number {
  // Commander has already printed its own message (or the help that was asked for).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_FAILED;
  if (error instanceof CliError) {
    stderr.write(`scriptorium: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError || error instanceof UnknownProjection || error instanceof RebuildRefused) {
    stderr.write(`scriptorium: ${error.message}\n`);
    return EXIT_FAILED;
  }
  stderr.write(`scriptorium: failed: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILED;
}

// --- Argument parsers -----------------------------------------------------------------------------

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

function revision(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a stream revision (0 or more)');
  return BigInt(value);
}

// --- Output ---------------------------------------------------------------------------------------

function rebuildLabel(progress: RebuildProgress): string {
  switch (progress.phase) {
    case 'replaying':
      return `replaying ${progress.projection}`;
    case 'locking':
      return `locking ${progress.projection}'s tables`;
    case 'swapping':
      return `swapping ${progress.projection} in (tables locked${progress.swapAttempt > 1 ? `, attempt ${progress.swapAttempt}` : ''})`;
    case 'swapped':
      return `swapped ${progress.projection} in`;
    default: {
      const never: never = progress.phase;
      return never;
    }
  }
}

function verifyLabel(progress: VerifyProgress): string {
  switch (progress.phase) {
    case 'snapshot':
      return 'copying the live read models';
    case 'replaying':
      return 'replaying the log';
    case 'comparing':
      return 'comparing';
    default: {
      const never: never = progress.phase;
      return never;
    }
  }
}

function formatRebuildResult(result: RebuildResult, schema: string): string {
  const at = result.position === 'start' ? 'the start of the log' : result.position;
  return (
    `projection ${result.projection} rebuilt and swapped into schema ${schema}: ${formatCount(result.eventsRead)} events read, ` +
    `${formatCount(result.eventsSeen)} applied, checkpoint at ${at}` +
    `${result.swapAttempts > 1 ? ` (swap took ${result.swapAttempts} attempts)` : ''}\n`
  );
}

export function formatVerifyReport(report: VerifyReport): string {
  const out: string[] = [];
  out.push(
    renderTable(
      [{ header: 'PROJECTION' }, { header: 'LIVE CHECKPOINT' }, { header: 'REBUILT CHECKPOINT' }, { header: 'EVENTS SEEN (LIVE/REBUILT)', align: 'right' }, { header: 'EQUAL' }],
      report.projections.map((p) => [
        p.projection,
        p.live.position,
        p.rebuilt.position,
        `${formatCount(p.live.eventsSeen)}/${formatCount(p.rebuilt.eventsSeen)}`,
        p.equal ? 'yes' : 'NO',
      ]),
    ),
  );
  out.push(
    renderTable(
      [{ header: 'TABLE' }, { header: 'PROJECTION' }, { header: 'LIVE ROWS', align: 'right' }, { header: 'REBUILT ROWS', align: 'right' }, { header: 'DIFFERING', align: 'right' }],
      report.tables.map((t) => [t.table, t.projection, formatCount(t.liveRows), formatCount(t.rebuiltRows), formatCount(t.differingRows)]),
    ),
  );
  for (const difference of report.differences) out.push(formatDifference(difference));
  if (report.differencesOmitted > 0) out.push(`(${formatCount(report.differencesOmitted)} more differing rows not shown; see --limit)\n`);
  const differingRows = report.tables.reduce((sum, t) => sum + t.differingRows, 0);
  const differingCheckpoints = report.projections.filter((p) => !p.equal).map((p) => p.projection);
  out.push(
    report.equal
      ? 'verify: equal\n'
      : `verify: DIFFERENT: ${formatCount(differingRows)} differing rows` +
          `${differingCheckpoints.length > 0 ? `; checkpoints differ for ${differingCheckpoints.join(', ')}` : ''}\n`,
  );
  return out.join('\n');
}

function formatDifference(difference: RowDifference): string {
  const title = `${difference.table} ${difference.key === null ? '(no primary key)' : JSON.stringify(difference.key)}`;
  if (difference.live === null) return `${title}\n  missing from live; rebuilt: ${JSON.stringify(difference.rebuilt)}\n`;
  if (difference.rebuilt === null) return `${title}\n  only in live: ${JSON.stringify(difference.live)}\n`;
  const { live, rebuilt } = difference;
  const columns = [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])];
  const lines = columns
    .filter((column) => JSON.stringify(live[column]) !== JSON.stringify(rebuilt[column]))
    .map((column) => `  ${column}: live ${JSON.stringify(live[column]) ?? '(absent)'}, rebuilt ${JSON.stringify(rebuilt[column]) ?? '(absent)'}`);
  return `${title}\n${lines.join('\n')}\n`;
}

// --- Entry point ----------------------------------------------------------------------------------

/** What bin/scriptorium.js calls: the process's arguments, streams, environment and signals. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stderr.write(`\nscriptorium: ${signal}: stopping and cleaning up (again to quit at once)\n`);
    interrupt.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `scriptorium history ... | head`: a reader that has seen enough is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  void runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupt.signal }).then((code) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.exitCode = code;
    // A client that keeps a socket open must not keep a finished command alive.
    setTimeout(() => process.exit(code), 1_000).unref();
  });
}

// Run directly (`node dist/infra/cli/cli.js ...`, e.g. in the Docker image, which has no bin/).
if (require.main === module) main();
