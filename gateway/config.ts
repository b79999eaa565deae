import path from 'node:path';
import { AGENCIES } from '../lib/agencies';
import { EnvReader, type Env } from '../lib/env';
import { DEV_SERVICE_SECRET, readAuditDatabaseUrl } from '../lib/subgraph-config';
import { DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER } from '../lib/dev-keys';
import type { AuthenticationConfig } from './authentication';

/**
 * The gateway's whole configuration, read and validated once at start-up.
 *   GATEWAY_PORT, GATEWAY_HOST          where it listens (4000, 127.0.0.1)
 *   SUPERGRAPH_PATH                     the composed supergraph it serves (./supergraph.graphql)
 *   SUBGRAPH_<NAME>_URL                 overrides a routing_url of the supergraph (e.g. SUBGRAPH_NATIONAL_ID_URL)
 *   SUBGRAPH_TIMEOUT_MS                 limit on every subgraph call (5000)
 *   SUBGRAPH_MAX_SOCKETS                kept-alive connections per subgraph (64)
 *   SUBGRAPH_DEDUPLICATE                identical reads in flight share one subgraph call (on)
 *   GRAPHQL_IDE                         serve the built-in GraphQL IDE at / (on outside production)
 *   INTROSPECTION                       allow introspection (on outside production)
 *   AUTHENTICATION                      bearer tokens required (on); off only against unsealed subgraphs (benchmarks)
 *   AUTH_JWKS_FILE | AUTH_JWKS_URL      the keys that sign tokens (.data/keys/jwks.json, made by npm start, in development)
 *   AUTH_ISSUER, AUTH_AUDIENCE          the tokens' iss and aud (citizen-graph-dev, citizen-graph in development)
 *   SERVICE_TOKEN_SECRET                signs the credential of each subgraph call (the subgraphs' secret)
 *   AUDIT_DATABASE_URL, AUDIT_RECORDING where refused requests are recorded (the embedded audit database; on)
 */
export interface GatewayConfig {
  production: boolean;
  port: number;
  host: string;
  supergraphPath: string;
  subgraphUrls: Readonly<Record<string, string>>;
  subgraphTimeoutMs: number;
  subgraphMaxSockets: number;
  subgraphDeduplicate: boolean;
  ide: boolean;
  introspection: boolean;
  bodyLimit: string;
  /** Null: authentication off. */
  authentication: AuthenticationConfig | null;
  serviceSecret: string;
  /** The audit store refused requests are recorded in; null when AUDIT_RECORDING is off. */
  auditDatabaseUrl: string | null;
}

/** Where `npm start` keeps the development signing keys (lib/dev-keys.ts). */
export const DEV_KEYS_DIR = path.resolve(__dirname, '../.data/keys');

const root = path.resolve(__dirname, '..');

export function readConfig(env: Env = process.env): GatewayConfig {
  const read = new EnvReader(env);
  const subgraphUrls: Record<string, string> = {};
  for (const agency of AGENCIES) {
    const name = `SUBGRAPH_${agency.envPrefix}_URL`;
    if (read.optionalString(name)) subgraphUrls[agency.id] = read.url(name);
  }
  const config: GatewayConfig = {
    production: read.production,
    port: read.integer('GATEWAY_PORT', 4000, { min: 0, max: 65535 }),
    host: read.string('GATEWAY_HOST', '127.0.0.1') || '127.0.0.1',
    supergraphPath: path.resolve(root, read.optionalString('SUPERGRAPH_PATH') ?? 'supergraph.graphql'),
    subgraphUrls,
    subgraphTimeoutMs: read.integer('SUBGRAPH_TIMEOUT_MS', 5000, { min: 50, max: 120_000 }),
    subgraphMaxSockets: read.integer('SUBGRAPH_MAX_SOCKETS', 64, { min: 1, max: 4096 }),
    subgraphDeduplicate: read.boolean('SUBGRAPH_DEDUPLICATE', true),
    ide: read.boolean('GRAPHQL_IDE', !read.production),
    introspection: read.boolean('INTROSPECTION', !read.production),
    bodyLimit: read.string('REQUEST_BODY_LIMIT', '256kb') || '256kb',
    authentication: read.boolean('AUTHENTICATION', true) ? readAuthentication(read) : null,
    serviceSecret: read.string('SERVICE_TOKEN_SECRET', DEV_SERVICE_SECRET),
    auditDatabaseUrl: readAuditDatabaseUrl(read),
  };
  read.done();
  return Object.freeze(config);
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
  };
}

/**
 * @apollo/gateway 2.14 exports usage data to Apollo unless this is set, read when a gateway is
 * constructed. An air-gapped government network forbids it, so it is forced, not defaulted.
 */
export function disableVendorTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.APOLLO_TELEMETRY_DISABLED = '1';
}
