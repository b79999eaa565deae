import { readSubgraphConfig, type SubgraphConfig } from '../../lib/subgraph-config';
import type { Env } from '../../lib/env';

/** The residents subgraph's configuration: RESIDENTS_DATABASE_URL, RESIDENTS_PORT, RESIDENTS_DB_POOL_SIZE. */
export function readConfig(env: Env = process.env): SubgraphConfig {
  return readSubgraphConfig('residents', env);
}
