import path from 'node:path';
import { parseArgs } from 'node:util';

/** What `npm run bench -- …` was asked to do, validated once. */
export const WORKLOAD_IDS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7'] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export interface BenchOptions {
  /** Population size; also names the data folder, so each size is seeded once and kept. */
  citizens: number;
  /** Seconds per measurement. */
  duration: number;
  connections: number;
  workloads: WorkloadId[];
  rounds: number;
  /**
   * Seconds of load before each measurement. Every process is freshly started, and 2 s proved too short:
   * the first round of each run came out 30–45% slower than the second (JIT and PostgreSQL's cache still cold).
   */
  warmUp: number;
  /** Access control on, off, or both (each its own start of the servers); the report compares W1 on and off. */
  security: ('on' | 'off')[];
  /** Where each gateway and subgraph writes a V8 CPU profile when stopped (summarise with bench/profile-summary.ts). */
  profileDir: string | null;
  /** `--statistics`: the analysts' statistics service instead of the workloads (bench/statistics.ts). */
  statistics: boolean;
  /** `--rebuild`: with --statistics, build the read model from scratch even if it was built. */
  rebuild: boolean;
}

const USAGE =
  'usage: npm run bench -- [--citizens N] [--duration S] [--connections C] [--workloads W1,W2,…] [--rounds R] [--warmup S] [--security on,off] [--profile DIR]\n' +
  '       npm run bench -- --statistics [--citizens N] [--rounds R] [--rebuild]';

export function readOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      citizens: { type: 'string', default: '10000' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '20' },
      workloads: { type: 'string', default: WORKLOAD_IDS.join(',') },
      rounds: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '10' },
      security: { type: 'string', default: 'on,off' },
      profile: { type: 'string' },
      statistics: { type: 'boolean', default: false },
      rebuild: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const workloads = values.workloads
    .split(',')
    .map((w) => w.trim().toUpperCase())
    .filter(Boolean);
  const unknown = workloads.filter((w) => !(WORKLOAD_IDS as readonly string[]).includes(w));
  if (unknown.length > 0 || workloads.length === 0) {
    throw new Error(`--workloads: unknown ${unknown.join(', ') || '(none given)'}; expected some of ${WORKLOAD_IDS.join(',')}\n${USAGE}`);
  }
  if (values.rebuild && !values.statistics) throw new Error(`--rebuild goes with --statistics\n${USAGE}`);
  return {
    citizens: positiveInteger('citizens', values.citizens),
    duration: positiveInteger('duration', values.duration),
    connections: positiveInteger('connections', values.connections),
    // In the order the report lists them, whatever order they were given in.
    workloads: WORKLOAD_IDS.filter((w) => workloads.includes(w)),
    rounds: positiveInteger('rounds', values.rounds),
    warmUp: positiveInteger('warmup', values.warmup),
    security: securityModes(values.security),
    profileDir: values.profile ? path.resolve(values.profile) : null,
    statistics: values.statistics,
    rebuild: values.rebuild,
  };
}

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not "${raw}"\n${USAGE}`);
  return value;
}

function securityModes(raw: string): ('on' | 'off')[] {
  const modes = raw.split(',').map((m) => m.trim().toLowerCase());
  if (modes.length === 0 || modes.some((m) => m !== 'on' && m !== 'off')) throw new Error(`--security takes on, off or on,off; got "${raw}"\n${USAGE}`);
  return (['on', 'off'] as const).filter((m) => modes.includes(m));
}
