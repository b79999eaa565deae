import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { AGENCIES, type Agency } from '../../lib/agencies';

/**
 * Demo data of the agencies added with `npm run agency:new`: each may have a seeding hook, prisma/<id>/seed.ts,
 * run after the population is seeded (npm start, npm run seed, the test run). The first three agencies are
 * seeded by the population generator itself (./seed.ts); a hook fills only its own database, from the
 * residents' citizens, and decides itself whether there is anything to do (it runs on every start).
 */
export interface AgencySeedContext {
  /** The agency's own database, as the superuser that migrated it. */
  pool: Pool;
  /** The residents database (read it: the citizens the hook gives records to). */
  residents: Pool;
  log(line: string): void;
}

export interface AgencySeedHook {
  /** Writes the agency's demo rows; returns how many (0 when its tables already hold data). */
  seed(context: AgencySeedContext): Promise<number>;
}

const ROOT = path.resolve(__dirname, '../..');
export const seedHookFile = (id: string) => path.join(ROOT, 'prisma', id, 'seed.ts');

/** Runs the seeding hook of every agency that has one, one after the other. */
export async function seedAgencyHooks(pools: Readonly<Record<Agency['id'], Pool>>, log: (line: string) => void = () => undefined): Promise<void> {
  for (const agency of AGENCIES) {
    const file = seedHookFile(agency.id);
    if (!fs.existsSync(file)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hook = require(file) as AgencySeedHook;
    const rows = await hook.seed({ pool: pools[agency.id], residents: pools.residents, log });
    if (rows > 0) log(`${agency.id}: seeded ${rows} rows (prisma/${agency.id}/seed.ts)`);
  }
}
