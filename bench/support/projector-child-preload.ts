/**
 * Preloaded (`--import`) into the projector process of the documents benchmarks (projector-process.ts),
 * before `projectors/main.ts` runs: answers the parent's "cpu" message with this process's CPU time, and
 * stops the process (SIGTERM, the service's own drain) when the parent goes away, so a benchmark that
 * dies without closing its child does not leave a projector running on the schema.
 */
process.on('message', (message: unknown) => {
  if (message !== 'cpu') return;
  const usage = process.cpuUsage();
  process.send?.({ cpuMs: (usage.user + usage.system) / 1000 });
});
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
