/**
 * Builds one export into object storage, streaming: items are read a page at a time, each becomes a
 * Markdown file (or PDF blocks), and the output flows through a zip writer straight into a multipart
 * upload. The next item is only read once the writer has passed the previous one on, so backpressure
 * from the upload reaches the database reads and memory stays flat whatever the export's size.
 *
 * PDF: pdfmake lays a whole document out in memory before it writes a byte, so a PDF export is cut
 * into volumes of `pdfVolumeItems` items: up to that many, the export is one PDF; beyond, it is a zip
 * of PDF volumes (memory then grows with one volume, never with the export). Volumes are laid out in
 * a worker thread (pdf-layout-thread.ts), off the projectors' event loop.
 */
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { ExportFormat, ExportScope } from '../../domain/exports/export';
import type { ObjectStorage } from '../../infra/storage/object-storage';
import { countExportItems, exportItems, type ExportItem } from './export-items';
import { markdownFile, markdownFileName } from './markdown-files';
import type { PdfLayoutThread } from './pdf-layout-thread';
import { ZipWriter } from './zip-writer';

export interface ExportJob {
  readonly exportId: string;
  readonly ownerId: string;
  readonly format: ExportFormat;
  readonly scope: ExportScope;
}

export interface BuiltExport {
  readonly key: string;
  readonly fileName: string;
  readonly size: number;
  readonly items: number;
}

export interface BuildOptions {
  readonly db: Knex;
  readonly storage: ObjectStorage;
  readonly now: Date;
  /** Called with the items done of the total, after each item (the caller decides how often to record it). */
  readonly onProgress: (done: number, total: number) => Promise<void> | void;
  readonly pdfVolumeItems?: number;
  /** Where PDF volumes are laid out, off the caller's event loop. */
  readonly pdfLayout: PdfLayoutThread;
}

export const DEFAULT_PDF_VOLUME_ITEMS = 500;

const PDF_TITLE = 'Scriptorium export';

export async function buildExport(job: ExportJob, options: BuildOptions): Promise<BuiltExport> {
  const total = await countExportItems(options.db, job.ownerId, job.scope);
  await options.onProgress(0, total);
  const volumeItems = options.pdfVolumeItems ?? DEFAULT_PDF_VOLUME_ITEMS;
  const singlePdf = job.format === 'pdf' && total <= volumeItems;
  const fileName = `scriptorium-export-${options.now.toISOString().slice(0, 10)}${singlePdf ? '.pdf' : '.zip'}`;
  const key = `exports/${job.ownerId}/${job.exportId}/${fileName}`;
  const items = exportItems(options.db, job.ownerId, job.scope);

  const counter = new ByteCounter();
  const uploading = options.storage.uploadStream(key, counter, singlePdf ? 'application/pdf' : 'application/zip');
  // Until the upload has settled, a failure of either side must end the other.
  uploading.catch((error: unknown) => counter.destroy(error as Error));
  let done = 0;
  const progressed = async () => {
    done++;
    await options.onProgress(done, total);
  };
  try {
    if (singlePdf) {
      // The count may have grown since it was taken; one PDF takes whatever is there now.
      const volume = await nextVolume(items, Number.POSITIVE_INFINITY, progressed);
      await pipeline(await options.pdfLayout.layOut(volume, PDF_TITLE), counter);
    } else {
      const zip = new ZipWriter(options.now);
      const zipped = pipeline(zip.stream, counter);
      // If the upload side fails, stop writing entries at once.
      zipped.catch(() => undefined);
      if (job.format === 'markdown') {
        for await (const item of items) {
          await zip.addEntry(markdownFileName(item), markdownFile(item));
          await progressed();
        }
      } else {
        for (let number = 1; ; number++) {
          const volume = await nextVolume(items, volumeItems, progressed);
          if (volume.length === 0) break;
          const pdf = await options.pdfLayout.layOut(volume, PDF_TITLE);
          await zip.addEntry(`scriptorium-export-${String(number).padStart(3, '0')}.pdf`, pdf);
          if (volume.length < volumeItems) break;
        }
      }
      await zip.finish();
      await zipped;
    }
    await uploading;
  } catch (error) {
    counter.destroy(error as Error);
    await uploading.catch(() => undefined);
    throw error;
  }
  return { key, fileName, size: counter.bytes, items: done };
}

/** The next up to `limit` items, for one PDF. */
async function nextVolume(items: AsyncIterator<ExportItem>, limit: number, progressed: () => Promise<void>): Promise<ExportItem[]> {
  const volume: ExportItem[] = [];
  while (volume.length < limit) {
    const next = await items.next();
    if (next.done) break;
    volume.push(next.value);
    await progressed();
  }
  return volume;
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}
