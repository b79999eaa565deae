import path from 'node:path';
import { AGENCIES, STATISTICS_STORE } from '../lib/agencies';
import { EnvReader, isInside, REPOSITORY_ROOT, type Env } from '../lib/env';
import { DEFAULT_SUBGRAPH_TIMEOUT_MS, readAuditDatabaseUrl, readSharedStore, readShutdown } from '../lib/subgraph-config';
import type { SharedStoreSettings } from '../lib/shared-store';
import type { ShutdownSettings } from '../lib/shutdown';
import type { PrivateServiceJwk } from '../lib/service-auth';
import { readServiceKey } from '../lib/service-keys';
import { readTls, type TlsMaterial } from '../lib/tls';
import { DEFAULT_CHECKPOINT_INTERVAL_MS, DEV_CHECKPOINT_FILE, DEV_CHECKPOINT_KEY_FILE } from '../lib/audit/checkpoint';
import type { AuthenticationConfig } from './authentication';
import { TRUSTED_DOCUMENTS_DIR } from '../lib/trusted-documents';
import { DEFAULT_FIELD_WEIGHTS, type OperationLimits } from './operation-limits';
import type { RateLimit } from './rate-limit';
import type { TrustedDocumentsMode } from './trusted-documents';
import { corsOriginProblem, type CorsOrigins } from './cors';
import { readLogLevel, type LogLevel } from '../lib/log';
import { readMetricsListener, type MetricsListener } from '../lib/metrics';
import type { BreakerSettings } from './subgraph-breaker';

