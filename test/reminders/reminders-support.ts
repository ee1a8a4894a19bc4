/** Shared by the reminder tests: a clock the test moves, notes to hang reminders on, and log counts. */
import type TestAgent from 'supertest/lib/agent';
import type { Knex } from 'knex';
import type { SignedUpUser } from '../support/test-service';

export class TestClock {
  constructor(private current: Date) {}
  readonly now = (): Date => new Date(this.current.getTime());
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export async function createNote(http: TestAgent, user: { auth: Record<string, string> }, title = 'Romans 8:28'): Promise<string> {
  const res = await http.post('/api/notes').set(user.auth).send({ title, content: 'All things work together for good', dateTime: '2026-03-01T08:00:00Z' });
  if (res.status !== 201) throw new Error(`note creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** A fresh access token at the clock's current time (tokens from before a time jump have expired). */
export async function logIn(http: TestAgent, user: SignedUpUser): Promise<{ auth: { Authorization: string } }> {
  const res = await http.post('/api/auth/login').send({ email: user.email, password: user.password });
  if (res.status !== 200) throw new Error(`log-in failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { auth: { Authorization: `Bearer ${res.body.accessToken}` } };
}

/** The ReminderFired events of a reminder (or of all reminders), as recorded in the log. */
export async function firings(knex: Knex, reminderId?: string): Promise<{ stream_id: string; data: { dueAt: string; firedAt: string } }[]> {
  const query = knex('events').where('event_type', 'ReminderFired').orderBy('global_position').select('stream_id', 'data');
  if (reminderId) query.andWhere('stream_id', `reminder-${reminderId}`);
  return query;
}
