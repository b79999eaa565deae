import { readSubgraphConfig, type SubgraphConfig } from '../../lib/subgraph-config';
import { EnvReader, type Env } from '../../lib/env';

export interface BirthRegistryConfig extends SubgraphConfig {
  /** How often registrations waiting for a personal code are retried (BIRTH_COMPLETION_INTERVAL_MS, 15 s). */
  completionIntervalMs: number;
}

/**
 * The birth-registry subgraph's configuration: BIRTH_REGISTRY_DATABASE_URL, BIRTH_REGISTRY_PORT,
 * BIRTH_REGISTRY_DB_POOL_SIZE, BIRTH_COMPLETION_INTERVAL_MS, and the shared ones (lib/subgraph-config.ts).
 */
export function readConfig(env: Env = process.env): BirthRegistryConfig {
  const read = new EnvReader(env);
  const completionIntervalMs = read.integer('BIRTH_COMPLETION_INTERVAL_MS', 15_000, { min: 100, max: 3_600_000 });
  read.done();
  return Object.freeze({ ...readSubgraphConfig('birth-registry', env), completionIntervalMs });
}
