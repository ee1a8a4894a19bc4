/**
 * The service as deployed (README architecture, docker-compose.yml), for the documents benchmarks: the
 * command and query APIs in this process (one app, as a proxy in front of two processes would route
 * them) and the projectors in a child process on the same schema, with NATS carrying the wake-ups
 * between them ("log moved" to the projectors, "projection advanced" back to read-your-writes), as in
 * production. Without NATS the processes would only find each other's progress by polling every
 * LOG_POLL_LIVE_MS, so the topology is not measured when NATS cannot be reached.
 */
import { connect } from 'node:net';
import type { BenchSchema } from './bench-schema';
import { serviceEnv, startService, type RunningService } from './bench-service';
import { startProjectorProcess, type ProjectorProcess } from './projector-process';

export interface DeployedService {
  /** The command and query APIs, in this process. */
  readonly api: RunningService;
  /** The projectors, in a child process. */
  readonly projectors: ProjectorProcess;
  close(): Promise<void>;
}

/** The deployed topology on `schema`, or why it cannot run here (NATS unreachable). */
export async function startDeployedService(db: BenchSchema, schema: string, natsUrl: string): Promise<DeployedService | { readonly unavailable: string }> {
  const reachable = await natsReachable(natsUrl);
  if (reachable !== true) return { unavailable: `NATS at ${natsUrl} cannot be reached (${reachable})` };
  const nats = { NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: `bench_${schema}` };
  const api = await startService(db, schema, ['command-api', 'query-api'], nats);
  let projectors: ProjectorProcess;
  try {
    projectors = startProjectorProcess(serviceEnv(db, schema, nats));
  } catch (error) {
    await api.close();
    throw error;
  }
  return {
    api,
    projectors,
    async close() {
      try {
        await projectors.close();
      } finally {
        await api.close();
      }
    },
  };
}

/** true, or what went wrong opening a TCP connection to the NATS server within two seconds. */
function natsReachable(natsUrl: string): Promise<true | string> {
  let host: string;
  let port: number;
  try {
    const url = new URL(natsUrl);
    host = url.hostname;
    port = Number(url.port || 4222);
  } catch {
    return Promise.resolve('not a URL');
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: true | string): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2_000, () => done('timed out'));
    socket.once('connect', () => done(true));
    socket.once('error', (error) => done(error.message));
  });
}
