/**
 * How busy the machine's CPUs are before the benchmark starts. The figures assume the benchmark and
 * PostgreSQL have the cores to themselves; a busy machine (another test run, a build) lowers every
 * figure, so the report states the load it started under.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}

/** Share of all cores (0..1) busy during the next `ms` milliseconds. */
export async function cpuBusyShare(ms: number): Promise<number> {
  const before = cpuTimes();
  await sleep(ms);
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
