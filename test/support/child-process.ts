/**
 * Child processes for the crash tests: a TypeScript script run under tsx, ready when it first writes to
 * stdout (each child script prints one line once it is up), and a hard kill (SIGKILL: no cleanup, no
 * chance to finish what it is doing) that waits for the process to be gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Starts `script` with `env` added to this process's environment; resolves once it writes to stdout. */
export function startTsxChild(script: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', () => resolve(child));
  });
}

/** SIGKILLs `child` (if it still runs) and resolves when it has exited. */
export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
