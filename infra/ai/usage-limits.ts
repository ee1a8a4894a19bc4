/**
 * The proxy's limits, shared by every API process through PostgreSQL (rate-limiter-flexible's
 * RateLimiterPostgres in the `rate_limits` table, as for the account limits): requests per user per
 * minute, tokens per user per UTC day, and the deployment's spending per UTC day, counted in
 * micro-dollars. Requests are counted when they arrive (atomically: of racing requests from any number
 * of processes, exactly the allowed number pass); tokens and spending are only known afterwards, so a
 * call is admitted while the day's count is below the limit and its tokens are added when it ends.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { Problem } from '../http/problem';
import { RATE_LIMITS_TABLE } from '../security/rate-limits';

export interface UsageLimitRules {
  readonly requestsPerUserPerMinute: number;
  readonly tokensPerUserPerDay: number;
  /** The deployment's daily spending cap in micro-dollars (USD * 1e6); 0: no cap. */
  readonly dailySpendingCapMicroUsd: number;
}

const DAY_SECONDS = 86_400;

function limiter(knex: Knex, keyPrefix: string, points: number, duration: number): RateLimiterPostgres {
  return new RateLimiterPostgres({ storeClient: knex, storeType: 'knex', tableName: RATE_LIMITS_TABLE, tableCreated: true, keyPrefix, points, duration });
}

const hashed = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const utcDay = (now: Date) => now.toISOString().slice(0, 10);

function secondsUntilNextUtcDay(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

export class UsageLimits {
  private readonly requests: RateLimiterPostgres;
  private readonly tokens: RateLimiterPostgres;
  private readonly spending: RateLimiterPostgres;

  constructor(
    knex: Knex,
    private readonly rules: UsageLimitRules,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.requests = limiter(knex, 'ai_requests_user', rules.requestsPerUserPerMinute, 60);
    // Keys carry the UTC date, so each day starts from zero; rows live a little longer than their day.
    this.tokens = limiter(knex, 'ai_tokens_user', Math.max(1, rules.tokensPerUserPerDay), DAY_SECONDS);
    this.spending = limiter(knex, 'ai_spending', Math.max(1, rules.dailySpendingCapMicroUsd), DAY_SECONDS);
  }

  /** Counts the request and refuses it (429, Retry-After) past the per-minute limit or the day's tokens, or past the spending cap (503). */
  async admit(userId: string): Promise<void> {
    const now = this.clock();
    const [counted, tokensToday, spentToday] = await Promise.allSettled([
      this.requests.consume(hashed(userId)),
      this.tokens.get(this.tokenKey(userId, now)),
      this.rules.dailySpendingCapMicroUsd > 0 ? this.spending.get(this.spendingKey(now)) : Promise.resolve(null),
    ]);
    if (counted.status === 'rejected') {
      const rejection: unknown = counted.reason;
      if (rejection instanceof RateLimiterRes) throw refusal('AI.RATE_LIMITED', `at most ${this.rules.requestsPerUserPerMinute} AI requests a minute`, rejection.msBeforeNext / 1000);
      throw rejection;
    }
    if (tokensToday.status === 'rejected') throw tokensToday.reason;
    if (spentToday.status === 'rejected') throw spentToday.reason;
    const tokens = tokensToday.value;
    const spending = spentToday.value;
    if (tokens && tokens.consumedPoints >= this.rules.tokensPerUserPerDay) {
      throw refusal('AI.TOKEN_QUOTA_EXCEEDED', `the daily allowance of ${this.rules.tokensPerUserPerDay} tokens is used up`, secondsUntilNextUtcDay(now));
    }
    if (spending && spending.consumedPoints >= this.rules.dailySpendingCapMicroUsd) {
      const seconds = secondsUntilNextUtcDay(now);
      throw new Problem('unavailable', 'AI.SPENDING_CAP_REACHED', "the service's AI budget for today is spent", undefined, { 'Retry-After': String(seconds) });
    }
  }

  /** After a call: adds what it used to the day's counts (never refuses: the call has happened). */
  async record(userId: string, tokens: number, costMicroUsd: number): Promise<void> {
    const now = this.clock();
    await Promise.all([
      tokens > 0 ? this.tokens.penalty(this.tokenKey(userId, now), Math.ceil(tokens)) : undefined,
      costMicroUsd > 0 && this.rules.dailySpendingCapMicroUsd > 0 ? this.spending.penalty(this.spendingKey(now), Math.ceil(costMicroUsd)) : undefined,
    ]);
  }

  /** The day's totals so far (for the usage answer and the tests). */
  async today(userId: string): Promise<{ tokens: number; spendingMicroUsd: number }> {
    const now = this.clock();
    const [tokens, spending] = await Promise.all([this.tokens.get(this.tokenKey(userId, now)), this.spending.get(this.spendingKey(now))]);
    return { tokens: tokens?.consumedPoints ?? 0, spendingMicroUsd: spending?.consumedPoints ?? 0 };
  }

  private tokenKey(userId: string, now: Date): string {
    return `${hashed(userId)}:${utcDay(now)}`;
  }

  private spendingKey(now: Date): string {
    return `deployment:${utcDay(now)}`;
  }
}

function refusal(code: string, detail: string, seconds: number): Problem {
  const retryAfter = Math.max(1, Math.ceil(seconds));
  return new Problem('too_many_requests', code, `${detail}; try again in ${retryAfter} seconds`, undefined, { 'Retry-After': String(retryAfter) });
}
