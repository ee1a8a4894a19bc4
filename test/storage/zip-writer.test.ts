/**
 * The streaming zip writer against an independent reader (yauzl, which checks sizes): text entries,
 * a multi-megabyte streamed entry, UTF-8 names, and the checksums of what comes out.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { ZipWriter } from '../../projectors/exports/zip-writer';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function entries(buffer: Buffer): Promise<Array<{ name: string; crc: number; data: Buffer }>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const found: Array<{ name: string; crc: number; data: Buffer }> = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(found));
      zip.on('entry', (entry: yauzl.Entry) =>
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          void collect(stream).then((data) => {
            found.push({ name: entry.fileName, crc: entry.crc32, data });
            zip.readEntry();
          }, reject);
        }),
      );
      zip.readEntry();
    });
  });
}

describe('zip writer', () => {
  it('writes entries that an independent reader reads back byte for byte', async () => {
    const writer = new ZipWriter(new Date('2026-11-22T10:20:30Z'));
    const output = collect(writer.stream);
    const large = randomBytes(3 * 1024 * 1024);
    await writer.addEntry('notes/ὁ-λόγος.md', '---\ntitle: "ὁ λόγος"\n---\n');
    await writer.addEntry('big.bin', Readable.from([large.subarray(0, 1_000_000), large.subarray(1_000_000)]));
    await writer.addEntry('empty.md', '');
    await writer.finish();
    const zip = await output;
    expect(zip.length).toBe(writer.bytesWritten);
    const read = await entries(zip);
    expect(read.map((entry) => entry.name)).toEqual(['notes/ὁ-λόγος.md', 'big.bin', 'empty.md']);
    expect(read[0]!.data.toString('utf8')).toBe('---\ntitle: "ὁ λόγος"\n---\n');
    expect(read[1]!.data.equals(large)).toBe(true);
    expect(read[2]!.data.length).toBe(0);
    for (const entry of read) expect(entry.crc).toBe(zlib.crc32(entry.data));
  });

  it('waits for a slow reader instead of buffering the whole archive', async () => {
    const writer = new ZipWriter(new Date());
    let written = 0;
    const writing = (async () => {
      for (let index = 0; index < 50; index++) {
        await writer.addEntry(`${index}.bin`, randomBytes(256 * 1024));
        written++;
      }
      await writer.finish();
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Nothing reads yet: the writer is held at its buffer (1 MiB), far short of 50 entries of 256 KiB.
    expect(written).toBeLessThan(10);
    const zip = await collect(writer.stream);
    await writing;
    expect((await entries(zip)).length).toBe(50);
  });
});
