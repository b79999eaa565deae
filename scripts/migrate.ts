import { prepareDatabases } from '../tools/databases';
import { readConfig } from './config';

/**
 * npm run migrate: creates (embedded) and migrates the three agency databases and the audit store, creates each
 * service's database role and applies its grants (CG_<SERVICE>_DB_PASSWORD for external databases), then stops.
 */
async function main() {
  const config = readConfig();
  const databases = await prepareDatabases({
    dataDir: config.dataDir,
    postgresPort: config.postgresPort,
    external: config.externalDatabases,
    externalAudit: config.externalAuditDatabase,
    externalStatistics: config.externalStatisticsDatabase,
    log: (line) => console.log(`[migrate] ${line}`),
  });
  console.log('[migrate] all agency databases, the audit store and the statistics store are up to date, with each service\'s role and grants (lib/database-roles.ts)');
  await databases.stop();
}

main().catch((error) => {
  console.error('[migrate] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
