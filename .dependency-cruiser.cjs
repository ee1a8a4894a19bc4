/**
 * Layering rules, checked by `npm run lint`. The domain stays pure (no I/O, no infrastructure), the
 * query side never reaches into the domain, and nothing depends on tests or benchmarks.
 */
const IO_LIBRARIES = [
  'pg', 'pg-.*', 'knex', 'express', 'nats', '@eventstore/.*', '@aws-sdk/.*', 'pino.*', 'argon2', 'jose',
  '@opentelemetry/.*', 'prom-client', 'nodemailer', 'rate-limiter-flexible', 'ioredis', 'undici',
];
const NODE_IO = ['fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'child_process', 'cluster', 'tls', 'worker_threads', 'crypto'];

module.exports = {
  forbidden: [
    {
      name: 'no-domain-to-io',
      comment: 'domain/ is pure: decide and evolve get time, ids and lookups through their arguments.',
      severity: 'error',
      from: { path: '^domain/', pathNot: '\\.test\\.ts$' },
      to: {
        path: [
          '^(infra|command-api|query-api|projectors|migrations|bench|test)/',
          `^node_modules/(${IO_LIBRARIES.join('|')})/`,
        ],
      },
    },
    {
      name: 'no-domain-tests-to-io',
      comment: "The domain's unit tests stay unit tests: no I/O, only the given/when/then helper from test/support.",
      severity: 'error',
      from: { path: '^domain/.*\\.test\\.ts$' },
      to: {
        path: ['^(infra|command-api|query-api|projectors|migrations|bench)/', `^node_modules/(${IO_LIBRARIES.join('|')})/`],
      },
    },
    {
      name: 'no-domain-to-node-io',
      comment: 'domain/ must not touch the file system, the network, processes or randomness.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { dependencyTypes: ['core'], path: `^(node:)?(${NODE_IO.join('|')})$` },
    },
    {
      name: 'no-query-api-to-domain',
      comment: 'The query side reads read models only; it never folds events or decides commands.',
      severity: 'error',
      from: { path: '^query-api/' },
      to: { path: '^domain/' },
    },
    {
      name: 'no-production-to-tests',
      severity: 'error',
      from: { path: '^(domain|infra|command-api|query-api|projectors|migrations)/', pathNot: '\\.test\\.ts$' },
      to: { path: ['^(test|bench)/', '\\.test\\.ts$'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'Every import must resolve (a missing package would also slip past the rules above).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    parser: 'swc',
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.cjs', '.json'] },
  },
};
