import { agency, AUDIT_STORE, localDatabaseUrl, type Agency } from './agencies';
import { EnvReader, redactUrl, type Env } from './env';
import type { PrivateServiceJwk, TrustFile } from './service-auth';
import { readServiceKey, readTrustFile } from './service-keys';
import { readTls, type TlsMaterial } from './tls';
import { readLogLevel, type LogLevel } from './log';
import { readMetricsListener, type MetricsListener } from './metrics';
import type { ShutdownSettings } from './shutdown';
import type { SharedStoreSettings } from './shared-store';

/**
 * The settings every agency subgraph reads, with the variable names prefixed by the agency
 * (RESIDENTS_DATABASE_URL, NATIONAL_ID_PORT, ...). DATABASE_URL and PORT alone also work, for a
 * deployment that runs one subgraph per container. Development defaults point at the embedded PostgreSQL.
 * Service credentials (lib/service-auth.ts, lib/service-keys.ts): <PREFIX>_SERVICE_KEY_FILE or SERVICE_KEY_FILE
 * (this agency's private signing key), SERVICE_TRUST_FILE (the issuers it trusts and what they may do), both
 * required in production; SERVICE_CREDENTIAL_TTL_S (10), SERVICE_CLOCK_TOLERANCE_S (5), SERVICE_REPLAY_CACHE_SIZE
 * (100000). Shared by all: RESIDENTS_SERVICE_URL, SERVICE_TIMEOUT_MS, SUBGRAPH_SEALED (on: only credentialed
 * requests are answered), AUDIT_DATABASE_URL and AUDIT_RECORDING (on),
 * AUDIT_OUTBOX_INTERVAL_MS (2000: how often the change log's WRITE records are shipped to the audit store; 0: only
 * right after each mutation).
 * Observability: LOG_LEVEL (info; lib/log.ts); <PREFIX>_METRICS_PORT | METRICS_PORT (9401, 9402, 9403: the agency's
 * Prometheus metrics, on a listener of their own, lib/metrics.ts) and <PREFIX>_METRICS_HOST | METRICS_HOST (127.0.0.1).
 * SHUTDOWN_GRACE_MS, SHUTDOWN_TIMEOUT_MS: how SIGTERM stops it (readShutdown below).
 * REDIS_URL, REDIS_TIMEOUT_MS: the store the subgraph's replicas share for the replay cache (readSharedStore below; none: in memory).
 * Database sessions: <PREFIX>_DB_STATEMENT_TIMEOUT_MS (4000; below the gateway's SUBGRAPH_TIMEOUT_MS) and
 * <PREFIX>_DB_TRANSACTION_TIMEOUT_MS (20000, inside write transactions). Both URLs should name the subgraph's
 * own role (cg_residents, ...: lib/database-roles.ts); in production a superuser or owner is refused at start-up.
 */
export interface SubgraphConfig {
  agency: Agency;
  production: boolean;
  databaseUrl: string;
  port: number;
  host: string;
  poolSize: number;
  /**
   * Bound on every statement of this subgraph's database sessions (<PREFIX>_DB_STATEMENT_TIMEOUT_MS, 4000 ms):
   * below the gateway's SUBGRAPH_TIMEOUT_MS (5000), so no query outlives the request that asked for it.
   */
  statementTimeoutMs: number;
  /**
   * Inside a write's interactive transaction (which has its own Prisma timeout), the bound on each statement,
   * lock waits included, and on the session staying idle in the transaction (<PREFIX>_DB_TRANSACTION_TIMEOUT_MS, 20000 ms).
   */
  transactionTimeoutMs: number;
  /** This agency's private key for the credentials of its service calls; null (development only): none made yet. */
  serviceKey: PrivateServiceJwk | null;
  /** The issuers whose credentials this subgraph accepts, their keys and permissions; null (development only): none. */
  serviceTrust: TrustFile | null;
  /** HTTPS with client certificates required (SUBGRAPH_TLS_CERT_FILE, _KEY_FILE, _CA_FILE); null: plain HTTP. */
  serverTls: TlsMaterial | null;
  /** This agency's client certificate for its service calls (SERVICE_TLS_CERT_FILE, _KEY_FILE, _CA_FILE); null: none. */
  serviceTls: TlsMaterial | null;
  /** Seconds a credential this agency signs lives. */
  credentialTtlSeconds: number;
  /** Seconds of clock difference tolerated when checking a credential's iat and exp. */
  clockToleranceSeconds: number;
  /** Credentials remembered at once against replay; full of live ones, credentials are refused. */
  replayCacheSize: number;
  /** Where this subgraph reaches the residents subgraph for service calls (code issuance, holder checks). */
  residentsServiceUrl: string;
  serviceTimeoutMs: number;
  /** Answer only requests with a valid credential (the gateway's or an agency service's): SUBGRAPH_SEALED, on. */
  sealed: boolean;
  /** The audit store every access is recorded in (AUDIT_DATABASE_URL); null when AUDIT_RECORDING is off. */
  auditDatabaseUrl: string | null;
  /** How often the change log's unshipped WRITE records go to the audit store (AUDIT_OUTBOX_INTERVAL_MS; lib/audit/outbox.ts). */
  auditOutboxIntervalMs: number;
  /** The least severe log lines written (LOG_LEVEL; lib/log.ts). */
  logLevel: LogLevel;
  /** Where the Prometheus metrics are served (<PREFIX>_METRICS_PORT | METRICS_PORT, _HOST); never the public port. */
  metrics: MetricsListener;
  /** SIGTERM: SHUTDOWN_GRACE_MS, SHUTDOWN_TIMEOUT_MS (lib/shutdown.ts). */
  shutdown: ShutdownSettings;
  /** REDIS_URL: where replicas remember accepted credentials together (lib/shared-store.ts); null: this process's memory. */
  sharedStore: SharedStoreSettings | null;
}

