import { readSubgraphConfig, type SubgraphConfig } from '../../lib/subgraph-config';
import type { Env } from '../../lib/env';

/** The national-id subgraph's configuration: NATIONAL_ID_DATABASE_URL, NATIONAL_ID_PORT, NATIONAL_ID_DB_POOL_SIZE. */
export function readConfig(env: Env = process.env): SubgraphConfig {
  return readSubgraphConfig('national-id', env);
}
