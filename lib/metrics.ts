import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EnvReader } from './env';
import type { StatementCounter } from './statement-counter';
import { CLIENT_ERROR_CODES } from './graphql/format-error';
import { ErrorCode } from './graphql/errors';

/**
 * A process's Prometheus metrics (prom-client), one registry per service so that the gateway and the
 * subgraphs can share a process in tests without mixing their series. Every label value is chosen by the
 * server from a bounded set (operation names of trusted documents, schema root fields, error codes, the
 * subgraphs, the pools): nothing a client writes becomes a label. The README's "Observability" section
 * lists every metric and the alerts worth setting.
 */

/** Request latencies, seconds: from a cached read (~2 ms) to the subgraph timeout (5 s) and past it. */
const REQUEST_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Audit transactions, seconds: one commit's WAL flush (~1 ms) to the writer's timeout (5 s). */
const COMMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What a request's `result` label may be: ok, or the code of its answer's first error, from this set. */
const RESULT_CODES: ReadonlySet<string> = new Set([...CLIENT_ERROR_CODES, ErrorCode.INTERNAL_SERVER_ERROR, 'SERVICE_UNAVAILABLE']);

/** The `result` label of a request: its first error's code when it is a known one, else the class of its HTTP status. */
export function resultLabel(errorCode: string | undefined, status: number): string {
  if (errorCode !== undefined) return RESULT_CODES.has(errorCode) ? errorCode : 'OTHER_ERROR';
  if (status < 400) return 'ok';
  if (status === 401) return ErrorCode.UNAUTHENTICATED;
  if (status === 403) return ErrorCode.FORBIDDEN;
  if (status === 429) return ErrorCode.RATE_LIMITED;
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  return status < 500 ? 'BAD_REQUEST' : ErrorCode.INTERNAL_SERVER_ERROR;
}

/** How a call from the gateway to a subgraph ended (`result` of citizen_graph_subgraph_request_duration_seconds). */
export type SubgraphCallResult = 'ok' | 'graphql_errors' | 'http_error' | 'timeout' | 'unreachable' | 'circuit_open';

export type BreakerState = 'closed' | 'half-open' | 'open';
export const BREAKER_STATE_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

interface WatchedPool {
  name: string;
  pool: Pool;
  statements?: StatementCounter;
  /** Statements already counted into the counter. */
  counted: number;
}

