/**
 * One note or document as a Markdown file: YAML front matter (title, date, tags, topics, passages;
 * every string JSON-quoted, which YAML reads as the same string whatever it contains), then the title
 * as a heading and the content as written. And a file name for it inside the zip.
 */
import type { ExportItem } from './export-items';

const quoted = (value: string) => JSON.stringify(value);
const list = (values: readonly string[]) => `[${values.map(quoted).join(', ')}]`;

export function frontMatter(item: ExportItem): string {
  const lines = [
    '---',
    `id: ${quoted(item.id)}`,
    `type: ${item.kind}`,
    `title: ${quoted(item.title)}`,
    `date: ${quoted(item.date)}`,
    `tags: ${list(item.tags)}`,
    ...(item.kind === 'note' ? [`topics: ${list(item.topics)}`] : []),
    `passages: ${list(item.passages)}`,
    ...(item.workspace !== undefined ? [`workspace: ${quoted(item.workspace)}`] : []),
    '---',
  ];
  return `${lines.join('\n')}\n`;
}

export function markdownFile(item: ExportItem): string {
  const heading = item.title.trim() === '' ? '' : `# ${item.title.replace(/\s+/g, ' ').trim()}\n\n`;
  return `${frontMatter(item)}\n${heading}${item.content}${item.content.endsWith('\n') ? '' : '\n'}`;
}

/** `notes/2026-11-22-title-1a2b3c4d5e6f.md`, `documents/workspace/title-1a2b3c4d5e6f.md`: unique by the id's first twelve hex digits. */
export function markdownFileName(item: ExportItem): string {
  const slug = slugOf(item.title) || 'untitled';
  const suffix = item.id.replace(/-/g, '').slice(0, 12);
  if (item.kind === 'note') return `notes/${item.date.slice(0, 10)}-${slug}-${suffix}.md`;
  return `documents/${slugOf(item.workspace ?? '') || 'workspace'}/${slug}-${suffix}.md`;
}

/** Letters of any script and digits kept (Greek and Hebrew titles stay readable), the rest a dash. */
function slugOf(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
}
