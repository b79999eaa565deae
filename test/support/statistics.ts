import { Pool } from 'pg';
import { AGENCIES } from '../../lib/agencies';
import type { StatisticsServiceUrls } from '../../tools/databases';
import { pseudonymiser, readSecret } from '../../subgraphs/statistics/pseudonyms';
import { refreshStatistics, type SourcePools } from '../../subgraphs/statistics/refresh';

/** Builds the statistics read model from scratch, as the statistics role, outside any subgraph (the test run's setup). */
export async function buildStatistics(urls: StatisticsServiceUrls, secretFile: string): Promise<void> {
  const store = new Pool({ connectionString: urls.database, max: 1 });
  const sources = Object.fromEntries(AGENCIES.map((a) => [a.id, new Pool({ connectionString: urls.sources[a.id], max: 1 })])) as SourcePools;
  try {
    await refreshStatistics(store, sources, pseudonymiser(readSecret(secretFile)), { rebuild: true });
  } finally {
    await Promise.all([store.end(), ...Object.values(sources).map((p) => p.end())]);
  }
}
