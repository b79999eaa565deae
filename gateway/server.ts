import fs from 'node:fs';
import http from 'node:http';
import express from 'express';
import { listen, Readiness, type Listening } from '../lib/listen';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { formatClientError } from '../lib/graphql/format-error';
import { supergraphSource } from './supergraph';
import { disableVendorTelemetry, type GatewayConfig } from './config';
import { createCredentialSigner, GATEWAY_ISSUER } from '../lib/service-auth';
import { AgencyDataSource, requestContext, type DataSourceOptions, type GatewayContext } from './data-source';
import { inputValidationPlugin } from './input-validation';
import { operationResolutionPlugin } from './operation-resolution';
import { operationLimitsPlugin, tokenLimitError } from './operation-limits';
import { trustedDocuments } from './trusted-documents';
import { rateLimit } from './rate-limit';
import { admitted } from './admission';
import { requestBodyErrors } from '../lib/graphql/request-body';
import { callersLanguage } from '../lib/i18n/language';
import { httpContractPlugin } from './http-contract';
import { healthRouter, subgraphReadiness } from './health';
import { createAuthenticator } from './authentication';
import { createRefusalLog } from '../lib/refusal-log';
import { createAuditWriter } from '../lib/audit/writer';
import { AUDIT_TABLES, checkServiceRole } from '../lib/database-role-check';
import { SERVICE_ROLES } from '../lib/database-roles';
import { openAuditPool } from '../lib/audit/pool';
import { createCheckpointer, ensureCheckpointKey, loadCheckpointSigner, type Checkpointer } from '../lib/audit/checkpoint';
import { accessRecordPlugin } from './access-records';
import { accessPolicyPlugin } from './access-policy';
import { ideRouter } from './ide';
import { statisticsPageRouter } from './statistics-page';
import { corsHandlers } from './cors';
import { createLogger, errorLog, type Logger } from '../lib/log';
import { ServiceMetrics } from '../lib/metrics';
import { observeRequests } from '../lib/request-observer';
import { connectSharedStore } from '../lib/shared-store';
import { csvAdmission, csvNegotiation, csvPlugin } from './statistics-csv';

/**
 * The gateway: @apollo/gateway over the committed, statically composed supergraph (no subgraph
 * introspection at run time), inside Apollo Server 5 on Express, with the IDE and health endpoints.
 */
export interface Gateway {
  app: express.Express;
  apollo: ApolloServer<GatewayContext>;
  /** Where each subgraph of the supergraph loaded at start-up is called, after SUBGRAPH_<NAME>_URL overrides. */
  subgraphUrls: Readonly<Record<string, string>>;
  /** Its log and metrics (gateway/index.ts serves the metrics on a listener of their own). */
  log: Logger;
  metrics: ServiceMetrics;
  /** GET /health/ready's answer (gateway/health.ts). */
  readiness: Readiness;
  listen(port?: number, host?: string): Promise<Listening>;
}

/** What the gateway reports as it runs, to whoever watches it (metrics, tests). */
export interface GatewayObservers {
  /** Each change of a subgraph's circuit breaker (gateway/subgraph-breaker.ts). */
  onBreakerStateChange?: DataSourceOptions['onBreakerStateChange'];
}

