/** The text of a PDF, extracted by pdf-parse (an ES module, so in a child process: pdf-text.mjs). */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export async function pdfText(buffer: Buffer): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pdf-'));
  try {
    const file = path.join(dir, 'export.pdf');
    writeFileSync(file, buffer);
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'pdf-text.mjs'), file], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
