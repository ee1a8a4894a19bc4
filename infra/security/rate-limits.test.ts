/**
 * Rate limits shared through PostgreSQL: two RateLimits on two knex pools of one schema stand for two
 * API processes, and a limit reached through one is enforced by the other.
 */
import type { Knex } from 'knex';
import { Problem } from '../http/problem';
import { createKnex } from '../database/database';
import { createTestSchema, type TestSchema } from '../../test/support/test-database';
import { RateLimits, type RateLimitRules } from './rate-limits';

const rules: RateLimitRules = {
  loginFailuresPerAccount: { points: 3, durationSeconds: 60 },
  loginFailuresPerIp: { points: 5, durationSeconds: 60, blockSeconds: 600 },
  signupsPerIp: { points: 2, durationSeconds: 3600 },
};

async function refusal(attempt: Promise<unknown>): Promise<Problem> {
  const error: unknown = await attempt.then(
    () => {
      throw new Error('expected a refusal');
    },
    (reason: unknown) => reason,
  );
  if (!(error instanceof Problem)) throw error;
  return error;
}

function retryAfter(problem: Problem): number {
  return Number(problem.headers?.['Retry-After']);
}

describe('rate limits shared by two processes', () => {
  let db: TestSchema;
  let secondPool: Knex;
  let processA: RateLimits;
  let processB: RateLimits;

  beforeAll(async () => {
    db = await createTestSchema('rate_limits');
    secondPool = createKnex({ url: db.url, schema: db.schema, poolMax: 2 });
    processA = new RateLimits(db.knex, rules);
    processB = new RateLimits(secondPool, rules);
  });
  afterAll(async () => {
    await secondPool.destroy();
    await db.drop();
  });

  it('given failures for one account spread over both processes, when the limit is reached, then the next attempt is refused by either', async () => {
    await processA.assertLoginAllowed('ada@example.org', '203.0.113.1');
    await processA.recordLoginFailure('ada@example.org', '203.0.113.1');
    await processB.recordLoginFailure('ada@example.org', '203.0.113.2');
    await processB.assertLoginAllowed('ada@example.org', '203.0.113.3'); // two failures: still allowed
    await processA.recordLoginFailure('ada@example.org', '203.0.113.3'); // the third reaches the limit

    for (const limits of [processA, processB]) {
      const problem = await refusal(limits.assertLoginAllowed('ada@example.org', '198.51.100.9'));
      expect(problem).toMatchObject({ kind: 'too_many_requests', code: 'RATE_LIMIT.EXCEEDED' });
      expect(retryAfter(problem)).toBeGreaterThan(0);
      expect(retryAfter(problem)).toBeLessThanOrEqual(60);
    }
    await expect(processB.assertLoginAllowed('grace@example.org', '198.51.100.9')).resolves.toBeUndefined();
  });

  it('given a locked account, when its failures are reset after a sign-in, then it may sign in again', async () => {
    for (let i = 0; i < 3; i += 1) await processA.recordLoginFailure('reset@example.org', `192.0.2.${i}`);
    await refusal(processB.assertLoginAllowed('reset@example.org', '192.0.2.100'));

    await processB.resetLoginFailures('reset@example.org');

    await expect(processA.assertLoginAllowed('reset@example.org', '192.0.2.100')).resolves.toBeUndefined();
  });

  it('given one address failing on many accounts, when its limit is reached, then it is blocked for blockSeconds on any account, and a reset does not lift it', async () => {
    for (let i = 0; i < 5; i += 1) await (i % 2 ? processA : processB).recordLoginFailure(`victim${i}@example.org`, '198.51.100.66');

    const problem = await refusal(processA.assertLoginAllowed('fresh@example.org', '198.51.100.66'));
    await processA.resetLoginFailures('victim4@example.org');
    const afterReset = await refusal(processB.assertLoginAllowed('victim4@example.org', '198.51.100.66'));

    expect(retryAfter(problem)).toBeGreaterThan(60); // the block, not what was left of the window
    expect(retryAfter(problem)).toBeLessThanOrEqual(600);
    expect(afterReset.code).toBe('RATE_LIMIT.EXCEEDED');
  });

  it('given failures racing past the limit, then the one past it is refused with Retry-After', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => (i % 2 ? processA : processB).recordLoginFailure('race@example.org', `203.0.113.${50 + i}`)),
    );

    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(refused).toHaveLength(2);
    for (const { reason } of refused) {
      expect(reason).toMatchObject({ code: 'RATE_LIMIT.EXCEEDED' });
      expect(retryAfter(reason as Problem)).toBeGreaterThan(0);
    }
  });

  it('given sign-ups from one address through both processes, when past the limit, then refused with Retry-After up to an hour', async () => {
    await processA.consumeSignup('203.0.113.77');
    await processB.consumeSignup('203.0.113.77');

    const problem = await refusal(processA.consumeSignup('203.0.113.77'));

    expect(problem).toMatchObject({ kind: 'too_many_requests', code: 'RATE_LIMIT.EXCEEDED' });
    expect(retryAfter(problem)).toBeGreaterThan(3000);
    expect(retryAfter(problem)).toBeLessThanOrEqual(3600);
    await expect(processB.consumeSignup('203.0.113.78')).resolves.toBeUndefined();
  });

  it('then the counters are kept in this schema\'s table, under hashed keys', async () => {
    const keys = (await db.knex('rate_limits').select('key')).map((row: { key: string }) => row.key);

    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toMatch(/@|203\.0/);
  });

  it('then the defaults are the documented ones', () => {
    expect(RateLimits.defaults).toEqual({
      loginFailuresPerAccount: { points: 5, durationSeconds: 900, blockSeconds: 900 },
      loginFailuresPerIp: { points: 20, durationSeconds: 900, blockSeconds: 900 },
      signupsPerIp: { points: 10, durationSeconds: 3600 },
    });
  });
});
