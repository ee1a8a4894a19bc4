/**
 * A private nats-server (JetStream on, store in a temporary directory) on a free port, which the fault
 * suite stops and starts again on the same port. The machine's shared NATS is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

export class PrivateNats {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly directory: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateNats> {
    const nats = new PrivateNats(await freePort(), mkdtempSync(join(tmpdir(), 'scriptorium-faults-nats-')));
    await nats.resume();
    return nats;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  async resume(): Promise<void> {
    if (this.process) return;
    const binary = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
    const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', join(this.directory, 'store')], { stdio: 'ignore' });
    this.process = child;
    process.once('exit', () => child.kill('SIGKILL'));
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await waitForPort(this.port, 10_000);
  }

  async pause(): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    this.process = undefined;
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