interface WatchedQueue {
  name: string;
  queued(): number;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'operation' | 'result'>;
  private readonly pools: WatchedPool[] = [];
  private readonly auditQueues: WatchedQueue[] = [];
  private subgraphCalls: Histogram<'subgraph' | 'result'> | null = null;
  private breakerStates: Gauge<'subgraph'> | null = null;
  private auditCommits: Histogram<'result'> | null = null;
  private auditRecords: Counter<'result'> | null = null;
  private processMetrics = false;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    const registers = [this.registry];
    this.requests = new Histogram({
      name: 'citizen_graph_graphql_request_duration_seconds',
      help: 'GraphQL requests served, by operation (gateway: trusted document name, "anonymous" or "other"; subgraph: root field) and result (ok or the first error code), seconds from the request to the end of the answer.',
      labelNames: ['operation', 'result'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    const pools = this.pools;
    new Gauge({
      name: 'citizen_graph_db_pool_connections',
      help: 'Connections of each database pool, by state (in_use, idle).',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        for (const { name, pool } of pools) {
          this.set({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
          this.set({ pool: name, state: 'idle' }, pool.idleCount);
        }
      },
    });
    new Gauge({
      name: 'citizen_graph_db_pool_max_connections',
      help: 'The most connections each database pool opens.',
      labelNames: ['pool'],
      registers,
      collect() {
        for (const { name, pool } of pools) this.set({ pool: name }, pool.options.max ?? 10);
      },
    });
    new Gauge({
      name: 'citizen_graph_db_pool_waiting_queries',
      help: 'Queries waiting for a free connection of each database pool.',
      labelNames: ['pool'],
      registers,
      collect() {
        for (const { name, pool } of pools) this.set({ pool: name }, pool.waitingCount);
      },
    });
    new Counter({
      name: 'citizen_graph_db_statements_total',
      help: 'SQL statements sent through each counted pool (an agency database: the statements its requests cost).',
      labelNames: ['pool'],
      registers,
      collect() {
        for (const watched of pools) {
          if (!watched.statements) continue;
          const total = watched.statements.total;
          this.inc({ pool: watched.name }, total - watched.counted);
          watched.counted = total;
        }
      },
    });
  }

  /** Node's and the process's own metrics (CPU, memory, event loop lag, GC): once, by the process that serves them. */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(operation: string, result: string, seconds: number): void {
    this.requests.observe({ operation, result }, seconds);
  }

  /** A database pool whose use is reported under `name` (and, with a counter, its SQL statements). */
  watchPool(name: string, pool: Pool, statements?: StatementCounter): void {
    this.pools.push({ name, pool, statements, counted: 0 });
  }

  // --- the gateway's calls to subgraphs ---

  observeSubgraphCall(subgraph: string, result: SubgraphCallResult, seconds: number): void {
    this.subgraphCalls ??= new Histogram({
      name: 'citizen_graph_subgraph_request_duration_seconds',
      help: 'Calls from the gateway to each subgraph, by result (ok, graphql_errors, http_error, timeout, unreachable, circuit_open), seconds.',
      labelNames: ['subgraph', 'result'],
      buckets: REQUEST_BUCKETS,
      registers: [this.registry],
    });
    this.subgraphCalls.observe({ subgraph, result }, seconds);
  }

  /**
   * The circuit breaker's state of a subgraph: 0 closed (calls go through), 1 half-open (a probe is let
   * through), 2 open (calls fail at once with AGENCY_UNAVAILABLE). Wired to the data source's onBreakerStateChange.
   */
  setBreakerState = (subgraph: string, state: BreakerState): void => {
    this.breakerStates ??= new Gauge({
      name: 'citizen_graph_subgraph_breaker_state',
      help: "Circuit breaker state of each subgraph at the gateway: 0 closed, 1 half-open, 2 open.",
      labelNames: ['subgraph'],
      registers: [this.registry],
    });
    this.breakerStates.set({ subgraph }, BREAKER_STATE_VALUES[state]);
  };

  // --- the audit writer (lib/audit/writer.ts) ---

  /** The writer's records accepted and not yet committed, reported as citizen_graph_audit_queue_records. */
  watchAuditQueue(name: string, queued: () => number): void {
    if (this.auditQueues.length === 0) {
      const queues = this.auditQueues;
      new Gauge({
        name: 'citizen_graph_audit_queue_records',
        help: 'Audit records accepted by the writer and not yet committed (waiting for, or in, a transaction).',
        labelNames: ['writer'],
        registers: [this.registry],
        collect() {
          for (const queue of queues) this.set({ writer: queue.name }, queue.queued());
        },
      });
    }
    this.auditQueues.push({ name, queued });
  }

  /** One audit transaction: its duration from taking a connection to the commit, and how many records it carried. */
  observeAuditTransaction = (seconds: number, records: number, committed: boolean): void => {
    this.auditCommits ??= new Histogram({
      name: 'citizen_graph_audit_commit_duration_seconds',
      help: 'Audit store transactions (group commits), by result (committed, failed), seconds from taking a connection to the commit.',
      labelNames: ['result'],
      buckets: COMMIT_BUCKETS,
      registers: [this.registry],
    });
    this.auditRecords ??= new Counter({
      name: 'citizen_graph_audit_records_total',
      help: 'Audit records written, by result (committed; failed: the requests they belonged to were refused).',
      labelNames: ['result'],
      registers: [this.registry],
    });
    const result = committed ? 'committed' : 'failed';
    this.auditCommits.observe({ result }, seconds);
    this.auditRecords.inc({ result }, records);
  };
}

/** Where a process serves its metrics: never its public port. */
export interface MetricsListener {
  port: number;
  host: string;
}

/**
 * METRICS_PORT and METRICS_HOST (or the service's prefixed names, which win: RESIDENTS_METRICS_PORT, ...),
 * read by each process's configuration module. Port 0: a free port (tests); host 127.0.0.1 unless set (a
 * scraper elsewhere needs the pod's address, 0.0.0.0, and a network policy that lets only it in).
 */
export function readMetricsListener(read: EnvReader, names: { port: string; host: string }, defaultPort: number, publicPort: number): MetricsListener {
  const port = read.integer(names.port, defaultPort, { min: 0, max: 65535 });
  if (port !== 0 && port === publicPort) read.problem(`${names.port} (${port}) must not be the service's public port: metrics are served on a listener of their own.`);
  // Loopback unless set, in production too: metrics are only exposed further on purpose.
  return { port, host: read.optionalString(names.host) ?? '127.0.0.1' };
}

export interface ServingMetrics {
  url: string;
  close(): Promise<void>;
}

/** GET /metrics in Prometheus' text format on a listener of its own; anything else 404. */
export function serveMetrics(registry: Registry, listener: MetricsListener): Promise<ServingMetrics> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n'),
    );
  });
  // A scraper keeps its connection; nothing else should hold the process open.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listener.port, listener.host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${listener.host.includes(':') ? `[${listener.host}]` : listener.host}:${port}/metrics`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