/** AUDIT_DATABASE_URL (the embedded `audit` database in development), unless AUDIT_RECORDING is off. */
export function readAuditDatabaseUrl(read: EnvReader): string | null {
  const recording = read.boolean('AUDIT_RECORDING', true);
  const url = read.url('AUDIT_DATABASE_URL', localDatabaseUrl(AUDIT_STORE));
  return recording ? url : null;
}

/**
 * SHUTDOWN_GRACE_MS: after SIGTERM, how long a process keeps serving while it reports not ready, so that a load
 * balancer's health check notices (5000 in production; 0 outside it, where nothing balances: npm start's Ctrl-C
 * stops at once). SHUTDOWN_TIMEOUT_MS: the longest the whole stop may take, grace included, before the process
 * exits with code 1, logging what was left (30000; keep it below the orchestrator's own limit, Kubernetes'
 * terminationGracePeriodSeconds). Read by the gateway and every subgraph (lib/shutdown.ts).
 */
export function readShutdown(read: EnvReader): ShutdownSettings {
  const settings = {
    graceMs: read.integer('SHUTDOWN_GRACE_MS', read.production ? 5000 : 0, { min: 0, max: 600_000 }),
    timeoutMs: read.integer('SHUTDOWN_TIMEOUT_MS', 30_000, { min: 100, max: 3_600_000 }),
  };
  if (settings.graceMs >= settings.timeoutMs) {
    read.problem(`SHUTDOWN_GRACE_MS (${settings.graceMs}) must be below SHUTDOWN_TIMEOUT_MS (${settings.timeoutMs}): the requests in flight need time after the grace.`);
  }
  return Object.freeze(settings);
}

/**
 * REDIS_URL (redis://[user:password@]host:port[/db], rediss:// for TLS): the store the replicas of a service share
 * (lib/shared-store.ts): the gateway's rate limits, the subgraphs' replay cache. Unset (the default, npm start, one
 * process of each): both in the process's memory. Any deployment with more than one replica of a service needs it:
 * without it each replica accepts a credential once (a replay is accepted once per replica) and each gateway
 * replica allows a caller the whole rate limit.
 */
export function readSharedStore(read: EnvReader): SharedStoreSettings | null {
  const url = read.optionalString('REDIS_URL');
  // REDIS_TIMEOUT_MS: how long a command may go unanswered before it counts as failed (the replay cache then
  // refuses, the rate limit falls back to memory). Above Redis's own latency with room for a busy process.
  const timeoutMs = read.integer('REDIS_TIMEOUT_MS', 2000, { min: 10, max: 60_000 });
  if (url === undefined) return null;
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    read.problem(`REDIS_URL must be a redis:// or rediss:// URL; got "${redactUrl(url)}".`);
    return null;
  }
  return Object.freeze({ url, timeoutMs });
}

/** Defaults of the database session timeouts (SubgraphConfig), and the gateway's SUBGRAPH_TIMEOUT_MS they must stay below. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 4000;
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 20_000;
export const DEFAULT_SUBGRAPH_TIMEOUT_MS = 5000;

/** Where a subgraph listens: its public port and host and its metrics listener (npm start reads them too, to wait on the right ports). */
export interface SubgraphListeners {
  port: number;
  host: string;
  metrics: MetricsListener;
  /** The variables they were read from (RESIDENTS_PORT or PORT, ...), for messages that name what to change. */
  names: { port: string; metricsPort: string };
}

