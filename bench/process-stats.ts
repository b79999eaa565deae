import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * CPU and memory of one process (a gateway, or the subgraph measured directly) over a measurement, read
 * from Linux's /proc: CPU is the utime+stime delta as a percentage of one core (200 % = two cores busy);
 * memory is the highest resident set size (VmRSS) seen, sampled every 250 ms.
 */
export interface ProcessUsage {
  cpuPercent: number;
  peakRssMb: number;
}

const SAMPLE_INTERVAL_MS = 250;
/** Clock ticks per second of /proc/<pid>/stat; 100 on practically every Linux, asked anyway. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The fields of /proc/<pid>/stat from field 3 (state) on: fields[1] is the parent's pid, fields[11] and
 * fields[12] utime and stime. The command name (field 2) may contain spaces, so they are counted after its ")".
 */
function statFields(pid: number | string): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

export function watchProcess(pid: number): { stop(): ProcessUsage } {
  const startedAt = process.hrtime.bigint();
  const startCpu = cpuSeconds(pid);
  let peakRssMb = rssMb(pid);
  const sample = () => {
    try {
      peakRssMb = Math.max(peakRssMb, rssMb(pid));
    } catch {
      // the process is gone; the bench notices it through its exit
    }
  };
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const elapsedS = Number(process.hrtime.bigint() - startedAt) / 1e9;
      return { cpuPercent: ((cpuSeconds(pid) - startCpu) / elapsedS) * 100, peakRssMb };
    },
  };
}

/** A process of the federation, named as the report names it. */
export interface NamedProcess {
  name: string;
  pid: number;
}

/**
 * Where a measurement's CPU went, by process: each named process (gateways, subgraphs), PostgreSQL's
 * backends grouped by the database they serve (a backend's process title is "postgres: <user> <database>
 * …"), PostgreSQL's own processes (checkpointer, WAL writer…) as one, and this process, the load generator.
 * Returns CPU seconds per group. A backend that exits during the measurement takes its time with it; the
 * pools of the subgraphs and the audit writers keep theirs open, so that loses nothing that matters.
 */
export function watchCpuByProcess(named: readonly NamedProcess[], postmasterPid: number | null): { stop(): Record<string, number> } {
  const snapshot = (): Map<number, { group: string; cpu: number }> => {
    const groups = new Map<number, string>(named.map((p) => [p.pid, p.name]));
    groups.set(process.pid, 'load generator');
    if (postmasterPid !== null) {
      groups.set(postmasterPid, 'PostgreSQL (own processes)');
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          if (Number(statFields(entry)[1]) !== postmasterPid) continue;
          const title = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
          // "postgres: <user> <database> <host>(<port>) <state>" for a client's backend; not for an autovacuum worker.
          const backend = /^postgres: \S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title);
          groups.set(Number(entry), backend ? `PostgreSQL ${backend[1]}` : 'PostgreSQL (own processes)');
        } catch {
          // gone meanwhile
        }
      }
    }
    const cpu = new Map<number, { group: string; cpu: number }>();
    for (const [pid, group] of groups) {
      try {
        cpu.set(pid, { group, cpu: cpuSeconds(pid) });
      } catch {
        // gone meanwhile
      }
    }
    return cpu;
  };
  const before = snapshot();
  return {
    stop() {
      const byGroup: Record<string, number> = {};
      for (const [pid, { group, cpu }] of snapshot()) byGroup[group] = (byGroup[group] ?? 0) + cpu - (before.get(pid)?.cpu ?? 0);
      return byGroup;
    },
  };
}