export async function createGateway(config: GatewayConfig, observers: GatewayObservers = {}): Promise<Gateway> {
  disableVendorTelemetry();
  const logger = createLogger('gateway', { level: config.logLevel });
  const log = errorLog(logger);
  const metrics = new ServiceMetrics('gateway');
  // The supergraph, read again when its file changes (gateway/supergraph.ts): every replica follows a recomposition.
  const urlsOf = (routingUrls: Readonly<Record<string, string>>) => ({ ...routingUrls, ...config.subgraphUrls });
  const subgraphReady = subgraphReadiness({ timeoutMs: Math.min(config.subgraphTimeoutMs, 2000), tls: config.subgraphTls });
  const supergraph = supergraphSource({
    path: config.supergraphPath,
    watchIntervalMs: config.supergraphWatchIntervalMs,
    log: logger,
    // A new supergraph is served once the subgraphs it adds, or routes elsewhere, answer where this gateway calls
    // them. One it already routes to the same way is not asked: its state does not depend on the swap (an agency
    // down is a partial answer either way), and waiting on it would hold every later recomposition back.
    unanswered: async (view) => {
      const urls = urlsOf(view.routingUrls);
      const served = supergraph.current().routingUrls;
      const changed = Object.keys(view.routingUrls).filter((name) => served[name] !== view.routingUrls[name]);
      const checks = await Promise.all(changed.map(async (name) => ((await subgraphReady(urls[name])) ? null : name)));
      return checks.filter((name): name is string => name !== null);
    },
  });
  const supergraphSdl = supergraph.initial.sdl;
  const subgraphUrls = urlsOf(supergraph.initial.routingUrls);

  if (config.auditDatabaseUrl) {
    // The audit writer's connection may append through audit_append only: never a superuser or the tables' owner.
    await checkServiceRole({
      url: config.auditDatabaseUrl,
      setting: 'AUDIT_DATABASE_URL',
      expectedRole: SERVICE_ROLES.gateway.name,
      production: config.production,
      tables: AUDIT_TABLES,
      warn: (message) => logger.warn(message),
    });
  }
  const audit = config.auditDatabaseUrl ? createAuditWriter({ url: config.auditDatabaseUrl, onTransaction: metrics.observeAuditTransaction }) : null;
  if (audit) {
    metrics.watchAuditQueue('gateway', audit.queued);
    metrics.watchPool('audit-writer', audit.pool);
  }
  if (!config.serviceKey && config.authentication) {
    logger.warn('no service key (GATEWAY_SERVICE_KEY_FILE; npm start makes one): subgraph calls carry no credential, sealed subgraphs refuse them');
  }
  // Signed checkpoints of the audit chain head, to a file outside the database (lib/audit/checkpoint.ts):
  // every few seconds while the head moves, and once at shutdown.
  let checkpoints: { checkpointer: Checkpointer; pool: ReturnType<typeof openAuditPool> } | null = null;
  if (config.auditDatabaseUrl && config.auditCheckpoints) {
    const { keyFile, file, intervalMs } = config.auditCheckpoints;
    if (!fs.existsSync(keyFile)) {
      if (config.production) throw new Error(`AUDIT_CHECKPOINT_KEY_FILE ${keyFile} does not exist`);
      await ensureCheckpointKey(keyFile); // development: made once per installation
    }
    const pool = openAuditPool(config.auditDatabaseUrl, 1);
    metrics.watchPool('audit-checkpoint', pool);
    const checkpointer = createCheckpointer({ pool, signer: await loadCheckpointSigner(keyFile), file, intervalMs, log: errorLog(logger.child({ component: 'audit-checkpoint' })) });
    if (intervalMs > 0) checkpointer.start();
    checkpoints = { checkpointer, pool };
  }
  // Apollo's own messages (start-up, plugin failures) go to the same log, as JSON lines.
  const apolloLog = logger.child({ component: 'apollo' });
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.hook,
    // Also in production (where the gateway skips it by default): a reloaded supergraph is checked before it is served.
    validateSupergraph: true,
    logger: apolloLog,
    buildService: ({ name, url }) =>
      new AgencyDataSource({
        name,
        url: config.subgraphUrls[name] ?? url!,
        timeoutMs: config.subgraphTimeoutMs,
        maxSockets: config.subgraphMaxSockets,
        breaker: config.subgraphBreaker,
        // The gauge citizen_graph_subgraph_breaker_state, then whoever else observes (tests).
        onBreakerStateChange: (subgraph, state) => {
          metrics.setBreakerState(subgraph, state);
          observers.onBreakerStateChange?.(subgraph, state);
        },
        // Each authenticated request is audited under its own request id, so none shares another's call.
        deduplicate: config.subgraphDeduplicate && !config.authentication,
        signer: config.serviceKey ? createCredentialSigner(GATEWAY_ISSUER, config.serviceKey, { ttlSeconds: config.credentialTtlSeconds }) : null,
        tls: config.subgraphTls,
        recordsAccesses: audit !== null,
        log: (message, fields) => logger.warn(fields ?? {}, message),
        observe: (subgraph, result, seconds) => metrics.observeSubgraphCall(subgraph, result, seconds),
      }),
  });
  // Every subgraph's breaker starts closed (the series exists before the first state change).
  for (const name of Object.keys(subgraphUrls)) metrics.setBreakerState(name, 'closed');

  // The rate limits the gateway replicas share (REDIS_URL); none: each process keeps its own.
  const sharedStore = config.sharedStore ? connectSharedStore(config.sharedStore, { name: 'gateway', log: logger }) : null;
  const authenticate = config.authentication ? createAuthenticator(config.authentication, createRefusalLog({ log: logger })) : null;
  const documents = trustedDocuments({ mode: config.trustedDocuments, dir: config.trustedDocumentsDir });
  const httpServer = http.createServer();
  // Longer than the idle timeout of the balancers and clients in front (HAProxy's, a cloud balancer's 60 s), so
  // that they close an idle connection first and never send a request on one this side is closing.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: apolloLog,
    introspection: config.introspection,
    hideSchemaDetailsFromClientErrors: !config.fieldSuggestions,
    parseOptions: { maxTokens: config.limits.maxTokens },
    persistedQueries: false, // trusted documents only: clients cannot register documents
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // gateway/index.ts stops the server on SIGTERM/SIGINT, audit writer and checkpoints included; Apollo's own
    // handler would race it (see lib/subgraph-server.ts).
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => {
      // The gateway names the subgraph behind an error; clients get the agency in plain words instead.
      const { serviceName: _service, ...extensions } = formatted.extensions ?? {};
      return formatClientError(tokenLimitError({ ...formatted, extensions }), error, log);
    },
    plugins: [
      // On stop, requests in flight get as long as the whole stop may take (SHUTDOWN_TIMEOUT_MS, lib/shutdown.ts).
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdown.timeoutMs }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // First among the willSendResponse hooks: the status and shape of the answer (GraphQL over HTTP).
      httpContractPlugin({ fieldOwners: (schema) => supergraph.viewFor(schema).fieldOwners }),
      operationResolutionPlugin(),
      operationLimitsPlugin(config.limits),
      inputValidationPlugin(),
      accessPolicyPlugin({
        tables: (schema) => supergraph.viewFor(schema),
        audit,
        log,
      }),
      ...(audit ? [accessRecordPlugin(audit, log)] : []),
      // After the access policy: a caller it refuses is refused (and audited) whatever format they asked for.
      csvPlugin(),
    ],
  });
  supergraph.attach(gateway);
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  const readiness = new Readiness();
  app.use(
    healthRouter({ readiness, subgraphUrls: () => urlsOf(supergraph.current().routingUrls), timeoutMs: Math.min(config.subgraphTimeoutMs, 2000), tls: config.subgraphTls, sharedStore, supergraph: supergraph.status }),
  );
  if (config.ide) app.use(ideRouter(supergraphSdl));
  if (config.statisticsPage) app.use(statisticsPageRouter(supergraphSdl));
  // The request id and trace of every GraphQL request, its log line and latency (lib/request-observer.ts); the
  // operation label is the trusted document's name, never what a client wrote.
  const observer = observeRequests({ log: logger, metrics, operationOf: documents.operationLabel });
  app.use(
    '/graphql',
    observer.begin,
    ...corsHandlers(config.corsOrigins),
    express.json({ limit: config.bodyLimit }),
    observer.enter,
    // Messages in the caller's language (Accept-Language) from here on; after the body parser, whose stream
    // events would lose it.
    callersLanguage(),
    documents.resolve,
    csvNegotiation,
    expressMiddleware(apollo, {
      context: admitted((req, res) => requestContext(req, res, authenticate), rateLimit(config.rateLimit, sharedStore?.client ?? null), documents.check, csvAdmission),
    }),
    requestBodyErrors(config.bodyLimit, log),
  );
  httpServer.on('request', app);

  return {
    app,
    apollo,
    subgraphUrls,
    log: logger,
    metrics,
    readiness,
    listen: (port = config.port, host = config.host) =>
      listen(httpServer, {
        // Requests in flight finish (each writes its audit records before its answer leaves), then whatever
        // they queued in the writer is committed, then the last checkpoint covers all of it.
        stop: async () => {
          await apollo.stop();
          await audit?.close();
          await sharedStore?.close();
          if (checkpoints) {
            await checkpoints.checkpointer.stop();
            await checkpoints.pool.end();
          }
        },
        readiness,
        port,
        host,
      }),
  };
}
