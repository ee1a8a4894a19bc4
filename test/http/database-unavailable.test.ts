/**
 * A request that fails because the database is away (restart, failover, full pool) is answered 503
 * with Retry-After, as problem+json: the client retries; it is neither its mistake nor a bug of ours.
 */
import express from 'express';
import pg from 'pg';
import request from 'supertest';
import { silentLogger } from '../../infra/logging/logger';
import { isDatabaseUnavailable, problemHandler } from '../../infra/http/problem';

function appThrowing(error: () => Promise<unknown>) {
  const app = express();
  app.get('/x', async (_req, _res, next) => {
    try {
      await error();
    } catch (caught) {
      next(caught);
    }
  });
  app.use(problemHandler(silentLogger));
  return app;
}

describe('database unavailable', () => {
  it('given a refused connection from the real driver, then 503 SERVICE.DATABASE_UNAVAILABLE with Retry-After', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2_000 });
    const res = await request(appThrowing(() => pool.query('SELECT 1'))).get('/x');
    await pool.end();
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.code).toBe('SERVICE.DATABASE_UNAVAILABLE');
  });

  it('given a session terminated by the server, then 503', async () => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', application_name: 'unavailable-test' });
    await client.connect();
    client.on('error', () => undefined);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
    await admin.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const res = await request(
      appThrowing(async () => {
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await client.query('SELECT pg_sleep(0.1)');
      }),
    ).get('/x');
    await admin.end();
    await client.end().catch(() => undefined);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SERVICE.DATABASE_UNAVAILABLE');
  });

  it('given errors that are not about the connection, then they are not mistaken for it', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '57P01' }) }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }))).toBe(true);
    // As knex reports a lost session: the statement first (seen in the fault suite), no code.
    expect(isDatabaseUnavailable(new Error('select "m"."role" from "workspace_members" as "m" where "m"."user_id" = $1 - Connection terminated unexpectedly'))).toBe(true);
  });

  it('given a plain bug, then still 500 INTERNAL.UNEXPECTED', async () => {
    const res = await request(appThrowing(async () => { throw new TypeError('undefined is not a function'); })).get('/x');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('INTERNAL.UNEXPECTED');
  });
});
