// Prints the text of the PDF file named by the first argument (pdf-parse is ESM; tests run it in a child process).
import { readFileSync } from 'node:fs';
import { PDFParse } from 'pdf-parse';

const parser = new PDFParse({ data: readFileSync(process.argv[2]) });
const result = await parser.getText();
await parser.destroy();
process.stdout.write(result.text);