/**
 * The gateway's whole configuration, read and validated once at start-up.
 *   GATEWAY_PORT, GATEWAY_HOST          where it listens (4000, 127.0.0.1)
 *   SUPERGRAPH_PATH                     the composed supergraph it serves (./supergraph.graphql)
 *   SUPERGRAPH_WATCH_INTERVAL_MS        how often that file is looked at: a changed, valid supergraph is served without a restart,
 *                                       an invalid one refused and logged (gateway/supergraph.ts; 1000; 0: read once at start-up)
 *   SUBGRAPH_<NAME>_URL                 overrides a routing_url of the supergraph (e.g. SUBGRAPH_NATIONAL_ID_URL)
 *   SUBGRAPH_TIMEOUT_MS                 limit on every subgraph call (5000; each subgraph's database statements stop before it:
 *                                       <PREFIX>_DB_STATEMENT_TIMEOUT_MS, 4000)
 *   SUBGRAPH_MAX_SOCKETS                kept-alive connections per subgraph (64)
 *   SUBGRAPH_DEDUPLICATE                identical reads in flight share one subgraph call (on)
 *   SUBGRAPH_BREAKER_FAILURES           calls in a row to one subgraph without an answer (timeout, connection failure) that
 *                                       open its circuit: its calls then fail at once with AGENCY_UNAVAILABLE (5; 0: no breaker)
 *   SUBGRAPH_BREAKER_PROBE_AFTER_MS     how long an open circuit fails calls before one goes through as a probe (10000)
 *   GRAPHQL_IDE                         serve the built-in GraphQL IDE at / (on outside production)
 *   STATISTICS_PAGE                     serve the analysts' statistics page at /statistics (on; it holds no data: every table
 *                                       it shows is a query with the analyst's token)
 *   INTROSPECTION                       answer introspection (__schema, __type) to callers with a valid token and purpose,
 *                                       whatever their role: it describes the schema, never a person (on outside production;
 *                                       off in production, where, when turned on, trusted documents still decide who may send it)
 *   AUTHENTICATION                      bearer tokens required (on); off only against unsealed subgraphs (benchmarks)
 *   AUTH_JWKS_FILE | AUTH_JWKS_URL      the keys that sign tokens (.data/keys/jwks.json, made by npm start, in development)
 *   AUTH_ISSUER, AUTH_AUDIENCE          the tokens' iss and aud (citizen-graph-dev, citizen-graph in development)
 *   AUTH_MAX_TOKEN_LIFETIME_S           the longest token lifetime (exp - iat) accepted (43200: 12 hours)
 *   GATEWAY_SERVICE_KEY_FILE | SERVICE_KEY_FILE  the gateway's private key, signing the credential of each
 *                                       subgraph call (lib/service-keys.ts; .data/service-keys/gateway.private.jwk.json
 *                                       in development; required in production, outside the repository, not a dev- key)
 *   SERVICE_CREDENTIAL_TTL_S            seconds each credential lives (10; at most 60)
 *   SERVICE_TLS_CERT_FILE, SERVICE_TLS_KEY_FILE, SERVICE_TLS_CA_FILE  mutual TLS to the subgraphs: the gateway's
 *                                       client certificate and key, and the CA of the subgraphs' certificates (none)
 *   AUDIT_DATABASE_URL, AUDIT_RECORDING where refused requests, and the accesses the subgraphs report for client
 *                             requests, are recorded (gateway/access-records.ts; the embedded audit database; on)
 *   AUDIT_CHECKPOINT_KEY_FILE           the private key (JWK, EdDSA) that signs checkpoints of the audit chain head
 *                                       (lib/audit/checkpoint.ts; .data/audit-checkpoints/checkpoint-key.json, made by
 *                                       npm start, in development; required in production)
 *   AUDIT_CHECKPOINT_FILE               where the signed checkpoints are appended, JSON lines, outside the database
 *                                       (.data/audit-checkpoints/checkpoints.jsonl in development; required in production)
 *   AUDIT_CHECKPOINT_INTERVAL_MS        how often the head is checkpointed while it moves (5000; 0: only at shutdown)
 *   FIELD_SUGGESTIONS                   "Did you mean ...?" in validation errors (on outside production)
 *   REQUEST_BODY_LIMIT                  largest request body; larger gets HTTP 413 (256kb)
 *   CORS_ORIGINS                        the origins of browser applications allowed to call /graphql from another origin,
 *                                       comma-separated, exactly as browsers send them (https://app.example.gov.vn); none by
 *                                       default; `*` (any origin) outside production only; production takes https origins only
 * Operation limits (gateway/operation-limits.ts: the cost model), checked before any subgraph is called:
 *   OPERATION_MAX_DEPTH                 deepest nesting of fields (10)
 *   OPERATION_MAX_ALIASES               aliased fields, fragments expanded (15)
 *   OPERATION_MAX_TOKENS                lexical tokens of the document; counted while parsing (2000)
 *   OPERATION_MAX_DIRECTIVES            directive uses, fragments expanded (10)
 *   OPERATION_MAX_COST                  estimated cost of a trusted document (60000)
 *   OPERATION_MAX_COST_AD_HOC           estimated cost of a free-form document; at most OPERATION_MAX_COST (5000)
 *   OPERATION_DEFAULT_LIST_SIZE         size assumed for a list without `first` or a list argument (20)
 *   OPERATION_FIELD_WEIGHTS             cost of particular fields, over the defaults: "Citizen.parents=3,Query.searchCitizens=20"
 * Trusted documents (gateway/trusted-documents.ts):
 *   TRUSTED_DOCUMENTS                   required: free-form documents only for roles allowed ad hoc queries;
 *                                       off: anyone may send them (required in production, off outside it)
 *   TRUSTED_DOCUMENTS_DIR               the folder of client manifests, one apollo-persisted-query-manifest file (*.json)
 *                                       per frontend application (./gateway/trusted-documents: operations.json, the
 *                                       manifest of operations/, built by npm run documents)
 * Observability (README, "Observability"):
 *   LOG_LEVEL                           the least severe log lines written: fatal, error, warn, info, debug, trace, silent (info)
 *   GATEWAY_METRICS_PORT | METRICS_PORT where Prometheus metrics are served, GET /metrics, never on GATEWAY_PORT (9400; 0: a free port)
 *   GATEWAY_METRICS_HOST | METRICS_HOST the metrics listener's address (127.0.0.1)
 * Rate limit per caller (gateway/rate-limit.ts; in memory, per gateway process, unless REDIS_URL is set):
 *   RATE_LIMIT_PER_SECOND               requests a second per caller, 0 = no limit (20 in production, 0 outside it)
 *   RATE_LIMIT_BURST                    requests a caller may send at once before the rate applies (40)
 *   REDIS_URL, REDIS_TIMEOUT_MS         the store gateway replicas share the limits in, and how long a command may take
 *                                       (lib/subgraph-config.ts readSharedStore; none, 2000)
 * Stopping (lib/shutdown.ts; lib/subgraph-config.ts readShutdown):
 *   SHUTDOWN_GRACE_MS                   after SIGTERM, serve this long while not ready, so a load balancer notices (5000 in production, 0 outside)
 *   SHUTDOWN_TIMEOUT_MS                 the whole stop, in-flight requests, audit writes and the last checkpoint included; beyond it exit 1 (30000)
 */
