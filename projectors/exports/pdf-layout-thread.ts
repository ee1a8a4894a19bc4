/**
 * PDF layout off the event loop. pdfmake lays a volume of an export out synchronously, for seconds
 * when the volume is large; on the projectors' event loop that would hold up every projection and
 * reactor of the process meanwhile. So volumes are laid out in a worker thread (pdf-layout-worker.ts),
 * one at a time. The thread is started on the first volume and kept while volumes keep coming
 * (starting one, with pdfmake and its fonts, costs more than laying out a small export); it ends
 * after `idleMs` without work, giving its memory back. A failure of the thread, or a volume too large
 * for its heap limit, fails the volume being laid out (the export reactor retries it, then records the
 * export as failed) and never takes the process down; the next volume gets a new thread.
 *
 * The PDF comes back in chunks into the stream `layOut` answers; they wait there until the stream is
 * read, so memory holds at most one volume's PDF (pdfmake holds the whole layout anyway).
 */
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { ExportItem } from './export-items';
import type { LayoutJob, LayoutMessage } from './pdf-layout-worker';

/** The old-generation heap a layout thread may use unless told otherwise (MiB). */
export const PDF_LAYOUT_HEAP_MB = 1024;

/** How long an idle layout thread is kept unless told otherwise. */
export const PDF_LAYOUT_IDLE_MS = 30_000;

export interface PdfLayoutOptions {
  /** The thread's old-generation heap limit in MiB; beyond it the thread ends and its volume fails. */
  readonly heapMb?: number;
  readonly idleMs?: number;
}

/**
 * How to start the worker's entry: compiled, it is the .js beside this file; run from source (tsx,
 * jest), it is the .ts, which a new thread can only load with tsx's CommonJS hook (the loader a tsx
 * process runs under is not passed on to its threads).
 */
function workerEntry(): { file: string; execArgv: string[] | undefined } {
  const fromSource = __filename.endsWith('.ts');
  return {
    file: path.join(__dirname, fromSource ? 'pdf-layout-worker.ts' : 'pdf-layout-worker.js'),
    execArgv: fromSource ? ['--require', require.resolve('tsx/cjs')] : undefined,
  };
}

interface Pending {
  readonly worker: Worker;
  readonly resolve: (pdf: Readable) => void;
  readonly reject: (error: Error) => void;
  readonly pdf: PassThrough;
  laidOut: boolean;
}

export class PdfLayoutThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextJob = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PdfLayoutOptions = {}) {}

  /** Whether a thread is up (started by a volume, not yet ended for idleness or by close). */
  get threadStarted(): boolean {
    return this.worker !== undefined;
  }

  /** The PDF of the items (of none, a page saying so), laid out in the thread; answers once laid out. */
  layOut(items: readonly ExportItem[], title: string): Promise<Readable> {
    const worker = this.running();
    // A thread at work keeps the process alive until its volume is done.
    worker.ref();
    const job = this.nextJob++;
    const pdf = new PassThrough();
    return new Promise<Readable>((resolve, reject) => {
      this.pending.set(job, { worker, resolve, reject, pdf, laidOut: false });
      const message: LayoutJob = { job, items, title };
      worker.postMessage(message);
    });
  }

  /** Ends the thread now; volumes being laid out fail. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private running(): Worker {
    clearTimeout(this.idleTimer);
    if (this.worker) return this.worker;
    const entry = workerEntry();
    const worker = new Worker(entry.file, { execArgv: entry.execArgv, resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb ?? PDF_LAYOUT_HEAP_MB } });
    worker.on('message', (message: LayoutMessage) => this.received(message));
    worker.on('error', (error) => this.lost(worker, new Error(`PDF layout thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.lost(worker, new Error(`PDF layout thread ended (exit code ${code}) before the PDF was complete`)));
    this.worker = worker;
    return worker;
  }

  private received(message: LayoutMessage): void {
    const pending = this.pending.get(message.job);
    if (!pending) return;
    switch (message.type) {
      case 'laidOut':
        pending.laidOut = true;
        pending.resolve(pending.pdf);
        break;
      case 'chunk':
        // A reader that gave up (a failed upload) has destroyed the stream; the rest is dropped.
        if (!pending.pdf.destroyed) pending.pdf.write(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength));
        break;
      case 'end':
        this.settled(message.job);
        pending.pdf.end();
        break;
      case 'failed':
        this.settled(message.job);
        this.fail(pending, new Error(`PDF layout failed: ${message.message}`));
        break;
      default: {
        const unknown: never = message;
        throw new Error(`PDF layout thread sent ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** A thread is gone: every volume it held fails, and the next volume starts a new one. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate();
    for (const [job, pending] of this.pending) {
      if (pending.worker !== worker) continue;
      this.pending.delete(job);
      this.fail(pending, error);
    }
  }

  private fail(pending: Pending, error: Error): void {
    if (pending.laidOut) pending.pdf.destroy(error);
    else pending.reject(error);
  }

  private settled(job: number): void {
    this.pending.delete(job);
    if (this.pending.size === 0) {
      // An idle thread does not keep the process alive; the idle timer ends it anyway.
      this.worker?.unref();
      const idleMs = this.options.idleMs ?? PDF_LAYOUT_IDLE_MS;
      this.idleTimer = setTimeout(() => void this.close(), idleMs);
      this.idleTimer.unref();
    }
  }
}
