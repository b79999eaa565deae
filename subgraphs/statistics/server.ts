import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { callerFrom, type Caller } from '../../lib/caller';
import type { AuditSink } from '../../lib/access/audit-entry';
import { createAuditWriter } from '../../lib/audit/writer';
import { readClassifications } from '../../lib/access/schema-classification';
import { auditPlugin, guardSchema, newAccessRecord, sealMiddleware } from '../../lib/access/subgraph-access';
import { createCredentialVerifier } from '../../lib/service-auth';
import { checkServiceRole, AUDIT_TABLES } from '../../lib/database-role-check';
import { STATISTICS_ROLE } from '../../lib/database-roles';
import { AGENCIES } from '../../lib/agencies';
import { createSubgraphServer, type SubgraphServer } from '../../lib/subgraph-server';
import { createLogger, errorLog, type Logger } from '../../lib/log';
import { ServiceMetrics } from '../../lib/metrics';
import { createRefusalLog } from '../../lib/refusal-log';
import type { StatisticsConfig } from './config';
import type { Context } from './context';
import { queryBudget } from './budget';
import { pseudonymiser, readSecret } from './pseudonyms';
import { refreshStatistics, type RefreshOptions, type RefreshResult, type SourcePools } from './refresh';
import { resolvers } from './resolvers';

/** The subgraph's name in supergraph.yaml, the audience of the gateway's credentials, the audit records' agency. */
export const STATISTICS_SUBGRAPH = 'statistics';

export interface StatisticsSubgraph {
  server: SubgraphServer<Context>;
  store: Pool;
  audit: AuditSink | null;
  /** Its log and metrics (the process serves the metrics on a listener of their own: index.ts). */
  log: Logger;
  metrics: ServiceMetrics;
  /** Applies the agencies' change logs now (builds from scratch when a source was never read). */
  refresh(options?: RefreshOptions): Promise<RefreshResult>;
  /** Refreshes every STATISTICS_REFRESH_INTERVAL_MS; returns a stop function. */
  startBackground(): () => void;
  close(): Promise<void>;
}

/**
 * The statistics subgraph (docs/DESIGN.md "Statistics"): analysts' tables from the read model, sealed and guarded
 * like every subgraph (the same seal, field guard and audit plugin), and the refresher that keeps the read model
 * in step with the agencies.
 */
export async function createStatisticsSubgraph(config: StatisticsConfig): Promise<StatisticsSubgraph> {
  const logger = createLogger(STATISTICS_SUBGRAPH, { level: config.logLevel });
  const metrics = new ServiceMetrics(STATISTICS_SUBGRAPH);
  const pseudonyms = pseudonymiser(readSecret(config.secretFile));
  const store = new Pool({
    connectionString: config.databaseUrl,
    max: config.poolSize,
    application_name: 'citizen-graph-statistics',
    statement_timeout: config.statementTimeoutMs,
  });
  store.on('error', () => undefined);
  const sources = Object.fromEntries(
    AGENCIES.map((a) => [a.id, new Pool({ connectionString: config.sourceUrls[a.id], max: 2, application_name: 'citizen-graph-statistics-refresh' })]),
  ) as SourcePools;
  for (const pool of Object.values(sources)) pool.on('error', () => undefined);
  metrics.watchPool(STATISTICS_SUBGRAPH, store);
  const closePools = async () => {
    await Promise.all(Object.values(sources).map((p) => p.end()));
    await store.end();
  };
  try {
    const role = { expectedRole: STATISTICS_ROLE.name, production: config.production, warn: (message: string) => logger.warn(message) };
    // Its own derived store, whose tables it owns to rebuild them (lib/database-roles.ts): a superuser is still refused.
    await checkServiceRole({ ...role, pool: store, setting: 'STATISTICS_DATABASE_URL', ownsTables: true });
    if (config.auditDatabaseUrl) await checkServiceRole({ ...role, url: config.auditDatabaseUrl, setting: 'AUDIT_DATABASE_URL', tables: AUDIT_TABLES });
  } catch (error) {
    await closePools();
    throw error;
  }
  const verifier = config.serviceTrust
    ? createCredentialVerifier(config.serviceTrust, STATISTICS_SUBGRAPH, { clockToleranceSeconds: config.clockToleranceSeconds, replayCacheSize: config.replayCacheSize })
    : null;
  const schemaPath = path.join(__dirname, 'schema.graphql');
  const classifications = readClassifications(fs.readFileSync(schemaPath, 'utf8'));
  const log = errorLog(logger);
  const audit = config.auditDatabaseUrl ? createAuditWriter({ url: config.auditDatabaseUrl, onTransaction: metrics.observeAuditTransaction }) : null;
  if (audit) {
    metrics.watchAuditQueue('subgraph', audit.queued);
    metrics.watchPool('audit-writer', audit.pool);
  }
  const budget = queryBudget(config.budget);
  const server = await createSubgraphServer<Context>(
    {
      name: STATISTICS_SUBGRAPH,
      schemaPath,
      resolvers: resolvers as unknown as GraphQLResolverMap<Context>,
      gate: sealMiddleware(verifier, config.sealed, createRefusalLog({ log: logger })),
      transformSchema: (schema) => guardSchema(schema, classifications, { agency: STATISTICS_SUBGRAPH }),
      plugins: [auditPlugin(STATISTICS_SUBGRAPH, audit, log)],
      createContext: (headers, locals) => ({
        store,
        config,
        budget,
        caller: (locals?.caller as Caller | undefined) ?? callerFrom(headers),
        access: newAccessRecord(),
      }),
      ping: async () => void (await store.query('SELECT 1')),
      log: logger,
      metrics,
    },
    { tls: config.serverTls, drainTimeoutMs: config.shutdown.timeoutMs },
  );
  let running: Promise<RefreshResult> | null = null;
  const refresh = (options?: RefreshOptions) => {
    // One refresh at a time in this process (other processes wait on the store's lock).
    const next = (running ?? Promise.resolve()).catch(() => undefined).then(() => refreshStatistics(store, sources, pseudonyms, { cubeBuilders: config.cubeBuilders, ...options }));
    running = next;
    return next;
  };
  return {
    server,
    store,
    audit,
    log: logger,
    metrics,
    refresh,
    startBackground() {
      if (config.refreshIntervalMs === 0) return () => undefined;
      let stopped = false;
      let timer: NodeJS.Timeout | null = null;
      const tick = async () => {
        try {
          await refresh();
        } catch (error) {
          log('refresh failed; retrying at the next interval', error);
        }
        if (!stopped) timer = setTimeout(tick, config.refreshIntervalMs);
      };
      void tick();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      };
    },
    async close() {
      await running?.catch(() => undefined);
      await audit?.close();
      await closePools();
    },
  };
}