export interface GatewayConfig {
  production: boolean;
  port: number;
  host: string;
  supergraphPath: string;
  supergraphWatchIntervalMs: number;
  subgraphUrls: Readonly<Record<string, string>>;
  subgraphTimeoutMs: number;
  subgraphMaxSockets: number;
  subgraphDeduplicate: boolean;
  /** The circuit breaker of each subgraph (gateway/subgraph-breaker.ts); failures 0: none. */
  subgraphBreaker: BreakerSettings;
  ide: boolean;
  statisticsPage: boolean;
  introspection: boolean;
  fieldSuggestions: boolean;
  bodyLimit: string;
  /** Origins whose pages may call /graphql (gateway/cors.ts); '*': any (development only). */
  corsOrigins: CorsOrigins;
  /** Null: authentication off. */
  authentication: AuthenticationConfig | null;
  /** The gateway's private key for subgraph credentials; null (development only): none made yet. */
  serviceKey: PrivateServiceJwk | null;
  credentialTtlSeconds: number;
  /** Client certificate for mutual TLS to the subgraphs; null: none. */
  subgraphTls: TlsMaterial | null;
  /** The audit store refused requests are recorded in; null when AUDIT_RECORDING is off. */
  auditDatabaseUrl: string | null;
  /** Signed checkpoints of the audit chain head (lib/audit/checkpoint.ts); null when AUDIT_RECORDING is off. */
  auditCheckpoints: { keyFile: string; file: string; intervalMs: number } | null;
  limits: OperationLimits;
  trustedDocuments: TrustedDocumentsMode;
  trustedDocumentsDir: string;
  rateLimit: RateLimit;
  logLevel: LogLevel;
  /** Where the Prometheus metrics are served (lib/metrics.ts): a listener of their own. */
  metrics: MetricsListener;
  shutdown: ShutdownSettings;
  /** REDIS_URL: rate limits shared with the other gateway replicas; null: in this process's memory. */
  sharedStore: SharedStoreSettings | null;
}

/** The gateway's metrics port in development (the subgraphs': 9401-9403, lib/agencies.ts). */
export const DEFAULT_GATEWAY_METRICS_PORT = 9400;

/** The issuer and audience of development tokens (tools/dev-keys.ts signs them): the gateway's defaults. */
export const DEV_TOKEN_ISSUER = 'citizen-graph-dev';
export const DEV_TOKEN_AUDIENCE = 'citizen-graph';

/** Where `npm start` keeps the development signing keys (tools/dev-keys.ts). */
export const DEV_KEYS_DIR = path.join(REPOSITORY_ROOT, '.data/keys');

const root = path.resolve(__dirname, '..');

/** Where the gateway listens: its public port and host and its metrics listener (npm start reads them too, to wait on the right ports). */
export interface GatewayListeners {
  port: number;
  host: string;
  metrics: MetricsListener;
  /** The variables they were read from, for messages that name what to change. */
  names: { port: string; metricsPort: string };
}

export function readGatewayListeners(read: EnvReader, env: Env): GatewayListeners {
  const port = read.integer('GATEWAY_PORT', 4000, { min: 0, max: 65535 });
  const metricsName = (name: string) => (env[`GATEWAY_${name}`] !== undefined ? `GATEWAY_${name}` : name);
  return {
    port,
    host: read.string('GATEWAY_HOST', '127.0.0.1') || '127.0.0.1',
    metrics: readMetricsListener(read, { port: metricsName('METRICS_PORT'), host: metricsName('METRICS_HOST') }, DEFAULT_GATEWAY_METRICS_PORT, port),
    names: { port: 'GATEWAY_PORT', metricsPort: metricsName('METRICS_PORT') },
  };
}

