/**
 * A throw-away PostgreSQL cluster for the fault suite: initdb into a temporary directory, started with
 * pg_ctl on a free port, restarted and stopped at will. The machine's shared server (which other test
 * runs use) is never touched. initdb refuses to run as root, so as root the cluster belongs to the
 * `postgres` user and every pg_ctl call runs as that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';

const run = promisify(execFile);

function findBinaries(): string {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((version) => join(root, version, 'bin')).find((dir) => existsSync(join(dir, 'pg_ctl')));
  if (!found) throw new Error('no PostgreSQL binaries found under /usr/lib/postgresql (set PG_BIN_DIR)');
  return found;
}

export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly directory: string,
    private readonly binaries: string,
    private readonly asPostgresUser: boolean,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDirectory(): string {
    return join(this.directory, 'data');
  }

  static async start(): Promise<PrivatePostgres> {
    const directory = mkdtempSync(join(tmpdir(), 'scriptorium-faults-pg-'));
    const asPostgresUser = process.getuid?.() === 0;
    if (asPostgresUser) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(directory, Number(stdout.trim()), Number(gid.trim()));
    }
    const cluster = new PrivatePostgres(await freePort(), directory, findBinaries(), asPostgresUser);
    await cluster.tool('initdb', ['-D', cluster.dataDirectory, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await cluster.pgCtl(['start']);
    // A suite that gives up (process.exit) still stops its cluster.
    process.once('exit', () => cluster.stopNow());
    return cluster;
  }

  /**
   * A restart: `fast` is what `pg_ctlcluster ... restart` does (every connection dies at once);
   * `immediate` is a crash of the server, so it starts with WAL recovery.
   */
  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pgCtl(['restart', '-m', mode]);
  }

  async stop(): Promise<void> {
    await this.pgCtl(['stop', '-m', 'fast']).catch(() => undefined);
    this.stopped = true;
    rmSync(this.directory, { recursive: true, force: true });
  }

  private stopped = false;

  /** Synchronous, for an exiting process: an immediate stop, then the directory goes. */
  private stopNow(): void {
    if (this.stopped) return;
    try {
      const [file, argv] = this.command('pg_ctl', ['-D', this.dataDirectory, '-m', 'immediate', '-w', 'stop']);
      execFileSync(file, argv, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // already stopped
    }
    rmSync(this.directory, { recursive: true, force: true });
  }

  private command(name: string, args: string[]): [string, string[]] {
    const binary = join(this.binaries, name);
    return this.asPostgresUser ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  }

  private pgCtl(args: string[]): Promise<unknown> {
    // fsync off: restarts here are clean shutdowns, never a lost machine, and the machine is shared.
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.directory} -c fsync=off -c max_connections=200`;
    return this.tool('pg_ctl', ['-D', this.dataDirectory, '-o', options, '-l', join(this.directory, 'server.log'), '-w', '-t', '60', ...args]);
  }

  private async tool(name: string, args: string[]): Promise<void> {
    const [file, argv] = this.command(name, args);
    try {
      await run(file, argv, { cwd: this.directory, timeout: 120_000 });
    } catch (error) {
      const failure = error as { stderr?: string; message: string };
      throw new Error(`${name} ${args[args.length - 1]} failed: ${failure.stderr?.trim() || failure.message}`);
    }
  }
}
