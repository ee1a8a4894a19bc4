/**
 * The account benchmarks, on the whole service in this process over HTTP: sign-up and log-in latency,
 * one request at a time, each next to the cost of its password work alone (argon2id `hash` for a
 * sign-up, `verify` for a log-in, with the service's ARGON2_OPTIONS), so the report can say how much
 * of an endpoint's time the password hashing is. Each endpoint call and its argon2 call alternate,
 * so drift in the machine falls on both.
 */
import { performance } from 'node:perf_hooks';
import * as argon2 from 'argon2';
import { ARGON2_OPTIONS } from '../infra/security/passwords';
import type { RunningService } from './support/bench-service';
import { HttpClient, jsonOf } from './support/http-client';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';

const PASSWORD = 'correct horse battery staple';

export interface AccountSizes {
  readonly warmup: number;
  readonly signups: number;
  readonly logins: number;
}

export function accountSizes(scale: number): AccountSizes {
  return {
    warmup: Math.max(2, Math.round(5 * scale)),
    signups: Math.max(5, Math.round(30 * scale)),
    logins: Math.max(5, Math.round(30 * scale)),
  };
}

export interface AccountsResult {
  readonly signUp: LatencySummary;
  readonly hash: LatencySummary;
  readonly logIn: LatencySummary;
  readonly verify: LatencySummary;
}

export async function measureAccounts(service: RunningService, sizes: AccountSizes): Promise<AccountsResult> {
  const api = new HttpClient(service.baseUrl, 1);
  const prefix = `bench-accounts-${Date.now()}`;
  let next = 0;
  const signUp = async (): Promise<{ email: string; ms: number }> => {
    const email = `${prefix}-${next++}@example.com`;
    const begin = performance.now();
    const response = await api.request('POST', '/api/auth/signup', { json: { email, password: PASSWORD, displayName: 'Bench' } });
    const ms = performance.now() - begin;
    jsonOf(response, 201, 'sign-up');
    return { email, ms };
  };
  const logIn = async (email: string): Promise<number> => {
    const begin = performance.now();
    const response = await api.request('POST', '/api/auth/login', { json: { email, password: PASSWORD } });
    const ms = performance.now() - begin;
    jsonOf(response, 200, 'log-in');
    return ms;
  };
  const options = { ...ARGON2_OPTIONS };
  const timeHash = async (): Promise<number> => {
    const begin = performance.now();
    await argon2.hash(PASSWORD, options);
    return performance.now() - begin;
  };
  const storedHash = await argon2.hash(PASSWORD, options);
  const timeVerify = async (): Promise<number> => {
    const begin = performance.now();
    if (!(await argon2.verify(storedHash, PASSWORD))) throw new Error('argon2.verify refused the right password');
    return performance.now() - begin;
  };

  try {
    const accounts: string[] = [];
    for (let i = 0; i < sizes.warmup; i++) {
      accounts.push((await signUp()).email);
      await logIn(accounts[i]!);
      await timeHash();
      await timeVerify();
    }
    const signUps = new LatencyRecorder();
    const hashes = new LatencyRecorder();
    for (let i = 0; i < sizes.signups; i++) {
      const created = await signUp();
      accounts.push(created.email);
      signUps.record(created.ms);
      hashes.record(await timeHash());
    }
    const logIns = new LatencyRecorder();
    const verifies = new LatencyRecorder();
    for (let i = 0; i < sizes.logins; i++) {
      logIns.record(await logIn(accounts[i % accounts.length]!));
      verifies.record(await timeVerify());
    }
    return { signUp: signUps.summary(), hash: hashes.summary(), logIn: logIns.summary(), verify: verifies.summary() };
  } finally {
    api.close();
  }
}