export function readConfig(env: Env = process.env): GatewayConfig {
  const read = new EnvReader(env);
  const subgraphUrls: Record<string, string> = {};
  // The agencies' subgraphs and the statistics subgraph (subgraphs/statistics), which is no agency's.
  for (const subgraph of [...AGENCIES.map((a) => ({ id: a.id, envPrefix: a.envPrefix })), { id: 'statistics', envPrefix: STATISTICS_STORE.envPrefix }]) {
    const name = `SUBGRAPH_${subgraph.envPrefix}_URL`;
    if (read.optionalString(name)) subgraphUrls[subgraph.id] = read.url(name);
  }
  const auditDatabaseUrl = readAuditDatabaseUrl(read);
  const listeners = readGatewayListeners(read, env);
  const config: GatewayConfig = {
    production: read.production,
    port: listeners.port,
    host: listeners.host,
    supergraphPath: path.resolve(root, read.optionalString('SUPERGRAPH_PATH') ?? 'supergraph.graphql'),
    supergraphWatchIntervalMs: read.integer('SUPERGRAPH_WATCH_INTERVAL_MS', 1000, { min: 0, max: 3_600_000 }),
    subgraphUrls,
    subgraphTimeoutMs: read.integer('SUBGRAPH_TIMEOUT_MS', DEFAULT_SUBGRAPH_TIMEOUT_MS, { min: 50, max: 120_000 }),
    subgraphMaxSockets: read.integer('SUBGRAPH_MAX_SOCKETS', 64, { min: 1, max: 4096 }),
    subgraphDeduplicate: read.boolean('SUBGRAPH_DEDUPLICATE', true),
    subgraphBreaker: {
      failures: read.integer('SUBGRAPH_BREAKER_FAILURES', 5, { min: 0, max: 10_000 }),
      probeAfterMs: read.integer('SUBGRAPH_BREAKER_PROBE_AFTER_MS', 10_000, { min: 100, max: 3_600_000 }),
    },
    ide: read.boolean('GRAPHQL_IDE', !read.production),
    statisticsPage: read.boolean('STATISTICS_PAGE', true),
    introspection: read.boolean('INTROSPECTION', !read.production),
    fieldSuggestions: read.boolean('FIELD_SUGGESTIONS', !read.production),
    bodyLimit: read.string('REQUEST_BODY_LIMIT', '256kb') || '256kb',
    corsOrigins: readCorsOrigins(read, env),
    authentication: read.boolean('AUTHENTICATION', true) ? readAuthentication(read) : null,
    serviceKey: readServiceKey(read, env.GATEWAY_SERVICE_KEY_FILE !== undefined ? 'GATEWAY_SERVICE_KEY_FILE' : 'SERVICE_KEY_FILE', 'gateway'),
    credentialTtlSeconds: read.integer('SERVICE_CREDENTIAL_TTL_S', 10, { min: 1, max: 60 }),
    subgraphTls: readTls(read, 'SERVICE_TLS'),
    auditDatabaseUrl,
    auditCheckpoints: auditDatabaseUrl === null ? null : readAuditCheckpoints(read),
    limits: readLimits(read, env),
    trustedDocuments: readMode(read, env),
    trustedDocumentsDir: path.resolve(root, read.optionalString('TRUSTED_DOCUMENTS_DIR') ?? TRUSTED_DOCUMENTS_DIR),
    rateLimit: {
      perSecond: read.number('RATE_LIMIT_PER_SECOND', read.production ? 20 : 0, { min: 0, max: 1_000_000 }),
      burst: read.integer('RATE_LIMIT_BURST', 40, { min: 1, max: 1_000_000 }),
    },
    logLevel: readLogLevel(read),
    metrics: listeners.metrics,
    shutdown: readShutdown(read),
    sharedStore: readSharedStore(read),
  };
  // The single-manifest setting of earlier versions: a deployment still setting it would silently run the default folder.
  if (read.optionalString('TRUSTED_DOCUMENTS_PATH')) {
    read.problem('TRUSTED_DOCUMENTS_PATH is no longer read: put each frontend application\'s manifest in a folder and name the folder with TRUSTED_DOCUMENTS_DIR.');
  }
  read.refuseInProduction(config.authentication === null, 'AUTHENTICATION=false serves every request without a token: production must authenticate');
  read.refuseInProduction(config.auditDatabaseUrl === null, 'AUDIT_RECORDING=false serves data without recording who saw it: production must record');
  if (config.authentication?.jwksFile) {
    read.refuseInProduction(
      isInside(config.authentication.jwksFile, REPOSITORY_ROOT),
      `AUTH_JWKS_FILE (${config.authentication.jwksFile}) is inside the repository: those are development keys; give the identity provider's keys (AUTH_JWKS_URL or a file outside the repository)`,
    );
  }
  read.done();
  return Object.freeze(config);
}

function readAuditCheckpoints(read: EnvReader): NonNullable<GatewayConfig['auditCheckpoints']> {
  const checkpoints = {
    keyFile: path.resolve(root, read.string('AUDIT_CHECKPOINT_KEY_FILE', DEV_CHECKPOINT_KEY_FILE)),
    file: path.resolve(root, read.string('AUDIT_CHECKPOINT_FILE', DEV_CHECKPOINT_FILE)),
    intervalMs: read.integer('AUDIT_CHECKPOINT_INTERVAL_MS', DEFAULT_CHECKPOINT_INTERVAL_MS, { min: 0, max: 3_600_000 }),
  };
  // The checkpoints' worth is that whoever can rewrite the store (or the repository) cannot sign or rewrite them.
  read.refuseInProduction(isInside(checkpoints.keyFile, REPOSITORY_ROOT), `AUDIT_CHECKPOINT_KEY_FILE (${checkpoints.keyFile}) is inside the repository: a key of the installation's own, kept elsewhere, signs checkpoints`);
  read.refuseInProduction(isInside(checkpoints.file, REPOSITORY_ROOT), `AUDIT_CHECKPOINT_FILE (${checkpoints.file}) is inside the repository: keep checkpoints where the database's and the deployment's operators cannot rewrite them`);
  return checkpoints;
}

