/**
 * PDF layout in a thread: each PDF holds what it was given (volumes asked for at once too), the event
 * loop of the process that asked keeps turning while a large volume is laid out, a volume the
 * thread's heap cannot hold fails that PDF alone (the next one is laid out as usual), closing fails
 * what is in hand, and an idle thread ends.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ExportItem } from '../../projectors/exports/export-items';
import { PdfLayoutThread } from '../../projectors/exports/pdf-layout-thread';
import { pdfText } from '../support/extract-pdf-text';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

function note(title: string, paragraphs: number): ExportItem {
  const body = Array.from({ length: paragraphs }, (_, i) => `Paragraph ${i} of **${title}**: in the beginning was the Word, *Ἐν ἀρχῇ ἦν ὁ λόγος*, and the Word was with God.`);
  return { kind: 'note', id: randomUUID(), title, date: '2026-11-23T08:00:00.000Z', tags: ['study'], topics: [], passages: ['John.1.1'], content: `# ${title}\n\n${body.join('\n\n')}\n` };
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The longest the event loop went without running a 1 ms timer while `work` ran, and how long `work` took. */
async function longestStall(work: () => Promise<unknown>): Promise<{ stallMs: number; tookMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  stallMs = Math.max(stallMs, performance.now() - last);
  return { stallMs, tookMs: performance.now() - started };
}

describe('PDF layout thread', () => {
  const layout = new PdfLayoutThread();
  afterAll(() => layout.close());

  it('given notes, when laid out in the thread, then the PDF holds their titles and text', async () => {
    const pdf = await bytesOf(await layout.layOut([note('On the Prologue', 2), note('On Genesis', 1)], 'Scriptorium export'));

    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(pdf);
    expect(text).toContain('On the Prologue');
    expect(text).toContain('On Genesis');
    expect(text).toContain('Ἐν ἀρχῇ ἦν ὁ λόγος');
  });

  it('given no items, then the PDF says there is nothing to export', async () => {
    const text = await pdfText(await bytesOf(await layout.layOut([], 'Scriptorium export')));

    expect(text).toContain('Nothing to export.');
  });

  it('given volumes asked for at once, then each PDF holds its own notes', async () => {
    const titles = ['First volume', 'Second volume', 'Third volume'];

    const pdfs = await Promise.all(titles.map(async (title) => bytesOf(await layout.layOut([note(title, 30)], title))));

    const texts = await Promise.all(pdfs.map((pdf) => pdfText(pdf)));
    texts.forEach((text, index) => {
      expect(text).toContain(titles[index]);
      expect(titles.filter((title) => text.includes(title))).toEqual([titles[index]]);
    });
  });

  it('given a large volume, when it is laid out, then the event loop of the process that asked keeps turning', async () => {
    const volume = Array.from({ length: 300 }, (_, i) => note(`Note ${i}`, 12));

    const { stallMs, tookMs } = await longestStall(async () => bytesOf(await layout.layOut(volume, 'Scriptorium export')));

    // Laid out on this event loop, the layout would be one stall as long as the whole PDF took.
    expect(tookMs).toBeGreaterThan(500);
    expect(stallMs).toBeLessThan(tookMs / 4);
  });

  it('given a volume larger than the thread may hold, then that PDF fails and the next is laid out in a new thread', async () => {
    const small = new PdfLayoutThread({ heapMb: 48 });
    try {
      const volume = Array.from({ length: 400 }, (_, i) => note(`Note ${i}`, 12));

      await expect(small.layOut(volume, 'Scriptorium export')).rejects.toThrow(/out of memory/);
      const pdf = await bytesOf(await small.layOut([note('After the failure', 1)], 'Scriptorium export'));
      expect(await pdfText(pdf)).toContain('After the failure');
    } finally {
      await small.close();
    }
  });

  it('given a thread closed while it lays a volume out, then that volume fails', async () => {
    const closing = new PdfLayoutThread();
    const volume = Array.from({ length: 300 }, (_, i) => note(`Note ${i}`, 12));

    const laidOut = closing.layOut(volume, 'Scriptorium export');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await closing.close();

    await expect(laidOut).rejects.toThrow(/PDF layout thread ended/);
  });

  it('given an idle thread, when its idle time has passed, then it has ended, and the next volume starts another', async () => {
    const idle = new PdfLayoutThread({ idleMs: 100 });
    try {
      await bytesOf(await idle.layOut([note('Before', 1)], 'Scriptorium export'));
      expect(idle.threadStarted).toBe(true);

      await waitFor(async () => !idle.threadStarted, 5_000, 'the idle thread to end');
      const pdf = await bytesOf(await idle.layOut([note('After the idle time', 1)], 'Scriptorium export'));
      expect(await pdfText(pdf)).toContain('After the idle time');
    } finally {
      await idle.close();
    }
  });
});
