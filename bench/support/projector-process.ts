/**
 * The projectors part in a process of its own, as docker-compose.yml deploys it: `node --import tsx
 * projectors/main.ts` with the settings the benchmark's in-process service gets (serviceEnv), so it
 * projects the same schema. The child's CPU time comes from the child itself (process.cpuUsage, asked
 * over the IPC channel). The child is ended on every way out: close() (SIGTERM, the service's drain,
 * then SIGKILL after a grace period), SIGINT/SIGTERM of this process (SIGKILL at once, before the
 * schema is dropped), this process's exit (SIGKILL), and, should this process die without any of
 * those, the child stops itself when its IPC channel closes (projector-child-preload.ts).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const PRELOAD = resolve(__dirname, 'projector-child-preload.ts');
const CLOSE_GRACE_MS = 15_000;
const CPU_ANSWER_MS = 5_000;

export interface ProjectorProcess {
  readonly pid: number;
  /** The child's CPU time so far (user + system, ms); rejects once the child has exited. */
  cpuMs(): Promise<number>;
  /** `work`, unless the child exits first: then it rejects with the child's last stderr. */
  whileRunning<T>(work: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Spawns the projectors with `env` as their whole configuration (plus PATH and HOME). */
export function startProjectorProcess(env: Readonly<Record<string, string>>): ProjectorProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', PRELOAD, 'projectors/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-5_000)));
  const exited = new Promise<string>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(`the projector process exited (code ${code}, signal ${signal}): ${stderr.trim() || '(no output)'}`));
    child.once('error', (error) => resolveExit(`the projector process failed: ${error.message}`));
  });
  let ended = false;
  void exited.then(() => (ended = true));

  const killNow = (): void => {
    if (!ended) child.kill('SIGKILL');
  };
  process.once('exit', killNow);
  process.prependOnceListener('SIGINT', killNow);
  process.prependOnceListener('SIGTERM', killNow);

  return {
    pid: child.pid ?? -1,
    cpuMs: () =>
      new Promise<number>((resolveCpu, reject) => {
        if (ended || !child.connected) return reject(new Error('the projector process is not running'));
        const timer = setTimeout(() => done(new Error('the projector process did not report its CPU time')), CPU_ANSWER_MS);
        const onMessage = (message: unknown): void => {
          const cpuMs = (message as { cpuMs?: unknown } | null)?.cpuMs;
          if (typeof cpuMs === 'number') done(undefined, cpuMs);
        };
        const onExit = (): void => done(new Error('the projector process exited'));
        function done(error: Error | undefined, cpuMs?: number): void {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolveCpu(cpuMs!);
        }
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send('cpu');
      }),
    whileRunning: <T>(work: Promise<T>) =>
      new Promise<T>((resolveWork, reject) => {
        work.then(resolveWork, reject);
        void exited.then((why) => reject(new Error(why)));
      }),
    async close() {
      process.off('exit', killNow);
      process.off('SIGINT', killNow);
      process.off('SIGTERM', killNow);
      if (ended) return;
      child.kill('SIGTERM');
      const grace = new Promise<'late'>((resolveLate) => setTimeout(() => resolveLate('late'), CLOSE_GRACE_MS).unref());
      if ((await Promise.race([exited, grace])) === 'late') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
