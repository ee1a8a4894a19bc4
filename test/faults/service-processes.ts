/**
 * The service's three processes as the deployment runs them (`command-api/main.ts`, `query-api/main.ts`,
 * `projectors/main.ts`, through tsx), each on its own port and with its output in a log file. A process
 * that exits when the suite did not kill it is an anomaly: it is recorded (with the tail of its log)
 * and started again, so that the run goes on and the report can say so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';

export type PartName = 'command-api' | 'query-api' | 'projectors';

const ROOT = resolve(__dirname, '..', '..');

/** Every child still running, so that a suite that gives up does not leave service processes behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface UnexpectedExit {
  readonly part: PartName;
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: string;
  readonly logTail: string;
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private expectingExit = false;
  private readonly log: WriteStream;
  readonly logPath: string;
  starts = 0;

  constructor(
    readonly part: PartName,
    private readonly env: Record<string, string>,
    logDirectory: string,
    private readonly onUnexpectedExit: (exit: UnexpectedExit) => void,
    readonly port?: number,
  ) {
    this.logPath = join(logDirectory, `${part}.log`);
    this.log = createWriteStream(this.logPath, { flags: 'a' });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and waits until it serves (/healthz) or, for projectors, says it started. */
  async start(timeoutMs = 60_000): Promise<void> {
    this.expectingExit = false;
    this.starts++;
    const env = { ...process.env, ...this.env, ...(this.port !== undefined ? { PORT: String(this.port) } : {}) };
    const child = spawn(process.execPath, ['--import', 'tsx', `${this.part}/main.ts`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    let output = '';
    const collect = (chunk: Buffer) => {
      this.log.write(chunk);
      if (output.length < 100_000) output += chunk.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
      if (this.expectingExit) return;
      this.onUnexpectedExit({ part: this.part, code, signal, at: new Date().toISOString(), logTail: this.tail() });
      // The run goes on: start it again (this restart is what the report counts as an anomaly).
      setTimeout(() => void this.start().catch(() => undefined), 500);
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child !== child) throw new Error(`${this.part} exited while starting:\n${this.tail()}`);
      if (this.port !== undefined) {
        const ok = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((res) => res.ok, () => false);
        if (ok) return;
      } else if (/"msg":"started"/.test(output)) {
        return;
      }
      if (Date.now() > deadline) throw new Error(`${this.part} did not start within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGKILL: no draining, no goodbye to the database. */
  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  /** SIGTERM at the end of the run: the process drains and exits by itself. */
  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  tail(lines = 30): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}
