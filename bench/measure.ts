import type { Agency } from '../lib/agencies';
import { startLoad, type LoadResult } from './load';
import { watchCpuByProcess, watchProcess, type NamedProcess, type ProcessUsage } from './process-stats';
import type { Target } from './services';
import { countersDelta, readSettledCounters, totalCounters, type CountersBySubgraph } from './subgraph-metrics';

/**
 * One measurement: load on one target for the set duration (optionally with a second, background load on
 * the same target), with the subgraphs' counters and the target process's CPU and memory taken around it.
 */
export interface Operation {
  query: string;
  variables: () => Record<string, unknown>;
  /** Extra request headers (a write names its actor). */
  headers?: Record<string, string>;
  /** Headers made for each request's body (subgraph credentials). */
  headersFor?: (body: string) => Record<string, string>;
}

export interface MeasurementSpec {
  target: Target;
  operation: Operation;
  connections: number;
  duration: number;
  metricsUrls: Record<Agency['id'], string>;
  background?: Operation & { connections: number };
  /** The federation's processes, for the CPU per request by process; and PostgreSQL's, whose children are its backends. */
  processes: readonly NamedProcess[];
  postmasterPid: number | null;
}

export interface Measurement extends LoadResult, ProcessUsage {
  target: Target['name'];
  /**
   * Per request sent (foreground and background together when there is a background load: the
   * subgraphs cannot tell whose request a statement served).
   */
  sqlPerRequest: number;
  subgraphCallsPerRequest: number;
  subgraphCounters: CountersBySubgraph;
  background?: LoadResult;
  /**
   * CPU milliseconds per request completed, by process (process-stats.ts' watchCpuByProcess): where a
   * request's time goes across the gateway, the subgraphs, PostgreSQL's databases and the load generator.
   */
  cpuMsPerRequest: Record<string, number>;
}

export async function measure(spec: MeasurementSpec): Promise<Measurement> {
  const before = await readSettledCounters(spec.metricsUrls);
  const usage = watchProcess(spec.target.pid);
  const cpuByProcess = watchCpuByProcess(spec.processes, spec.postmasterPid);
  // Far longer than the foreground; stopped as soon as the foreground ends.
  const background = spec.background
    ? startLoad({ url: spec.target.url, ...spec.background, duration: spec.duration + 3600 })
    : null;
  const foreground = await startLoad({ url: spec.target.url, ...spec.operation, connections: spec.connections, duration: spec.duration }).done;
  background?.stop();
  const processUsage = usage.stop();
  const cpuSecondsByProcess = cpuByProcess.stop();
  const backgroundResult = await background?.done;
  const counters = countersDelta(before, await readSettledCounters(spec.metricsUrls));

  const total = totalCounters(counters);
  // Requests sent, not completed: the requests cut off when the run ends were still served, statements and all.
  const requests = foreground.sent + (backgroundResult?.sent ?? 0);
  // CPU per request answered (the time of those cut off at the end is small against the run's).
  const completed = foreground.completed + (backgroundResult?.completed ?? 0);
  return {
    target: spec.target.name,
    ...foreground,
    ...processUsage,
    sqlPerRequest: requests > 0 ? total.sqlStatements / requests : 0,
    subgraphCallsPerRequest: requests > 0 ? total.graphqlRequests / requests : 0,
    subgraphCounters: counters,
    cpuMsPerRequest: Object.fromEntries(
      Object.entries(cpuSecondsByProcess).map(([name, seconds]) => [name, completed > 0 ? (seconds * 1000) / completed : 0]),
    ),
    ...(backgroundResult ? { background: backgroundResult } : {}),
  };
}

/** Load without measuring, so that JIT compilation, connection pools and query plan caches are warm. */
export async function warmUp(target: Target, operation: Operation, connections: number, seconds: number): Promise<LoadResult> {
  return startLoad({ url: target.url, ...operation, connections, duration: seconds }).done;
}
