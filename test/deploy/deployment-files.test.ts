/**
 * No Docker engine runs here, so the deployment files are checked for what can be checked without one:
 * the compose file has every service, runs entry points that exist, and sets only variables the service
 * knows; .env.example lists exactly the configuration the code reads; the proxy splits reads from writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../infra/config/config';

const root = path.join(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string> }>;
  };

  it('docker-compose.yml runs EventStoreDB, PostgreSQL 16, NATS with JetStream, MinIO, the three processes and a proxy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['command-api', 'eventstoredb', 'minio', 'nats', 'postgres', 'projectors', 'proxy', 'query-api'].sort(),
    );
    expect(compose.services.postgres!.image).toBe('postgres:16');
    expect(compose.services.nats!.command).toContain('-js');
    expect(compose.services.eventstoredb!.environment!.EVENTSTORE_INSECURE).toBe('true');
  });

  it('each process runs an entry point that the build produces, with only known variables', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of ['command-api', 'query-api', 'projectors']) {
      const service = compose.services[name]!;
      expect(service.build).toBe('.');
      const script = service.command!.find((part) => part.startsWith('dist/'))!;
      expect(existsSync(path.join(root, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
      for (const variable of Object.keys(service.environment!)) expect(known).toContain(variable);
    }
  });

  it('.env.example lists exactly the variables the configuration reads', () => {
    const listed = read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=')[0]);
    expect(listed.sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it("the README's configuration table lists exactly the variables the configuration reads", () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const listed = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('the proxy sends reads to the query API, log-rebuilding reads and everything else to the command API', () => {
    const nginx = read('deploy/nginx.conf');
    const rules = [...nginx.matchAll(/^\s*"~\^([^"]+)"\s+(\S+);/gm)].map(([, pattern, upstream]) => [new RegExp(`^${pattern}`), upstream!.replace(';', '')] as const);
    expect(/^\s*default\s+command-api;/m.test(nginx)).toBe(true);
    const upstreamFor = (request: string) => rules.find(([pattern]) => pattern.test(request))?.[1] ?? 'command-api';
    expect(upstreamFor('GET /api/workspaces')).toBe('query-api');
    expect(upstreamFor('HEAD /api/documents/abc')).toBe('query-api');
    expect(upstreamFor('GET /api/documents/abc/versions')).toBe('query-api');
    expect(upstreamFor('GET /api/documents/abc/versions/3')).toBe('command-api');
    expect(upstreamFor('GET /api/documents/abc/diff')).toBe('command-api');
    expect(upstreamFor('GET /api/documents/abc/history')).toBe('command-api');
    expect(upstreamFor('POST /api/workspaces')).toBe('command-api');
  });
});
