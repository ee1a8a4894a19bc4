/**
 * The whole service in-process on a test schema, driven over HTTP with supertest: what end-to-end
 * tests of the API use. Wake-ups stay in the process unless a test asks for NATS.
 */
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { loadConfig, type Config } from '../../infra/config/config';
import { createLogger, silentLogger, type Logger } from '../../infra/logging/logger';
import { createService, type Service, type ServiceOptions } from '../../service';
import { createTestSchema, type TestSchema } from './test-database';

export interface TestService {
  readonly service: Service;
  readonly db: TestSchema;
  readonly http: TestAgent;
  readonly config: Config;
  close(): Promise<void>;
}

export async function startTestService(
  label: string,
  options: { env?: Record<string, string>; logger?: Logger; service?: ServiceOptions } = {},
): Promise<TestService> {
  const db = await createTestSchema(label);
  const config = loadConfig({
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: db.schema,
    DATABASE_POOL_MAX: '8',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR: '100000',
    RATE_LIMIT_LOGIN_FAILURES_PER_IP: '100000',
    // A query holding a consistency token waits for every projection; on a busy test machine they can
    // trail a burst of writes by more than the default 5 s, and a test wants the answer, not the 503.
    CONSISTENCY_WAIT_MS: '20000',
    ...options.env,
  });
  const logger = options.logger ?? (process.env.TEST_LOGS ? createLogger({ level: 'debug' }) : silentLogger);
  const service = await createService(config, logger, options.service);
  return {
    service,
    db,
    config,
    http: request(service.app),
    async close() {
      await service.close();
      await db.drop();
    },
  };
}

export interface SignedUpUser {
  readonly id: string;
  readonly email: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly password: string;
  readonly consistencyToken: string;
  readonly auth: { Authorization: string };
}

let counter = 0;

export async function signUp(http: TestAgent, overrides: { email?: string; password?: string; displayName?: string } = {}): Promise<SignedUpUser> {
  const email = overrides.email ?? `user${Date.now()}${counter++}@example.com`;
  const password = overrides.password ?? 'correct horse battery staple';
  const res = await http.post('/api/auth/signup').send({ email, password, displayName: overrides.displayName ?? 'Test User' });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    email,
    password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    consistencyToken: String(res.headers['x-consistency-token']),
    auth: { Authorization: `Bearer ${res.body.accessToken}` },
  };
}
