import { agency, AUDIT_STORE, localDatabaseUrl, type Agency } from './agencies';
import { EnvReader, type Env } from './env';

/**
 * The settings every agency subgraph reads, with the variable names prefixed by the agency
 * (RESIDENTS_DATABASE_URL, NATIONAL_ID_PORT, ...). DATABASE_URL and PORT alone also work, for a
 * deployment that runs one subgraph per container. Development defaults point at the embedded PostgreSQL.
 * Shared by all: SERVICE_TOKEN_SECRET (required in production), RESIDENTS_SERVICE_URL, SERVICE_TIMEOUT_MS,
 * SUBGRAPH_SEALED (on: only credentialed requests are answered), AUDIT_DATABASE_URL and AUDIT_RECORDING (on),
 * AUDIT_OUTBOX_INTERVAL_MS (2000: how often the change log's WRITE records are shipped to the audit store; 0: only
 * right after each mutation).
 */
export interface SubgraphConfig {
  agency: Agency;
  production: boolean;
  databaseUrl: string;
  port: number;
  host: string;
  poolSize: number;
  /** Shared secret of the agencies' service credentials (lib/service-auth.ts). */
  serviceSecret: string;
  /** Where this subgraph reaches the residents subgraph for service calls (code issuance, holder checks). */
  residentsServiceUrl: string;
  serviceTimeoutMs: number;
  /** Answer only requests with a valid credential (the gateway's or an agency service's): SUBGRAPH_SEALED, on. */
  sealed: boolean;
  /** The audit store every access is recorded in (AUDIT_DATABASE_URL); null when AUDIT_RECORDING is off. */
  auditDatabaseUrl: string | null;
  /** How often the change log's unshipped WRITE records go to the audit store (AUDIT_OUTBOX_INTERVAL_MS; lib/audit/outbox.ts). */
  auditOutboxIntervalMs: number;
}

/** AUDIT_DATABASE_URL (the embedded `audit` database in development), unless AUDIT_RECORDING is off. */
export function readAuditDatabaseUrl(read: EnvReader): string | null {
  const recording = read.boolean('AUDIT_RECORDING', true);
  const url = read.url('AUDIT_DATABASE_URL', localDatabaseUrl(AUDIT_STORE));
  return recording ? url : null;
}

/** The development secret; production must set SERVICE_TOKEN_SECRET to 32 characters or more of its own. */
export const DEV_SERVICE_SECRET = 'citizen-graph-development-service-secret-not-for-production';

export function readSubgraphConfig(id: Agency['id'], env: Env): SubgraphConfig {
  const a = agency(id);
  const read = new EnvReader(env);
  const prefixed = (name: string) => (env[`${a.envPrefix}_${name}`] !== undefined ? `${a.envPrefix}_${name}` : name);
  const config: SubgraphConfig = {
    agency: a,
    production: read.production,
    databaseUrl: read.url(prefixed('DATABASE_URL'), localDatabaseUrl(a)),
    port: read.integer(prefixed('PORT'), a.defaultPort, { min: 0, max: 65535 }),
    host: read.string(prefixed('HOST'), '127.0.0.1') || '127.0.0.1',
    poolSize: read.integer(prefixed('DB_POOL_SIZE'), 10, { min: 1, max: 200 }),
    serviceSecret: read.string('SERVICE_TOKEN_SECRET', DEV_SERVICE_SECRET),
    residentsServiceUrl: read.url('RESIDENTS_SERVICE_URL', `http://127.0.0.1:${agency('residents').defaultPort}/graphql`),
    serviceTimeoutMs: read.integer('SERVICE_TIMEOUT_MS', 5000, { min: 50, max: 120_000 }),
    sealed: read.boolean('SUBGRAPH_SEALED', true),
    auditDatabaseUrl: readAuditDatabaseUrl(read),
    auditOutboxIntervalMs: read.integer('AUDIT_OUTBOX_INTERVAL_MS', 2000, { min: 0, max: 3_600_000 }),
  };
  if (config.serviceSecret && config.serviceSecret.length < 32) read.problem('SERVICE_TOKEN_SECRET must be at least 32 characters.');
  read.done();
  return Object.freeze(config);
}
