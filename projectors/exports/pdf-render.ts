/**
 * Markdown to PDF without a browser: markdown-it parses each note or document into tokens, which become
 * pdfmake blocks (headings, paragraphs with bold, italic, code and links, lists, quotes, code blocks,
 * rules); pdfmake lays them out in DejaVu Sans, embedded, which has Greek and Hebrew glyphs. Raw HTML
 * in the Markdown is shown as text, never interpreted; images are not fetched (pdfmake's URL and file
 * access policies refuse everything), so an export cannot be made to read files or call out.
 *
 * Everything here is CPU-bound and synchronous for seconds on a large volume: the export builder runs
 * it in a worker thread (pdf-layout-thread.ts), never on the projectors' event loop.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import MarkdownIt from 'markdown-it';
import type { ExportItem } from './export-items';

type Token = MarkdownIt.Token;
type Block = Record<string, unknown> | string;
type Inline = { text: string | Inline[]; bold?: boolean; italics?: boolean; font?: string; link?: string; decoration?: string; color?: string; background?: string };

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

const require_ = createRequire(__filename);

interface PdfMake {
  setFonts(fonts: Record<string, Record<string, string>>): void;
  setUrlAccessPolicy(callback: (url: string) => boolean): void;
  setLocalAccessPolicy(callback: (path: string) => boolean): void;
  createPdf(definition: Record<string, unknown>): { getStream(): Promise<Readable & { end(): void }> };
}

let pdfmakeInstance: PdfMake | undefined;

/** pdfmake with DejaVu Sans (regular, bold, oblique) from the dejavu-fonts-ttf package, and no network or file access beyond them. */
function pdfmake(): PdfMake {
  if (pdfmakeInstance) return pdfmakeInstance;
  const fonts = path.join(path.dirname(require_.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const instance = require_('pdfmake') as PdfMake;
  const files = {
    normal: path.join(fonts, 'DejaVuSans.ttf'),
    bold: path.join(fonts, 'DejaVuSans-Bold.ttf'),
    italics: path.join(fonts, 'DejaVuSans-Oblique.ttf'),
    bolditalics: path.join(fonts, 'DejaVuSans-BoldOblique.ttf'),
  };
  const mono = {
    normal: path.join(fonts, 'DejaVuSansMono.ttf'),
    bold: path.join(fonts, 'DejaVuSansMono-Bold.ttf'),
    italics: path.join(fonts, 'DejaVuSansMono-Oblique.ttf'),
    bolditalics: path.join(fonts, 'DejaVuSansMono-BoldOblique.ttf'),
  };
  const allowed = new Set([...Object.values(files), ...Object.values(mono)]);
  instance.setFonts({ DejaVuSans: files, DejaVuSansMono: mono });
  instance.setUrlAccessPolicy(() => false);
  instance.setLocalAccessPolicy((file) => allowed.has(path.resolve(file)));
  pdfmakeInstance = instance;
  return instance;
}

/** The blocks of one item: its title, a line of metadata, then its content; each item starts a page. */
export function itemBlocks(item: ExportItem, first: boolean): Block[] {
  const meta = [
    item.date.slice(0, 10),
    item.workspace !== undefined ? `workspace: ${item.workspace}` : '',
    item.tags.length > 0 ? `tags: ${item.tags.join(', ')}` : '',
    item.passages.length > 0 ? `passages: ${item.passages.join('; ')}` : '',
  ].filter((part) => part !== '');
  return [
    { text: item.title.trim() === '' ? 'Untitled' : item.title, style: 'title', ...(first ? {} : { pageBreak: 'before' }) },
    { text: meta.join('  ·  '), style: 'meta' },
    ...markdownBlocks(item.content),
  ];
}

export function markdownBlocks(source: string): Block[] {
  return blocksOf(markdown.parse(source, {}), { index: 0 }, undefined);
}

/** Reads block tokens up to the closing token `until` (or the end), turning each into a pdfmake block. */
function blocksOf(tokens: Token[], at: { index: number }, until: string | undefined): Block[] {
  const blocks: Block[] = [];
  while (at.index < tokens.length) {
    const token = tokens[at.index++]!;
    if (until !== undefined && token.type === until) break;
    switch (token.type) {
      case 'heading_open': {
        const level = Number(token.tag.slice(1));
        const inline = tokens[at.index++]!;
        at.index++; // heading_close
        blocks.push({ text: inlinesOf(inline.children ?? []), style: level <= 2 ? 'h1' : 'h2' });
        break;
      }
      case 'paragraph_open': {
        const inline = tokens[at.index++]!;
        at.index++; // paragraph_close
        blocks.push({ text: inlinesOf(inline.children ?? []), style: 'paragraph' });
        break;
      }
      case 'bullet_list_open':
      case 'ordered_list_open': {
        const closing = token.type === 'bullet_list_open' ? 'bullet_list_close' : 'ordered_list_close';
        const items: Block[] = [];
        while (at.index < tokens.length && tokens[at.index]!.type !== closing) {
          const open = tokens[at.index++]!;
          if (open.type !== 'list_item_open') continue;
          const inner = blocksOf(tokens, at, 'list_item_close');
          items.push(inner.length === 1 ? inner[0]! : { stack: inner });
        }
        at.index++; // the list's closing token
        blocks.push(token.type === 'bullet_list_open' ? { ul: items, style: 'paragraph' } : { ol: items, style: 'paragraph' });
        break;
      }
      case 'blockquote_open':
        blocks.push({ stack: blocksOf(tokens, at, 'blockquote_close'), style: 'quote' });
        break;
      case 'fence':
      case 'code_block':
        blocks.push({ text: token.content.replace(/\n$/, ''), style: 'code' });
        break;
      case 'hr':
        blocks.push({ canvas: [{ type: 'line', x1: 0, y1: 4, x2: 515, y2: 4, lineWidth: 0.5, lineColor: '#999999' }], margin: [0, 4, 0, 8] });
        break;
      case 'html_block':
        blocks.push({ text: token.content, style: 'paragraph' });
        break;
      case 'table_open':
        blocks.push({ text: tableText(tokens, at), style: 'code' });
        break;
      default:
        // Closing tokens of structures handled above and anything without content.
        break;
    }
  }
  return blocks;
}

/** Tables as aligned text: rare in notes, and a pdfmake table per note costs more than it gives. */
function tableText(tokens: Token[], at: { index: number }): string {
  const rows: string[][] = [];
  let row: string[] = [];
  while (at.index < tokens.length) {
    const token = tokens[at.index++]!;
    if (token.type === 'table_close') break;
    if (token.type === 'tr_open') row = [];
    if (token.type === 'inline') row.push(token.content);
    if (token.type === 'tr_close') rows.push(row);
  }
  return rows.map((cells) => cells.join(' | ')).join('\n');
}

function inlinesOf(tokens: Token[]): Inline[] {
  const out: Inline[] = [];
  const style = { bold: 0, italics: 0, link: [] as string[], strike: 0 };
  for (const token of tokens) {
    const current = (): Omit<Inline, 'text'> => ({
      ...(style.bold > 0 ? { bold: true } : {}),
      ...(style.italics > 0 ? { italics: true } : {}),
      ...(style.link[style.link.length - 1] ? { link: style.link[style.link.length - 1]!, color: '#1a4f8b', decoration: 'underline' } : {}),
      ...(style.strike > 0 ? { decoration: 'lineThrough' } : {}),
    });
    switch (token.type) {
      case 'text':
      case 'html_inline':
        out.push({ text: token.content, ...current() });
        break;
      case 'code_inline':
        out.push({ text: token.content, font: 'DejaVuSansMono', background: '#eeeeee', ...current() });
        break;
      case 'softbreak':
        out.push({ text: ' ' });
        break;
      case 'hardbreak':
        out.push({ text: '\n' });
        break;
      case 'strong_open':
        style.bold++;
        break;
      case 'strong_close':
        style.bold--;
        break;
      case 'em_open':
        style.italics++;
        break;
      case 'em_close':
        style.italics--;
        break;
      case 's_open':
        style.strike++;
        break;
      case 's_close':
        style.strike--;
        break;
      case 'link_open': {
        const href = String(token.attrGet('href') ?? '');
        // Only web and mail links become clickable; anything else (javascript:, file:) stays text.
        style.link.push(/^(https?:|mailto:)/i.test(href) ? href : '');
        break;
      }
      case 'link_close':
        if (style.link.length > 0) style.link.pop();
        break;
      case 'image':
        out.push({ text: `[${token.content || 'image'}]`, italics: true });
        break;
      default:
        break;
    }
  }
  return out;
}

export const PDF_STYLES = {
  title: { fontSize: 18, bold: true, margin: [0, 0, 0, 4] },
  meta: { fontSize: 9, color: '#666666', margin: [0, 0, 0, 12] },
  h1: { fontSize: 14, bold: true, margin: [0, 10, 0, 4] },
  h2: { fontSize: 12, bold: true, margin: [0, 8, 0, 4] },
  paragraph: { fontSize: 10.5, lineHeight: 1.25, margin: [0, 0, 0, 6] },
  quote: { italics: true, color: '#444444', margin: [16, 0, 0, 6] },
  code: { font: 'DejaVuSansMono', fontSize: 9, background: '#f4f4f4', margin: [0, 0, 0, 6], preserveLeadingSpaces: true },
};

/** The PDF of the items, each starting a page; of no items, a page saying so. */
export function itemsPdf(items: readonly ExportItem[], title: string): Promise<Readable> {
  const blocks = items.length === 0 ? [{ text: 'Nothing to export.' }] : items.flatMap((item, index) => itemBlocks(item, index === 0));
  return pdfStream(blocks, title);
}

/** The PDF of all the items' blocks as a stream (pdfmake lays the whole document out first). */
async function pdfStream(blocks: Block[], title: string): Promise<Readable> {
  const document = pdfmake().createPdf({
    info: { title, creator: 'Scriptorium' },
    pageSize: 'A4',
    pageMargins: [40, 48, 40, 48],
    defaultStyle: { font: 'DejaVuSans', fontSize: 10.5 },
    styles: PDF_STYLES,
    content: blocks,
    footer: (page: number, pages: number) => ({ text: `${page} / ${pages}`, alignment: 'center', fontSize: 8, color: '#888888', margin: [0, 16, 0, 0] }),
  });
  const stream = await document.getStream();
  stream.end();
  return stream;
}
