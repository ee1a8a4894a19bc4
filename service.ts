/**
 * The composition root. Reads the environment once, builds the adapters, and runs the chosen parts of
 * the service (command API, query API, projectors) in this process; the HTTP parts share one port.
 * On SIGTERM or SIGINT it drains: held requests are answered, projectors commit the batch in hand,
 * pools close, all within ten seconds.
 */
import express from 'express';
import { ConfigError, loadConfig, type Config } from './infra/config/config';
import { healthRoutes } from './infra/http/health';
import { listen, type RunningServer } from './infra/http/http-server';
import { notFoundRoute, problemHandler } from './infra/http/problem';
import { createLogger } from './infra/logging/logger';
import { createPlatform } from './infra/platform';
import { projections } from './projectors/projections';
import { startProjectors, type Projectors } from './projectors/projectors';

export type ServicePart = 'command-api' | 'query-api' | 'projectors';

const SHUTDOWN_DEADLINE_MS = 10_000;

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`scriptorium: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

export async function runService(parts: readonly ServicePart[]): Promise<void> {
  const config = readConfig();
  const role = parts.length === 3 ? 'all' : parts.join('+');
  const logger = createLogger({ level: config.LOG_LEVEL, name: `scriptorium-${role}` });
  const platform = await createPlatform(config, logger, role);

  let projectors: Projectors | undefined;
  if (parts.includes('projectors')) {
    projectors = startProjectors({
      store: platform.store,
      db: platform.knex,
      wakeups: platform.wakeups,
      logger,
      projections,
      batchSize: config.PROJECTION_BATCH_SIZE,
    });
  }

  let server: RunningServer | undefined;
  if (parts.includes('command-api') || parts.includes('query-api')) {
    const app = express();
    app.disable('x-powered-by');
    app.use(healthRoutes({ pool: platform.pool, wakeups: platform.wakeups }));
    app.use(notFoundRoute);
    app.use(problemHandler(logger));
    server = await listen(app, config.HOST, config.PORT);
    process.stdout.write(`Scriptorium (${role}) is listening on ${server.url}\n`);
  }
  logger.info({ parts, url: server?.url, store: config.EVENTSTORE_CONNECTION_STRING ? 'eventstoredb' : 'postgres' }, 'started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    const deadline = setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await server?.close(SHUTDOWN_DEADLINE_MS - 3_000);
    await projectors?.stop();
    await platform.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

export function runServiceOrExit(parts: readonly ServicePart[]): void {
  runService(parts).catch((error: unknown) => {
    process.stderr.write(`scriptorium: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
