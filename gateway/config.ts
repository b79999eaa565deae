import path from 'node:path';
import { AGENCIES } from '../lib/agencies';
import { EnvReader, type Env } from '../lib/env';

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
}

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
  };
  read.done();
  return Object.freeze(config);
}

/**
 * @apollo/gateway 2.14 exports usage data to Apollo unless this is set, read when a gateway is
 * constructed. An air-gapped government network forbids it, so it is forced, not defaulted.
 */
export function disableVendorTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.APOLLO_TELEMETRY_DISABLED = '1';
}
