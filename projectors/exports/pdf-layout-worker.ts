/**
 * The entry of a PDF layout thread (see pdf-layout-thread.ts): lays out the jobs it is sent, one at a
 * time in the order they came, and sends each PDF back in chunks, then a last message saying it ended
 * or why it failed.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { ExportItem } from './export-items';
import { itemsPdf } from './pdf-render';

export interface LayoutJob {
  readonly job: number;
  readonly items: readonly ExportItem[];
  readonly title: string;
}

export type LayoutMessage =
  | { readonly job: number; readonly type: 'laidOut' }
  | { readonly job: number; readonly type: 'chunk'; readonly chunk: Uint8Array }
  | { readonly job: number; readonly type: 'end' }
  | { readonly job: number; readonly type: 'failed'; readonly message: string };

async function layOut(port: MessagePort, { job, items, title }: LayoutJob): Promise<void> {
  const send = (message: LayoutMessage) => port.postMessage(message);
  try {
    const pdf = await itemsPdf(items, title);
    send({ job, type: 'laidOut' });
    for await (const chunk of pdf) send({ job, type: 'chunk', chunk: chunk as Uint8Array });
    send({ job, type: 'end' });
  } catch (error) {
    send({ job, type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}

if (parentPort) {
  const port = parentPort;
  let queue = Promise.resolve();
  port.on('message', (job: LayoutJob) => {
    queue = queue.then(() => layOut(port, job));
  });
}