export function readSubgraphListeners(id: Agency['id'], read: EnvReader, env: Env): SubgraphListeners {
  const a = agency(id);
  const prefixed = (name: string) => (env[`${a.envPrefix}_${name}`] !== undefined ? `${a.envPrefix}_${name}` : name);
  const port = read.integer(prefixed('PORT'), a.defaultPort, { min: 0, max: 65535 });
  return {
    port,
    host: read.string(prefixed('HOST'), '127.0.0.1') || '127.0.0.1',
    metrics: readMetricsListener(read, { port: prefixed('METRICS_PORT'), host: prefixed('METRICS_HOST') }, a.defaultMetricsPort, port),
    names: { port: prefixed('PORT'), metricsPort: prefixed('METRICS_PORT') },
  };
}

export function readSubgraphConfig(id: Agency['id'], env: Env): SubgraphConfig {
  const a = agency(id);
  const read = new EnvReader(env);
  const prefixed = (name: string) => (env[`${a.envPrefix}_${name}`] !== undefined ? `${a.envPrefix}_${name}` : name);
  const listeners = readSubgraphListeners(id, read, env);
  const config: SubgraphConfig = {
    agency: a,
    production: read.production,
    databaseUrl: read.url(prefixed('DATABASE_URL'), localDatabaseUrl(a)),
    port: listeners.port,
    host: listeners.host,
    poolSize: read.integer(prefixed('DB_POOL_SIZE'), 10, { min: 1, max: 200 }),
    statementTimeoutMs: read.integer(prefixed('DB_STATEMENT_TIMEOUT_MS'), DEFAULT_STATEMENT_TIMEOUT_MS, { min: 10, max: 120_000 }),
    transactionTimeoutMs: read.integer(prefixed('DB_TRANSACTION_TIMEOUT_MS'), DEFAULT_TRANSACTION_TIMEOUT_MS, { min: 10, max: 600_000 }),
    serviceKey: readServiceKey(read, prefixed('SERVICE_KEY_FILE'), a.id),
    serviceTrust: readTrustFile(read),
    serverTls: readTls(read, 'SUBGRAPH_TLS'),
    serviceTls: readTls(read, 'SERVICE_TLS'),
    credentialTtlSeconds: read.integer('SERVICE_CREDENTIAL_TTL_S', 10, { min: 1, max: 60 }),
    clockToleranceSeconds: read.integer('SERVICE_CLOCK_TOLERANCE_S', 5, { min: 0, max: 30 }),
    replayCacheSize: read.integer('SERVICE_REPLAY_CACHE_SIZE', 100_000, { min: 100, max: 10_000_000 }),
    residentsServiceUrl: read.url('RESIDENTS_SERVICE_URL', `http://127.0.0.1:${agency('residents').defaultPort}/graphql`),
    serviceTimeoutMs: read.integer('SERVICE_TIMEOUT_MS', 5000, { min: 50, max: 120_000 }),
    sealed: read.boolean('SUBGRAPH_SEALED', true),
    auditDatabaseUrl: readAuditDatabaseUrl(read),
    auditOutboxIntervalMs: read.integer('AUDIT_OUTBOX_INTERVAL_MS', 2000, { min: 0, max: 3_600_000 }),
    logLevel: readLogLevel(read),
    metrics: listeners.metrics,
    shutdown: readShutdown(read),
    sharedStore: readSharedStore(read),
  };
  // Where the gateway's timeout is known here too (npm start gives every process the same environment).
  const gatewayTimeout = Number(env.SUBGRAPH_TIMEOUT_MS?.trim() || DEFAULT_SUBGRAPH_TIMEOUT_MS);
  if (Number.isFinite(gatewayTimeout) && config.statementTimeoutMs >= gatewayTimeout) {
    read.problem(
      `${prefixed('DB_STATEMENT_TIMEOUT_MS')} (${config.statementTimeoutMs}) must be below the gateway's SUBGRAPH_TIMEOUT_MS (${gatewayTimeout}): a query would outlive the request.`,
    );
  }
  read.refuseInProduction(!config.sealed, 'SUBGRAPH_SEALED=false answers anyone who reaches the subgraph, with no credential: production subgraphs are sealed');
  read.refuseInProduction(config.auditDatabaseUrl === null, 'AUDIT_RECORDING=false serves data without recording who saw it: production must record');
  read.done();
  return Object.freeze(config);
}