function readAuthentication(read: EnvReader): AuthenticationConfig {
  const jwksUrl = read.optionalString('AUTH_JWKS_URL');
  const jwksFile = jwksUrl ? null : read.string('AUTH_JWKS_FILE', path.join(DEV_KEYS_DIR, 'jwks.json'));

  if (jwksUrl) read.url('AUTH_JWKS_URL');
  return {
    jwksFile: jwksFile ? path.resolve(root, jwksFile) : null,
    jwksUrl: jwksUrl ?? null,
    issuer: read.string('AUTH_ISSUER', DEV_TOKEN_ISSUER),
    audience: read.string('AUTH_AUDIENCE', DEV_TOKEN_AUDIENCE),
    clockToleranceS: read.integer('AUTH_CLOCK_TOLERANCE_S', 5, { min: 0, max: 300 }),
    maxTokenLifetimeS: read.integer('AUTH_MAX_TOKEN_LIFETIME_S', 12 * 3600, { min: 60, max: 7 * 24 * 3600 }),
  };
}

function readLimits(read: EnvReader, env: Env): OperationLimits {
  const limits: OperationLimits = {
    maxDepth: read.integer('OPERATION_MAX_DEPTH', 10, { min: 1, max: 1000 }),
    maxAliases: read.integer('OPERATION_MAX_ALIASES', 15, { min: 0, max: 100_000 }),
    maxTokens: read.integer('OPERATION_MAX_TOKENS', 2000, { min: 10, max: 1_000_000 }),
    maxDirectives: read.integer('OPERATION_MAX_DIRECTIVES', 10, { min: 0, max: 100_000 }),
    maxCost: read.integer('OPERATION_MAX_COST', 60_000, { min: 1, max: 1_000_000_000 }),
    maxCostAdHoc: read.integer('OPERATION_MAX_COST_AD_HOC', 5000, { min: 1, max: 1_000_000_000 }),
    defaultListSize: read.integer('OPERATION_DEFAULT_LIST_SIZE', 20, { min: 1, max: 100_000 }),
    fieldWeights: { ...DEFAULT_FIELD_WEIGHTS },
  };
  if (limits.maxCostAdHoc > limits.maxCost) {
    read.problem(`OPERATION_MAX_COST_AD_HOC (${limits.maxCostAdHoc}) must not be above OPERATION_MAX_COST (${limits.maxCost}).`);
  }
  const weights = env.OPERATION_FIELD_WEIGHTS?.trim();
  for (const entry of weights ? weights.split(',') : []) {
    const match = /^\s*([A-Za-z_]\w*\.[A-Za-z_]\w*)\s*=\s*(\d+)\s*$/.exec(entry);
    if (match) limits.fieldWeights = { ...limits.fieldWeights, [match[1]]: Number(match[2]) };
    else read.problem(`OPERATION_FIELD_WEIGHTS must be Type.field=weight pairs separated by commas; got "${entry.trim()}".`);
  }
  Object.freeze(limits.fieldWeights);
  return Object.freeze(limits);
}

function readCorsOrigins(read: EnvReader, env: Env): CorsOrigins {
  const entries = [...new Set((env.CORS_ORIGINS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean))];
  if (entries.includes('*')) {
    // Any site's pages could then use a token they get hold of from inside the user's browser and network.
    read.refuseInProduction(true, "CORS_ORIGINS=* lets every web site's pages call the gateway: list the origins of the frontends instead");
    if (entries.length > 1) read.problem('CORS_ORIGINS is either * or a list of origins, not both.');
    return '*';
  }
  for (const entry of entries) {
    const problem = corsOriginProblem(entry, read.production);
    if (problem) read.problem(problem);
  }
  return Object.freeze(entries);
}

function readMode(read: EnvReader, env: Env): TrustedDocumentsMode {
  const raw = env.TRUSTED_DOCUMENTS?.trim().toLowerCase();
  if (!raw) return read.production ? 'required' : 'off';
  if (raw === 'required' || raw === 'off') return raw;
  read.problem(`TRUSTED_DOCUMENTS must be required or off; got "${raw}".`);
  return 'required';
}

/**
 * @apollo/gateway 2.14 exports usage data to Apollo unless this is set, read when a gateway is
 * constructed. An air-gapped government network forbids it, so it is forced, not defaulted.
 */
export function disableVendorTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.APOLLO_TELEMETRY_DISABLED = '1';
}
