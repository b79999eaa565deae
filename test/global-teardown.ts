import fs from 'node:fs';
import type { AgencyDatabases } from '../tools/databases';
import { TEST_STATE_FILE } from './support/databases';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __citizenGraphDatabases?: AgencyDatabases }).__citizenGraphDatabases?.stop();
  fs.rmSync(TEST_STATE_FILE, { force: true });
}
