import path from 'node:path';
import { AGENCIES, localDatabaseUrl, STATISTICS_DEFAULT_METRICS_PORT, STATISTICS_DEFAULT_PORT, STATISTICS_STORE, type Agency } from '../../lib/agencies';
import { EnvReader, isInside, REPOSITORY_ROOT, type Env } from '../../lib/env';
import type { TrustFile } from '../../lib/service-auth';
import { readTrustFile } from '../../lib/service-keys';
import { DEFAULT_STATEMENT_TIMEOUT_MS, DEFAULT_SUBGRAPH_TIMEOUT_MS, readAuditDatabaseUrl, readShutdown } from '../../lib/subgraph-config';
import { readLogLevel, type LogLevel } from '../../lib/log';
import { readMetricsListener, type MetricsListener } from '../../lib/metrics';
import type { ShutdownSettings } from '../../lib/shutdown';
import { readTls, type TlsMaterial } from '../../lib/tls';
import type { DisclosureParameters } from './perturbation';
import { DEFAULT_CUBE_BUILDERS } from './cubes';

/**
 * The statistics subgraph's settings (README "Statistics"), read once:
 *   STATISTICS_DATABASE_URL            its read model (the embedded `statistics` database in development)
 *   STATISTICS_SOURCE_<AGENCY>_URL     each agency database, as the statistics role (cg_statistics), for the refresh
 *   STATISTICS_PORT, STATISTICS_HOST, STATISTICS_DB_POOL_SIZE, STATISTICS_DB_STATEMENT_TIMEOUT_MS
 *   STATISTICS_SECRET_FILE             the key of the pseudonyms and record keys (32+ random bytes, base64); required in production
 *   STATISTICS_REFRESH_INTERVAL_MS     how often the agencies' change logs are applied (5000; 0: never on a timer)
 *   STATISTICS_CUBE_BUILDERS           measures whose day's cubes are counted at once, a connection each (2)
 *   STATISTICS_SMALL_CELL_THRESHOLD    T: counts 1..T are never published as such (4)
 *   STATISTICS_SENSITIVE_THRESHOLD     T for tables grouped or filtered by ethnicity or religion (10)
 *   STATISTICS_MAX_PERTURBATION        D: larger counts move by at most ±D (2)
 *   STATISTICS_MAX_CELLS               the most cells a grouping may produce (20000)
 *   STATISTICS_QUERY_BUDGET, STATISTICS_QUERY_BUDGET_PERIOD_S   tables per analyst per period (600 per 3600 s)
 *   STATISTICS_METRICS_PORT | METRICS_PORT, STATISTICS_METRICS_HOST | METRICS_HOST   its Prometheus metrics (9404, 127.0.0.1)
 * and what every subgraph reads: SUBGRAPH_SEALED, SERVICE_TRUST_FILE, SUBGRAPH_TLS_*, AUDIT_DATABASE_URL, AUDIT_RECORDING,
 * LOG_LEVEL, SHUTDOWN_GRACE_MS, SHUTDOWN_TIMEOUT_MS (lib/subgraph-config.ts).
 */
export interface StatisticsConfig {
  production: boolean;
  databaseUrl: string;
  sourceUrls: Record<Agency['id'], string>;
  port: number;
  host: string;
  poolSize: number;
  statementTimeoutMs: number;
  secretFile: string;
  refreshIntervalMs: number;
  cubeBuilders: number;
  disclosure: DisclosureParameters;
  maxCells: number;
  budget: { queries: number; periodSeconds: number };
  serviceTrust: TrustFile | null;
  serverTls: TlsMaterial | null;
  clockToleranceSeconds: number;
  replayCacheSize: number;
  sealed: boolean;
  auditDatabaseUrl: string | null;
  logLevel: LogLevel;
  metrics: MetricsListener;
  shutdown: ShutdownSettings;
}

/** Where `npm start` keeps the development secret (made once per installation). */
export const DEV_STATISTICS_SECRET_FILE = path.join(REPOSITORY_ROOT, '.data/statistics/secret.key');

