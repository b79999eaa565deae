import type { PrismaPg } from '@prisma/adapter-pg';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import fs from 'node:fs';
import { Pool } from 'pg';
import { callerFrom, type Caller } from './caller';
import type { AuditSink } from './access/audit-entry';
import { createAuditWriter } from './audit/writer';
import { createOutboxShipper, outboxPlugin, type OutboxShipper } from './audit/outbox';
import { readClassifications } from './access/schema-classification';
import { auditPlugin, guardSchema, newAccessRecord, relativesPlugin, sealMiddleware, type AccessRecord, type DataSubjects } from './access/subgraph-access';
import { createCredentialVerifier, SharedReplayCache } from './service-auth';
import { connectSharedStore } from './shared-store';
import { openDatabase, type Database } from './database';
import { AUDIT_TABLES, checkServiceRole } from './database-role-check';
import { SERVICE_ROLES } from './database-roles';
import { createSubgraphServer, type SubgraphServer } from './subgraph-server';
import type { SubgraphConfig } from './subgraph-config';
import { createLogger, errorLog, type Logger } from './log';
import { ServiceMetrics } from './metrics';
import { createRefusalLog } from './refusal-log';

/**
 * An agency subgraph = its database (one Prisma client over one pool) + its schema and resolvers +
 * per-request loaders + the services of other agencies it calls. Each subgraph's server.ts fills those
 * in; this assembles and runs them.
 */
export interface AgencyContext<Client, Loaders, Services = Record<string, never>> {
  db: Database<Client>;
  loaders: Loaders;
  /** Who is behind this request (lib/caller.ts). */
  caller: Caller;
  services: Services;
  /** Whose data this request resolved, for the audit store (lib/access/subgraph-access.ts). */
  access: AccessRecord;
  /** The subgraph's log (lib/log.ts): lines written while serving the request carry its ids. */
  log: Logger;
}

export interface AgencySubgraphSpec<Client extends { $disconnect(): Promise<void> }, Loaders, Services> {
  config: SubgraphConfig;
  schemaPath: string;
  resolvers: unknown;
  createClient(adapter: PrismaPg): Client;
  createLoaders(db: Database<Client>): Loaders;
  /** Clients of other agencies' services, made once per process. */
  services?: Services;
  /** Mutations only other agencies' services may call (they check the service credential themselves). */
  serviceOnly?: readonly string[];
  /** Whose data the objects of this subgraph's types carry, where they name persons themselves (lib/access/subgraph-access.ts). */
  subjects?: DataSubjects;
  /** Releases what the subgraph opened besides its database (pools of other stores). */
  release?(): Promise<void>;
  /** Pools of other stores the subgraph opened, whose use is reported (citizen_graph_db_pool_*), by name. */
  pools?: Readonly<Record<string, Pool | null>>;
  /** Work the subgraph process does on its own (e.g. finishing writes another agency could not take); returns a stop function. */
  background?(deps: { db: Database<Client>; services: Services; log: Logger }): () => void;
}

export interface AgencySubgraph<Client, Loaders, Services = Record<string, never>> {
  server: SubgraphServer<AgencyContext<Client, Loaders, Services>>;
  db: Database<Client>;
  /** Where this subgraph records accesses (null: AUDIT_RECORDING off); close it after the server stops. */
  audit: AuditSink | null;
  /** Ships the change log's WRITE records to the audit store (lib/audit/outbox.ts); null when AUDIT_RECORDING is off. */
  outbox: OutboxShipper | null;
  services: Services;
  /** Its log and metrics (the process serves the metrics on a listener of their own: lib/run-subgraph.ts). */
  log: Logger;
  metrics: ServiceMetrics;
  /** Starts the subgraph's background work, if it has any (the process runner does; tests choose). */
  startBackground(): () => void;
  /** After the server has stopped: the audit writer, other pools, then the database. */
  close(): Promise<void>;
}

