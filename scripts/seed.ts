import { parseArgs } from 'node:util';
import { openPools, prepareDatabases } from '../tools/databases';
import { databaseSizes, ensureSeeded } from './seeding';
import { readConfig } from './config';

/** npm run seed -- --citizens N [--seed S]: seeds empty agency databases with a synthetic population. */
async function main() {
  const config = readConfig();
  const { values } = parseArgs({ options: { citizens: { type: 'string' }, seed: { type: 'string' } } });
  const citizens = values.citizens ? Number(values.citizens) : config.seedCitizens;
  if (!Number.isInteger(citizens) || citizens < 1) throw new Error(`--citizens must be a positive whole number; got ${values.citizens}`);
  const log = (line: string) => console.log(`[seed] ${line}`);
  const databases = await prepareDatabases({ dataDir: config.dataDir, postgresPort: config.postgresPort, external: config.externalDatabases, externalAudit: config.externalAuditDatabase, externalStatistics: config.externalStatisticsDatabase, log });
  const pools = openPools(databases.urls);
  try {
    await ensureSeeded(pools, { citizens, seed: values.seed ?? config.seed, log });
    const sizes = await databaseSizes(pools);
    log(`size on disk: residents ${sizes.residents}, national-id ${sizes.nationalId}, birth-registry ${sizes.birthRegistry}`);
  } finally {
    await pools.end();
    await databases.stop();
  }
}

main().catch((error) => {
  console.error('[seed] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