export function readConfig(env: Env = process.env): StatisticsConfig {
  const read = new EnvReader(env);
  const sourceUrls = Object.fromEntries(
    AGENCIES.map((a) => [a.id, read.url(`STATISTICS_SOURCE_${a.envPrefix}_URL`, localDatabaseUrl(a))]),
  ) as Record<Agency['id'], string>;
  const port = read.integer('STATISTICS_PORT', STATISTICS_DEFAULT_PORT, { min: 0, max: 65535 });
  const metricsName = (suffix: string) => (env[`STATISTICS_${suffix}`] !== undefined ? `STATISTICS_${suffix}` : suffix);
  const threshold = read.integer('STATISTICS_SMALL_CELL_THRESHOLD', 4, { min: 1, max: 100 });
  const config: StatisticsConfig = {
    production: read.production,
    databaseUrl: read.url('STATISTICS_DATABASE_URL', localDatabaseUrl(STATISTICS_STORE)),
    sourceUrls,
    port,
    host: read.string('STATISTICS_HOST', '127.0.0.1') || '127.0.0.1',
    poolSize: read.integer('STATISTICS_DB_POOL_SIZE', 10, { min: 1, max: 200 }),
    statementTimeoutMs: read.integer('STATISTICS_DB_STATEMENT_TIMEOUT_MS', DEFAULT_STATEMENT_TIMEOUT_MS, { min: 10, max: 120_000 }),
    secretFile: read.string('STATISTICS_SECRET_FILE', DEV_STATISTICS_SECRET_FILE),
    refreshIntervalMs: read.integer('STATISTICS_REFRESH_INTERVAL_MS', 5000, { min: 0, max: 3_600_000 }),
    cubeBuilders: read.integer('STATISTICS_CUBE_BUILDERS', DEFAULT_CUBE_BUILDERS, { min: 1, max: 16 }),
    disclosure: {
      threshold,
      sensitiveThreshold: read.integer('STATISTICS_SENSITIVE_THRESHOLD', 10, { min: threshold, max: 1000 }),
      maxPerturbation: read.integer('STATISTICS_MAX_PERTURBATION', 2, { min: 1, max: 50 }),
    },
    maxCells: read.integer('STATISTICS_MAX_CELLS', 20_000, { min: 1, max: 1_000_000 }),
    budget: {
      queries: read.integer('STATISTICS_QUERY_BUDGET', 600, { min: 1, max: 10_000_000 }),
      periodSeconds: read.integer('STATISTICS_QUERY_BUDGET_PERIOD_S', 3600, { min: 1, max: 31 * 86400 }),
    },
    serviceTrust: readTrustFile(read),
    serverTls: readTls(read, 'SUBGRAPH_TLS'),
    clockToleranceSeconds: read.integer('SERVICE_CLOCK_TOLERANCE_S', 5, { min: 0, max: 30 }),
    replayCacheSize: read.integer('SERVICE_REPLAY_CACHE_SIZE', 100_000, { min: 100, max: 10_000_000 }),
    sealed: read.boolean('SUBGRAPH_SEALED', true),
    auditDatabaseUrl: readAuditDatabaseUrl(read),
    logLevel: readLogLevel(read),
    metrics: readMetricsListener(read, { port: metricsName('METRICS_PORT'), host: metricsName('METRICS_HOST') }, STATISTICS_DEFAULT_METRICS_PORT, port),
    shutdown: readShutdown(read),
  };
  const gatewayTimeout = Number(env.SUBGRAPH_TIMEOUT_MS?.trim() || DEFAULT_SUBGRAPH_TIMEOUT_MS);
  if (Number.isFinite(gatewayTimeout) && config.statementTimeoutMs >= gatewayTimeout) {
    read.problem(`STATISTICS_DB_STATEMENT_TIMEOUT_MS (${config.statementTimeoutMs}) must be below the gateway's SUBGRAPH_TIMEOUT_MS (${gatewayTimeout}).`);
  }
  if (read.production && (!read.optionalString('STATISTICS_SECRET_FILE') || isInside(config.secretFile, REPOSITORY_ROOT))) {
    read.problem('STATISTICS_SECRET_FILE: production needs the pseudonym key in a file of its own, outside the repository folder.');
  }
  read.refuseInProduction(!config.sealed, 'SUBGRAPH_SEALED=false answers anyone who reaches the subgraph, with no credential: production subgraphs are sealed');
  read.refuseInProduction(config.auditDatabaseUrl === null, 'AUDIT_RECORDING=false serves data without recording who saw it: production must record');
  read.done();
  return Object.freeze(config);
}
