import fs from 'node:fs';
import path from 'node:path';
import { Client, Pool } from 'pg';
import type { Agency } from '../../lib/agencies';
import type { ServiceUrls, StatisticsServiceUrls } from '../../tools/databases';
import type { ServiceKeyFiles } from '../../tools/service-keys';

/**
 * Where the test suite's databases are. test/global-setup.ts starts one embedded PostgreSQL for the
 * whole run, migrates and seeds it, and records the URLs in this file for the test workers.
 */
export const TEST_STATE_FILE = path.resolve(__dirname, '../../.data/test-state.json');

export interface TestState {
  /** Token signing keys (tools/dev-keys.ts) of the run. */
  keysDir: string;
  jwksFile: string;
  /** Service credential keys (lib/service-keys.ts) of the run: the trust file and each service's private key. */
  serviceKeys: ServiceKeyFiles;
  /** The audit checkpoint signing key (private JWK), its public JWKS, and the test gateways' checkpoint file. */
  checkpointKeyFile: string;
  checkpointJwksFile: string;
  checkpointFile: string;
  /** Each agency database as the superuser: fixtures, seeding, tests that look at or change the rows directly. */
  urls: Record<Agency['id'], string>;
  /** The shared audit store (lib/audit), as the superuser. Tests that tamper with a chain make their own: test/support/audit.ts. */
  auditUrl: string;
  /** What each service connects with, as its own role (lib/database-roles.ts): what test/support/federation.ts runs on. */
  serviceUrls: ServiceUrls;
  /** The audit store as the read-only verifier role. */
  auditVerifierUrl: string;
  adminUrl: string;
  /** The statistics read model as the superuser, what the statistics service connects with, and its secret (pseudonyms, record keys). */
  statisticsUrl: string;
  statisticsServiceUrls: StatisticsServiceUrls;
  statisticsSecretFile: string;
  seed: string;
  citizens: number;
}

export function testDatabases(): TestState {
  if (!fs.existsSync(TEST_STATE_FILE)) throw new Error('The test databases are not prepared: run the tests with `npm test`.');
  return JSON.parse(fs.readFileSync(TEST_STATE_FILE, 'utf8')) as TestState;
}

/** A database of its own for a test that changes DDL; `pool` is ended before the database is dropped. */
export async function withScratchDatabase(name: string, run: (url: string, pool: Pool) => Promise<void>) {
  const { adminUrl } = testDatabases();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  const pool = new Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined); // the forced drop below may end an idle connection
  try {
    await run(url, pool);
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
