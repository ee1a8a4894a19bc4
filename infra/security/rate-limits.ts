/**
 * Rate limits on the account endpoints, shared by every API process through PostgreSQL
 * (rate-limiter-flexible's RateLimiterPostgres on the service's knex pool, in the `rate_limits` table
 * that the migration creates: the library is told the table exists, so no process races to create
 * it, and the unqualified name resolves through each connection's search_path to the right schema).
 *
 * Sign-in counts failures, not attempts: per account (guessing one password) and per address
 * (trying many accounts). A success resets the account's counter but never the address's, or one
 * account the attacker owns would wipe out the count of their guesses at everyone else's.
 * Counter keys are hashed: the table holds no e-mail or IP address, and every key fits its column.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { Problem } from '../http/problem';

export interface RateLimitRule {
  points: number;
  durationSeconds: number;
  /** Once the limit is hit, refuse for this long (default: until the window ends). */
  blockSeconds?: number;
}

export interface RateLimitRules {
  loginFailuresPerAccount: RateLimitRule;
  loginFailuresPerIp: RateLimitRule;
  signupsPerIp: RateLimitRule;
}

export const RATE_LIMITS_TABLE = 'rate_limits';

function tooManyRequests(msBeforeNext: number): Problem {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new Problem('too_many_requests', 'RATE_LIMIT.EXCEEDED', `too many attempts; try again in ${seconds} seconds`, undefined, {
    'Retry-After': String(seconds),
  });
}

function hashedKey(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** One rule over one kind of key: a thin layer turning the library's answers into our problems. */
class Counter {
  private readonly limiter: RateLimiterPostgres;

  constructor(
    knex: Knex,
    name: string,
    private readonly rule: RateLimitRule,
  ) {
    this.limiter = new RateLimiterPostgres({
      storeClient: knex,
      storeType: 'knex',
      tableName: RATE_LIMITS_TABLE,
      tableCreated: true,
      keyPrefix: name,
      points: rule.points,
      duration: rule.durationSeconds,
    });
  }

  /** Refuses when the limit has been reached (the last attempt allowed has been counted). */
  async assertBelowLimit(key: string): Promise<void> {
    const state = await this.limiter.get(hashedKey(key));
    if (state && state.consumedPoints >= this.rule.points) throw tooManyRequests(state.msBeforeNext);
  }

  /**
   * Counts one and refuses it when it goes past the limit. The one that reaches the limit passes, and
   * starts the block when the rule has one.
   */
  async count(key: string): Promise<void> {
    const hashed = hashedKey(key);
    const state = await this.consume(hashed);
    if (state.consumedPoints >= this.rule.points && this.rule.blockSeconds !== undefined) {
      await this.limiter.block(hashed, this.rule.blockSeconds);
    }
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(hashedKey(key));
  }

  private async consume(hashed: string): Promise<RateLimiterRes> {
    try {
      return await this.limiter.consume(hashed);
    } catch (rejection) {
      // The library rejects with its result when the limit is exceeded, and with an Error when the
      // database fails: only the first is the client's doing.
      if (rejection instanceof RateLimiterRes) throw tooManyRequests(rejection.msBeforeNext);
      throw rejection;
    }
  }
}

export class RateLimits {
  static readonly defaults: RateLimitRules = Object.freeze({
    loginFailuresPerAccount: { points: 5, durationSeconds: 15 * 60, blockSeconds: 15 * 60 },
    loginFailuresPerIp: { points: 20, durationSeconds: 15 * 60, blockSeconds: 15 * 60 },
    signupsPerIp: { points: 10, durationSeconds: 60 * 60 },
  });

  private readonly failuresPerAccount: Counter;
  private readonly failuresPerIp: Counter;
  private readonly signupsPerIp: Counter;

  constructor(knex: Knex, rules: RateLimitRules) {
    this.failuresPerAccount = new Counter(knex, 'login_fail_account', rules.loginFailuresPerAccount);
    this.failuresPerIp = new Counter(knex, 'login_fail_ip', rules.loginFailuresPerIp);
    this.signupsPerIp = new Counter(knex, 'signup_ip', rules.signupsPerIp);
  }

  /** Before checking a password: refuses while either the account or the address is over its limit. */
  async assertLoginAllowed(accountKey: string, ip: string): Promise<void> {
    await Promise.all([this.failuresPerAccount.assertBelowLimit(accountKey), this.failuresPerIp.assertBelowLimit(ip)]);
  }

  /**
   * After a wrong password (or an unknown account). The failure that reaches a limit is still a plain
   * failure for the caller to answer; the next attempt is refused by assertLoginAllowed. Only a
   * failure past the limit (attempts racing each other) throws here.
   */
  async recordLoginFailure(accountKey: string, ip: string): Promise<void> {
    const outcomes = await Promise.allSettled([this.failuresPerAccount.count(accountKey), this.failuresPerIp.count(ip)]);
    const refusal = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (refusal) throw refusal.reason;
  }

  /** After a successful sign-in. */
  async resetLoginFailures(accountKey: string): Promise<void> {
    await this.failuresPerAccount.reset(accountKey);
  }

  /** Before creating an account: counts the attempt and refuses past the limit. */
  async consumeSignup(ip: string): Promise<void> {
    await this.signupsPerIp.count(ip);
  }
}
