/**
 * Output for people: aligned tables, and a progress line (a bar with events per second and an ETA
 * redrawn in place with \r on a terminal; a plain line every few seconds anywhere else). No
 * dependency: what a terminal needs here is a few escape codes.
 */

export interface OutputStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
}

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

export function renderTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        return column.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)].join('\n') + '\n';
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

export interface ProgressState {
  /** What is going on, e.g. "replaying workspaces". */
  readonly label: string;
  readonly done: number;
  readonly total: number | undefined;
}

/**
 * Draws progress on `out`. On a terminal the line is redrawn at most every `redrawMs`; elsewhere a
 * line is printed every `lineEveryMs` and whenever the label changes.
 */
export class ProgressDisplay {
  private readonly startedAt: number;
  private lastDrawnAt = Number.NEGATIVE_INFINITY;
  private lastLabel: string | undefined;
  private state: ProgressState | undefined;
  private drawnState: ProgressState | undefined;
  private drawnInPlace = false;

  constructor(
    private readonly out: OutputStream,
    private readonly options: { now?: () => number; redrawMs?: number; lineEveryMs?: number } = {},
  ) {
    this.startedAt = this.now();
  }

  update(state: ProgressState): void {
    this.state = state;
    const now = this.now();
    const labelChanged = state.label !== this.lastLabel;
    if (this.out.isTTY) {
      if (labelChanged && this.drawnInPlace) this.out.write('\n');
      if (labelChanged || now - this.lastDrawnAt >= (this.options.redrawMs ?? 100)) this.draw(now, '\r', '\x1b[K');
    } else if (labelChanged || now - this.lastDrawnAt >= (this.options.lineEveryMs ?? 3_000)) {
      this.draw(now, '', '\n');
    }
    this.lastLabel = state.label;
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (!this.state) return;
    if (this.out.isTTY) {
      this.draw(this.now(), '\r', '\x1b[K\n');
    } else if (this.drawnState !== this.state) {
      this.draw(this.now(), '', '\n');
    }
    this.drawnInPlace = false;
    this.state = undefined;
    this.lastLabel = undefined;
  }

  /** The text of the line for a state, `elapsedMs` after the start. */
  static line(state: ProgressState, elapsedMs: number): string {
    const seconds = elapsedMs / 1000;
    const rate = seconds > 0 ? state.done / seconds : 0;
    const parts = [state.label];
    if (state.total !== undefined && state.total > 0) {
      const fraction = Math.min(1, state.done / state.total);
      const width = 24;
      const filled = Math.round(fraction * width);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`, `${String(Math.floor(fraction * 100)).padStart(3)}%`);
      parts.push(`${formatCount(state.done)}/${formatCount(state.total)} events`);
      parts.push(`${formatCount(Math.round(rate))} ev/s`);
      parts.push(`ETA ${rate > 0 ? formatDuration(Math.max(0, state.total - state.done) / rate) : '?'}`);
    } else {
      parts.push(`${formatCount(state.done)} events`, `${formatCount(Math.round(rate))} ev/s`);
    }
    return parts.join('  ');
  }

  private draw(now: number, before: string, after: string): void {
    if (!this.state) return;
    this.out.write(`${before}${ProgressDisplay.line(this.state, now - this.startedAt)}${after}`);
    this.lastDrawnAt = now;
    this.drawnState = this.state;
    this.drawnInPlace = before === '\r' && !after.endsWith('\n');
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
