import { readSubgraphConfig, type SubgraphConfig } from '../../lib/subgraph-config';
import type { Env } from '../../lib/env';

/** The birth-registry subgraph's configuration: BIRTH_REGISTRY_DATABASE_URL, BIRTH_REGISTRY_PORT, BIRTH_REGISTRY_DB_POOL_SIZE. */
export function readConfig(env: Env = process.env): SubgraphConfig {
  return readSubgraphConfig('birth-registry', env);
}
