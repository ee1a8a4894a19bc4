/** The CLI's tables and progress line: what an operator sees on a terminal and in a log file. */
import { formatDuration, ProgressDisplay, renderTable } from './terminal';

function recorder(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => (written.push(text), true) } };
}

describe('progress display', () => {
  it('given a known total, then the line shows a bar, the share done, events per second and an ETA', () => {
    expect(ProgressDisplay.line({ label: 'replaying workspaces', done: 2_500, total: 10_000 }, 1_000)).toBe(
      'replaying workspaces  [######------------------]   25%  2,500/10,000 events  2,500 ev/s  ETA 0:03',
    );
  });

  it('given no total, then the line shows the events and their rate only', () => {
    expect(ProgressDisplay.line({ label: 'replaying the log', done: 1_200, total: undefined }, 4_000)).toBe('replaying the log  1,200 events  300 ev/s');
  });

  it('given a terminal, then the line is redrawn in place, at most every 100 ms, and ended on finish', () => {
    let now = 0;
    const { written, stream } = recorder(true);
    const display = new ProgressDisplay(stream, { now: () => now });

    for (now = 0; now <= 300; now += 50) display.update({ label: 'replaying', done: now, total: 1_000 });
    display.finish();

    expect(written.slice(0, -1).every((text) => text.startsWith('\r') && text.endsWith('\x1b[K'))).toBe(true);
    expect(written).toHaveLength(4 + 1); // drawn at 0, 100, 200 and 300 ms, then the final line
    expect(written[written.length - 1]!.endsWith('\n')).toBe(true);
  });

  it('given no terminal, then a plain line is printed every few seconds and when the phase changes', () => {
    let now = 0;
    const { written, stream } = recorder(false);
    const display = new ProgressDisplay(stream, { now: () => now, lineEveryMs: 3_000 });

    for (now = 0; now <= 7_000; now += 1_000) display.update({ label: 'replaying', done: now, total: undefined });
    display.update({ label: 'swapping', done: 7_000, total: undefined });
    display.finish();

    expect(written.map((text) => text.split('  ')[0])).toEqual(['replaying', 'replaying', 'replaying', 'swapping']);
    expect(written.every((text) => !text.includes('\r') && text.endsWith('\n'))).toBe(true);
  });
});

describe('tables and durations', () => {
  it('aligns columns, right-aligning numbers', () => {
    expect(renderTable([{ header: 'NAME' }, { header: 'N', align: 'right' }], [['accounts', '7'], ['ws', '1,024']])).toBe(
      'NAME          N\naccounts      7\nws        1,024\n',
    );
  });

  it('formats durations as m:ss or h:mm:ss', () => {
    expect([formatDuration(5), formatDuration(65), formatDuration(3_725), formatDuration(Number.POSITIVE_INFINITY)]).toEqual(['0:05', '1:05', '1:02:05', '?']);
  });
});
