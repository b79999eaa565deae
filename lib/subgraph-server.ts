import http from 'node:http';
import https from 'node:https';
import type { TlsMaterial } from './tls';
import fs from 'node:fs';
import express from 'express';
import { listen, Readiness, type Listening } from './listen';
import { parse, type GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { formatClientError } from './graphql/format-error';
import { requestBodyErrors } from './graphql/request-body';
import { callersLanguage } from './i18n/language';
import { errorLog, type Logger } from './log';
import type { ServiceMetrics } from './metrics';
import { adoptCallerRequestId, observeRequests, operationLabelPlugin } from './request-observer';

/**
 * What every agency subgraph shares: Apollo Server over the SDL-first schema, masked errors, a health
 * endpoint that checks the agency's database, and a fresh context (with fresh DataLoaders) per request.
 * A subgraph module says what it *is* (schema, resolvers, context); this helper runs it.
 */
export interface SubgraphDefinition<Context extends object> {
  name: string;
  schemaPath: string;
  resolvers: GraphQLResolverMap<Context>;
  /** Called once per HTTP request: loaders are never shared between requests or callers. */
  createContext(headers: RequestHeaders, locals?: Record<string, unknown>): Context;
  /** Runs before the GraphQL handler, e.g. to refuse uncredentialed requests; may leave state in res.locals. */
  gate?: express.RequestHandler;
  /** Changes the built schema before it is served (e.g. wraps resolvers with access checks). */
  transformSchema?(schema: GraphQLSchema): GraphQLSchema;
  plugins?: ApolloServerPlugin<Context>[];
  /** Readiness: throws when the agency database cannot be reached. */
  ping(): Promise<void>;
  /** The subgraph's log and metrics (lib/log.ts, lib/metrics.ts; served on a listener of their own, lib/run-subgraph.ts). */
  log: Logger;
  metrics: ServiceMetrics;
  /** Readiness: false while the store replicas share (Redis: the replay cache) is unreachable; absent when there is none. */
  sharedStoreReady?(): boolean;
}

export type RunningSubgraph = Listening;

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface SubgraphServer<Context extends object> {
  apollo: ApolloServer<Context>;
  app: express.Express;
  readiness: Readiness;
  createContext(headers?: RequestHeaders): Context;
  listen(port: number, host?: string): Promise<RunningSubgraph>;
}

export async function createSubgraphServer<Context extends object>(
  definition: SubgraphDefinition<Context>,
  options: {
    bodyLimit?: string;
    tls?: TlsMaterial | null;
    /** On stop, how long requests in flight may take before their connections are cut (SHUTDOWN_TIMEOUT_MS bounds the whole stop). */
    drainTimeoutMs?: number;
  } = {},
): Promise<SubgraphServer<Context>> {
  const typeDefs = parse(fs.readFileSync(definition.schemaPath, 'utf8'));
  // Mutual TLS when configured: HTTPS, and only clients with a certificate signed by the CA get through.
  const httpServer: http.Server = options.tls
    ? https.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: true })
    : http.createServer();
  // Gateways keep connections to a subgraph open between requests; a longer idle timeout than Node's
  // 5 s default means fewer reconnects, and the gateway's agent closes its side first (gateway/data-source.ts).
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const log = errorLog(definition.log);
  const observer = observeRequests({ log: definition.log, metrics: definition.metrics });
  const apollo = new ApolloServer<Context>({
    logger: definition.log.child({ component: 'apollo' }),
    schema: (definition.transformSchema ?? ((schema) => schema))(
      buildSubgraphSchema({ typeDefs, resolvers: definition.resolvers as GraphQLResolverMap<unknown> }),
    ),
    // A failure of this agency's database is reported as this agency being unavailable (lib/agencies.ts id = name).
    formatError: (formatted, error) => formatClientError(formatted, error, log, { agency: definition.name }),
    includeStacktraceInErrorResponses: false,
    // The process stops the server itself on SIGTERM/SIGINT (lib/run-subgraph.ts). Apollo's own handler would
    // stop it first, and a second stop() waits on a barrier that @apollo/server 5.5 never resolves on success:
    // the subgraph then hung until SIGKILL, with its pools and audit writer never closed.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: options.drainTimeoutMs }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      operationLabelPlugin(),
      ...(definition.plugins ?? []),
    ],
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  // Live: the process answers. Ready: it should get traffic: listening and not draining (lib/shutdown.ts), its
  // database answering, and the store the replicas share reachable when there is one. /health is ready's old name.
  // Answered from memory, the database being pinged in the background: a balancer's check never waits behind the
  // requests, and a replica that is only busy is never taken for one that is down.
  const readiness = new Readiness();
  const database = backgroundCheck(() => definition.ping());
  app.get('/health/live', (_req, res) => void res.json({ status: 'ok', subgraph: definition.name }));
  const ready: express.RequestHandler = (_req, res) => {
    if (!readiness.ready) return void res.status(503).json({ status: readiness.state, subgraph: definition.name });
    if (definition.sharedStoreReady && !definition.sharedStoreReady()) {
      return void res.status(503).json({ status: 'unavailable', subgraph: definition.name, reason: 'shared store unreachable' });
    }
    if (!database.ok()) return void res.status(503).json({ status: 'unavailable', subgraph: definition.name, reason: 'database unreachable' });
    res.json({ status: 'ok', subgraph: definition.name });
  };
  app.get('/health/ready', ready);
  app.get('/health', ready);
  // No /metrics here: the metrics have a listener of their own, never the public port (lib/metrics.ts).
  app.use(
    '/graphql',
    observer.begin,
    // The exact bytes received are kept (req.rawBody): a credential is signed over them (lib/service-auth.ts),
    // so the gate runs after the body is read.
    express.json({
      limit: options.bodyLimit ?? '1mb',
      verify: (req, _res, buf) => void ((req as { rawBody?: Buffer }).rawBody = buf),
    }),
    observer.enter,
    // Messages in the caller's language: the gateway passes its client's on (gateway/data-source.ts).
    callersLanguage(),
    definition.gate ?? ((_req, _res, next) => next()),
    adoptCallerRequestId,
    expressMiddleware(apollo, { context: async ({ req, res }) => definition.createContext(req.headers, res.locals) }),
  );
  // A body that is not JSON (or too large): a JSON answer, nothing else (no stack, no HTML page).
  app.use('/graphql', requestBodyErrors(options.bodyLimit ?? '1mb', log));
  httpServer.on('request', app);

  return {
    apollo,
    app,
    readiness,
    createContext: (headers = {}) => definition.createContext(headers),
    // Resolves once the database was checked a first time: a subgraph that says it is listening answers its
    // readiness check with what it knows.
    listen: (port, host = '127.0.0.1') =>
      listen(httpServer, {
        stop: async () => {
          database.stop();
          await apollo.stop();
        },
        readiness,
        port,
        host,
        scheme: options.tls ? 'https' : 'http',
      }).then(async (listening) => {
        await database.first;
        return listening;
      }),
  };
}

/** How often readiness pings the database, and how long a ping may go unanswered before the database counts as down. */
const PING_EVERY_MS = 1000;
const PING_STALE_MS = 5000;

/**
 * A dependency checked in the background, one check at a time: ok after a check succeeded, until one fails or one
 * has been waiting longer than PING_STALE_MS. `first`: the first check is done. The timer does not keep the process alive.
 */
function backgroundCheck(check: () => Promise<void>): { ok(): boolean; first: Promise<void>; stop(): void } {
  let ok = false;
  let pendingSince: number | null = null;
  const run = () => {
    if (pendingSince !== null) return Promise.resolve();
    pendingSince = Date.now();
    return check()
      .then(
        () => void (ok = true),
        () => void (ok = false),
      )
      .finally(() => void (pendingSince = null));
  };
  const first = run();
  const timer = setInterval(run, PING_EVERY_MS);
  timer.unref();
  return {
    ok: () => ok && (pendingSince === null || Date.now() - pendingSince < PING_STALE_MS),
    first,
    stop: () => clearInterval(timer),
  };
}
