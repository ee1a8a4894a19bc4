/**
 * A streaming ZIP writer: entries are deflated and written one after another to `stream` (with data
 * descriptors, so no size has to be known in advance and nothing is held back), then the central
 * directory. Writing waits while the stream's reader lags, so memory holds one entry at most.
 *
 * Plain ZIP (no ZIP64): at most 65,535 entries and 4 GiB; beyond either, `addEntry` throws
 * ZipLimitExceeded rather than write an archive that unzip tools would misread. (archiver, the usual
 * choice, is an ES module that jest's CommonJS loader cannot load untransformed; this is all we need.)
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

const MAX_ENTRIES = 0xffff;
const MAX_OFFSET = 0xffffffff;
const FLAGS = 0x0008 | 0x0800; // sizes in a data descriptor; UTF-8 names

interface CentralEntry {
  readonly name: Buffer;
  readonly crc: number;
  readonly compressed: number;
  readonly size: number;
  readonly offset: number;
}

export class ZipLimitExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipLimitExceeded';
  }
}

export class ZipWriter {
  readonly stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly entries: CentralEntry[] = [];
  private offset = 0;
  private readonly time: number;
  private readonly date: number;

  constructor(modified: Date) {
    this.time = (modified.getUTCHours() << 11) | (modified.getUTCMinutes() << 5) | Math.floor(modified.getUTCSeconds() / 2);
    this.date = ((Math.max(modified.getUTCFullYear(), 1980) - 1980) << 9) | ((modified.getUTCMonth() + 1) << 5) | modified.getUTCDate();
  }

  get bytesWritten(): number {
    return this.offset;
  }

  /** Adds one file; a string or buffer is deflated at once, a stream as it flows. */
  async addEntry(name: string, content: string | Buffer | Readable): Promise<void> {
    if (this.entries.length >= MAX_ENTRIES) throw new ZipLimitExceeded(`a zip holds at most ${MAX_ENTRIES} entries`);
    const fileName = Buffer.from(name, 'utf8');
    const offset = this.offset;
    await this.write(this.localHeader(fileName));
    let crc = 0;
    let size = 0;
    let compressed = 0;
    if (content instanceof Readable) {
      await pipeline(
        content,
        async function* measure(chunks: AsyncIterable<Buffer | string>) {
          for await (const chunk of chunks) {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            crc = zlib.crc32(bytes, crc);
            size += bytes.length;
            yield bytes;
          }
        },
        zlib.createDeflateRaw({ level: 6 }),
        async (chunks: AsyncIterable<Buffer>) => {
          for await (const chunk of chunks) {
            compressed += chunk.length;
            await this.write(chunk);
          }
        },
      );
    } else {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      const deflated = zlib.deflateRawSync(bytes, { level: 6 });
      crc = zlib.crc32(bytes);
      size = bytes.length;
      compressed = deflated.length;
      await this.write(deflated);
    }
    if (this.offset + 16 > MAX_OFFSET || size > MAX_OFFSET) throw new ZipLimitExceeded('a zip holds at most 4 GiB');
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    descriptor.writeUInt32LE(compressed, 8);
    descriptor.writeUInt32LE(size, 12);
    await this.write(descriptor);
    this.entries.push({ name: fileName, crc: crc >>> 0, compressed, size, offset });
  }

  /** Writes the central directory and ends the stream. */
  async finish(): Promise<void> {
    const start = this.offset;
    for (const entry of this.entries) {
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(20, 4); // made by: version 2.0
      header.writeUInt16LE(20, 6); // needed to extract
      header.writeUInt16LE(FLAGS, 8);
      header.writeUInt16LE(8, 10); // deflate
      header.writeUInt16LE(this.time, 12);
      header.writeUInt16LE(this.date, 14);
      header.writeUInt32LE(entry.crc, 16);
      header.writeUInt32LE(entry.compressed, 20);
      header.writeUInt32LE(entry.size, 24);
      header.writeUInt16LE(entry.name.length, 28);
      header.writeUInt32LE(entry.offset, 42);
      await this.write(Buffer.concat([header, entry.name]));
    }
    const size = this.offset - start;
    if (this.offset + 22 > MAX_OFFSET) throw new ZipLimitExceeded('a zip holds at most 4 GiB');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(size, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
    this.stream.end();
  }

  private localHeader(name: Buffer): Buffer {
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(FLAGS, 6);
    header.writeUInt16LE(8, 8);
    header.writeUInt16LE(this.time, 10);
    header.writeUInt16LE(this.date, 12);
    // crc and sizes (14..25) stay zero: they follow in the data descriptor.
    header.writeUInt16LE(name.length, 26);
    return Buffer.concat([header, name]);
  }

  private async write(bytes: Buffer): Promise<void> {
    this.offset += bytes.length;
    if (!this.stream.write(bytes)) await once(this.stream, 'drain');
  }
}
