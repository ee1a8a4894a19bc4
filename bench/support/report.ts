/**
 * Plain-text output: tables with aligned columns (first column left, the rest right-aligned, as
 * numbers read best) and the number formats every figure uses.
 */

export interface Table {
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly notes?: readonly string[];
}

export function renderTable(table: Table): string {
  const widths = table.headers.map((header, column) =>
    Math.max(header.length, ...table.rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [
    table.title,
    '',
    `  ${line(table.headers)}`,
    `  ${rule}`,
    ...table.rows.map((row) => `  ${line(row)}`),
    ...(table.notes ?? []).map((note) => `  ${note}`),
    '',
  ].join('\n');
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatMs(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

export function formatRatio(value: number): string {
  return value.toFixed(3);
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function verdict(met: boolean): string {
  return met ? 'target met' : 'target missed';
}
