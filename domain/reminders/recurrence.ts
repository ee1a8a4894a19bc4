/**
 * Recurring reminders: a small subset of iCalendar's RRULE, evaluated in the user's IANA time zone so
 * that "every Sunday at 08:00 Europe/Berlin" stays at 08:00 local time across daylight-saving changes.
 *
 * The rule is a string of `KEY=VALUE` parts separated by `;`:
 *   - `FREQ=DAILY` or `FREQ=WEEKLY` (required)
 *   - `BYDAY=MO,TU,WE,TH,FR,SA,SU` (required with WEEKLY, not allowed with DAILY)
 *   - `BYHOUR=0..23` (required), `BYMINUTE=0..59` (default 0)
 * e.g. `FREQ=WEEKLY;BYDAY=SU;BYHOUR=8;BYMINUTE=0`. A local time that does not exist on a given day
 * (skipped by a spring-forward change) fires at the same wall-clock distance after the gap (02:30
 * becomes 03:30); a local time that exists twice (fall-back) fires at its first instant.
 */
import { DateTime, IANAZone } from 'luxon';
import { DomainError } from '../shared/errors';

export interface RecurrenceRule {
  readonly freq: 'DAILY' | 'WEEKLY';
  /** ISO weekdays, 1 = Monday .. 7 = Sunday; empty for DAILY. */
  readonly byDay: readonly number[];
  readonly hour: number;
  readonly minute: number;
}

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

const invalidRule = (message: string) => new DomainError('invalid', 'REMINDER.INVALID_RULE', message);

function integerIn(text: string, min: number, max: number, key: string): number {
  if (!/^\d{1,2}$/.test(text) || Number(text) < min || Number(text) > max) throw invalidRule(`${key} must be an integer from ${min} to ${max}`);
  return Number(text);
}

export function parseRule(text: string): RecurrenceRule {
  const parts = new Map<string, string>();
  for (const part of text.trim().toUpperCase().split(';')) {
    if (part === '') continue;
    const [key, value, ...rest] = part.split('=');
    if (!key || value === undefined || rest.length > 0) throw invalidRule(`"${part}" is not KEY=VALUE`);
    if (parts.has(key)) throw invalidRule(`${key} appears twice`);
    parts.set(key, value);
  }
  for (const key of parts.keys()) {
    if (!['FREQ', 'BYDAY', 'BYHOUR', 'BYMINUTE'].includes(key)) throw invalidRule(`${key} is not supported (FREQ, BYDAY, BYHOUR, BYMINUTE are)`);
  }
  const freq = parts.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY') throw invalidRule('FREQ must be DAILY or WEEKLY');
  const hourText = parts.get('BYHOUR');
  if (hourText === undefined) throw invalidRule('BYHOUR is required');
  const hour = integerIn(hourText, 0, 23, 'BYHOUR');
  const minute = integerIn(parts.get('BYMINUTE') ?? '0', 0, 59, 'BYMINUTE');
  const dayText = parts.get('BYDAY');
  if (freq === 'DAILY') {
    if (dayText !== undefined) throw invalidRule('BYDAY is only for FREQ=WEEKLY');
    return { freq, byDay: [], hour, minute };
  }
  if (dayText === undefined || dayText === '') throw invalidRule('FREQ=WEEKLY needs BYDAY');
  const byDay = [...new Set(dayText.split(',').map((day) => {
    const index = WEEKDAYS.indexOf(day as (typeof WEEKDAYS)[number]);
    if (index < 0) throw invalidRule(`BYDAY: "${day}" is not one of ${WEEKDAYS.join(',')}`);
    return index + 1;
  }))].sort();
  return { freq, byDay, hour, minute };
}

/** The rule written back in its canonical form (what the reminder records). */
export function formatRule(rule: RecurrenceRule): string {
  const days = rule.freq === 'WEEKLY' ? `;BYDAY=${rule.byDay.map((day) => WEEKDAYS[day - 1]).join(',')}` : '';
  return `FREQ=${rule.freq}${days};BYHOUR=${rule.hour};BYMINUTE=${rule.minute}`;
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** The first occurrence of `rule` in `zone` strictly after `after`. */
export function nextOccurrence(rule: RecurrenceRule, zone: string, after: Date): Date {
  if (!isValidTimeZone(zone)) throw new DomainError('invalid', 'REMINDER.INVALID_TIMEZONE', `unknown time zone ${zone}`);
  const today = DateTime.fromJSDate(after, { zone }).startOf('day');
  // Eight days always reach the next occurrence of a weekly rule, even when today's has passed.
  for (let offset = 0; offset <= 8; offset++) {
    const day = today.plus({ days: offset });
    if (rule.freq === 'WEEKLY' && !rule.byDay.includes(day.weekday)) continue;
    const candidate = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: rule.hour, minute: rule.minute }, { zone });
    if (candidate.toMillis() > after.getTime()) return candidate.toJSDate();
  }
  throw new Error('unreachable: a rule with at least one weekday recurs within eight days');
}
