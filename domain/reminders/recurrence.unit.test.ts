import { DomainError } from '../shared/errors';
import { formatRule, nextOccurrence, parseRule } from './recurrence';

const sundays8Berlin = parseRule('FREQ=WEEKLY;BYDAY=SU;BYHOUR=8;BYMINUTE=0');

/** Successive occurrences after `from`. */
function occurrences(rule: ReturnType<typeof parseRule>, zone: string, from: string, count: number): string[] {
  const found: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i++) {
    after = nextOccurrence(rule, zone, after);
    found.push(after.toISOString());
  }
  return found;
}

describe('recurrence rules', () => {
  it('every Sunday 08:00 Europe/Berlin stays at 08:00 local across the March change (CET +1 to CEST +2)', () => {
    expect(occurrences(sundays8Berlin, 'Europe/Berlin', '2026-03-15T12:00:00Z', 3)).toEqual([
      '2026-03-22T07:00:00.000Z', // 08:00 CET
      '2026-03-29T06:00:00.000Z', // the change happens at 02:00 that very Sunday: 08:00 CEST
      '2026-04-05T06:00:00.000Z',
    ]);
  });

  it('every Sunday 08:00 Europe/Berlin stays at 08:00 local across the October change (CEST to CET)', () => {
    expect(occurrences(sundays8Berlin, 'Europe/Berlin', '2026-10-12T00:00:00Z', 3)).toEqual([
      '2026-10-18T06:00:00.000Z', // 08:00 CEST
      '2026-10-25T07:00:00.000Z', // the change at 03:00 that Sunday: 08:00 CET
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('an occurrence is strictly after the given instant', () => {
    expect(nextOccurrence(sundays8Berlin, 'Europe/Berlin', new Date('2026-03-22T07:00:00Z')).toISOString()).toBe('2026-03-29T06:00:00.000Z');
    expect(nextOccurrence(sundays8Berlin, 'Europe/Berlin', new Date('2026-03-22T06:59:59.999Z')).toISOString()).toBe('2026-03-22T07:00:00.000Z');
  });

  it('a local time skipped by the spring-forward gap fires right after the gap', () => {
    const daily0230 = parseRule('FREQ=DAILY;BYHOUR=2;BYMINUTE=30');
    // 02:30 does not exist in Berlin on 2026-03-29; 03:30 CEST is 01:30Z.
    expect(occurrences(daily0230, 'Europe/Berlin', '2026-03-28T12:00:00Z', 2)).toEqual(['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('daily rules and several weekdays, in other zones', () => {
    expect(occurrences(parseRule('FREQ=DAILY;BYHOUR=21'), 'America/New_York', '2026-03-07T03:00:00Z', 3)).toEqual([
      '2026-03-08T02:00:00.000Z', // 21:00 EST on the 7th
      '2026-03-09T01:00:00.000Z', // 21:00 EDT on the 8th (the change was at 02:00 that morning)
      '2026-03-10T01:00:00.000Z',
    ]);
    expect(occurrences(parseRule('freq=weekly;byday=mo,fr;byhour=9'), 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-02T09:00:00.000Z',
      '2026-01-05T09:00:00.000Z',
      '2026-01-09T09:00:00.000Z',
    ]);
  });

  it('formats rules canonically and refuses what it does not support', () => {
    expect(formatRule(parseRule('byminute=5;freq=weekly;byday=su,mo;byhour=7'))).toBe('FREQ=WEEKLY;BYDAY=MO,SU;BYHOUR=7;BYMINUTE=5');
    for (const bad of ['', 'FREQ=MONTHLY;BYHOUR=1', 'FREQ=WEEKLY;BYHOUR=8', 'FREQ=DAILY;BYDAY=SU;BYHOUR=8', 'FREQ=DAILY', 'FREQ=DAILY;BYHOUR=24', 'FREQ=DAILY;BYHOUR=8;COUNT=3', 'FREQ=WEEKLY;BYDAY=XX;BYHOUR=1', 'FREQ=DAILY;FREQ=DAILY;BYHOUR=1']) {
      expect(() => parseRule(bad)).toThrow(DomainError);
    }
  });
});
