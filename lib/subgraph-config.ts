import { agency, AUDIT_STORE, localDatabaseUrl, type Agency } from './agencies';
import { EnvReader, type Env } from './env';

/**
 * The settings every agency subgraph reads, with the variable names prefixed by the agency
 * (RESIDENTS_DATABASE_URL, NATIONAL_ID_PORT, ...). DATABASE_URL and PORT alone also work, for a
 * deployment that runs one subgraph per container. Development defaults point at the embedded PostgreSQL.
 * Shared by all: SERVICE_TOKEN_SECRET (required in production), RESIDENTS_SERVICE_URL, SERVICE_TIMEOUT_MS,
 * SUBGRAPH_SEALED (on: only credentialed requests are answered), AUDIT_DATABASE_URL and AUDIT_RECORDING (on).
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
  /** Shared secret of the agencies' service credentials (lib/service-auth.ts). */
  serviceSecret: string;
  /** Where this subgraph reaches the residents subgraph for service calls (code issuance, holder checks). */
  residentsServiceUrl: string;
  serviceTimeoutMs: number;
  /** Answer only requests with a valid credential (the gateway's or an agency service's): SUBGRAPH_SEALED, on. */
  sealed: boolean;
  /** The audit store every access is recorded in (AUDIT_DATABASE_URL); null when AUDIT_RECORDING is off. */
  auditDatabaseUrl: string | null;
}

/** AUDIT_DATABASE_URL (the embedded `audit` database in development), unless AUDIT_RECORDING is off. */
export function readAuditDatabaseUrl(read: EnvReader): string | null {
  const recording = read.boolean('AUDIT_RECORDING', true);
  const url = read.url('AUDIT_DATABASE_URL', localDatabaseUrl(AUDIT_STORE));
  return recording ? url : null;
}

/** Defaults of the database session timeouts (SubgraphConfig), and the gateway's SUBGRAPH_TIMEOUT_MS they must stay below. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 4000;
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 20_000;
export const DEFAULT_SUBGRAPH_TIMEOUT_MS = 5000;

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
    statementTimeoutMs: read.integer(prefixed('DB_STATEMENT_TIMEOUT_MS'), DEFAULT_STATEMENT_TIMEOUT_MS, { min: 10, max: 120_000 }),
    transactionTimeoutMs: read.integer(prefixed('DB_TRANSACTION_TIMEOUT_MS'), DEFAULT_TRANSACTION_TIMEOUT_MS, { min: 10, max: 600_000 }),
    serviceSecret: read.string('SERVICE_TOKEN_SECRET', DEV_SERVICE_SECRET),
    residentsServiceUrl: read.url('RESIDENTS_SERVICE_URL', `http://127.0.0.1:${agency('residents').defaultPort}/graphql`),
    serviceTimeoutMs: read.integer('SERVICE_TIMEOUT_MS', 5000, { min: 50, max: 120_000 }),
    sealed: read.boolean('SUBGRAPH_SEALED', true),
    auditDatabaseUrl: readAuditDatabaseUrl(read),
  };
  if (config.serviceSecret && config.serviceSecret.length < 32) read.problem('SERVICE_TOKEN_SECRET must be at least 32 characters.');
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