export async function createAgencySubgraph<Client extends { $disconnect(): Promise<void> }, Loaders, Services = Record<string, never>>(
  spec: AgencySubgraphSpec<Client, Loaders, Services>,
): Promise<AgencySubgraph<Client, Loaders, Services>> {
  const { config } = spec;
  const log = createLogger(config.agency.id, { level: config.logLevel });
  const metrics = new ServiceMetrics(config.agency.id);
  const db = openDatabase(
    {
      url: config.databaseUrl,
      poolSize: config.poolSize,
      applicationName: `citizen-graph-${config.agency.id}`,
      statementTimeoutMs: config.statementTimeoutMs,
      transactionTimeoutMs: config.transactionTimeoutMs,
      log: errorLog(log.child({ component: 'database' })),
    },
    spec.createClient,
  );
  // The agency database's pool is Prisma's too (its pg adapter runs on it): its statements are what requests cost.
  metrics.watchPool(config.agency.id, db.pool, db.statements);
  // Never as a superuser or the tables' owner: refused in production, a warning in development.
  const role = { expectedRole: SERVICE_ROLES[config.agency.id].name, production: config.production, warn: (message: string) => log.warn(message) };
  try {
    await checkServiceRole({ ...role, pool: db.pool, setting: `${config.agency.envPrefix}_DATABASE_URL` });
    if (config.auditDatabaseUrl) await checkServiceRole({ ...role, url: config.auditDatabaseUrl, setting: 'AUDIT_DATABASE_URL', tables: AUDIT_TABLES });
  } catch (error) {
    await db.close();
    throw error;
  }
  const services = (spec.services ?? {}) as Services;
  // Replicas remember the credentials they accepted together (REDIS_URL), so that none is accepted twice.
  const sharedStore = config.sharedStore ? connectSharedStore(config.sharedStore, { name: config.agency.id, log }) : null;
  // Credentials are checked against the trust file only; without one (development, no keys yet) none is accepted.
  const verifier = config.serviceTrust
    ? createCredentialVerifier(config.serviceTrust, config.agency.id, {
        clockToleranceSeconds: config.clockToleranceSeconds,
        replayCacheSize: config.replayCacheSize,
        replays: sharedStore ? new SharedReplayCache(sharedStore.client, config.agency.id) : undefined,
      })
    : null;
  const classifications = readClassifications(fs.readFileSync(spec.schemaPath, 'utf8'));
  const logError = errorLog(log);
  const audit = config.auditDatabaseUrl ? createAuditWriter({ url: config.auditDatabaseUrl, onTransaction: metrics.observeAuditTransaction }) : null;
  if (audit) {
    metrics.watchAuditQueue('subgraph', audit.queued);
    metrics.watchPool('audit-writer', audit.pool);
  }
  // The change log is the outbox of WRITE records: shipped after each mutation and on a timer, from now on.
  // On a connection of its own: its statements are not the requests' (db.statements counts those).
  const outboxPool = audit ? new Pool({ connectionString: config.databaseUrl, max: 1, application_name: `citizen-graph-${config.agency.id}-outbox` }) : null;
  outboxPool?.on('error', () => undefined); // an idle connection dropped: the next query reconnects
  if (outboxPool) metrics.watchPool('outbox', outboxPool);
  for (const [name, pool] of Object.entries(spec.pools ?? {})) if (pool) metrics.watchPool(name, pool);
  const outboxLog = errorLog(log.child({ component: 'audit-outbox' }));
  const outbox =
    audit && outboxPool
      ? createOutboxShipper({ agency: config.agency.id, pool: outboxPool, sink: audit, intervalMs: config.auditOutboxIntervalMs, log: outboxLog })
      : null;
  outbox?.start();
  const server = await createSubgraphServer<AgencyContext<Client, Loaders, Services>>({
    name: config.agency.id,
    schemaPath: spec.schemaPath,
    resolvers: spec.resolvers as GraphQLResolverMap<AgencyContext<Client, Loaders, Services>>,
    gate: sealMiddleware(verifier, config.sealed, createRefusalLog({ log })),
    transformSchema: (schema) => guardSchema(schema, classifications, { agency: config.agency.id, serviceOnly: spec.serviceOnly, subjects: spec.subjects }),
    plugins: [auditPlugin(config.agency.id, audit, logError), relativesPlugin(), ...(outbox ? [outboxPlugin(outbox, outboxLog)] : [])],
    createContext: (headers, locals) => ({
      db,
      loaders: spec.createLoaders(db),
      caller: (locals?.caller as Caller | undefined) ?? callerFrom(headers),
      services,
      access: newAccessRecord(),
      log,
    }),
    ping: () => db.ping(),
    log,
    metrics,
    // Without the shared replay cache every credential is refused (fail closed): no traffic meanwhile.
    sharedStoreReady: sharedStore ? () => sharedStore.ready() : undefined,
  }, { tls: config.serverTls, drainTimeoutMs: config.shutdown.timeoutMs });
  return {
    server,
    db,
    audit,
    outbox,
    services,
    log,
    metrics,
    startBackground: () => spec.background?.({ db, services, log }) ?? (() => undefined),
    async close() {
      await outbox?.stop();
      await outboxPool?.end();
      await audit?.close();
      await spec.release?.();
      await sharedStore?.close();
      await db.close();
    },
  };
}
