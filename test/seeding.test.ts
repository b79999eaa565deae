import { Client } from 'pg';
import { TABLES_BY_DATABASE, type DatabaseName } from '../lib/demo-data/rows';
import type { Agency } from '../lib/agencies';
import { testDatabases } from './support/databases';

/**
 * What seedPopulation leaves behind, on the databases global-setup.ts seeded for this run. (The loading
 * itself, and the population's invariants, are checked by demo-data.test.ts and by every query test.)
 */
const AGENCY_OF: Record<DatabaseName, Agency['id']> = { residents: 'residents', nationalId: 'national-id', birthRegistry: 'birth-registry' };
/** The register of personal codes is filled from the loaded citizens rather than by the generator. */
const DERIVED: Partial<Record<DatabaseName, string[]>> = { residents: ['so_dinh_danh'] };

describe.each(Object.keys(TABLES_BY_DATABASE) as DatabaseName[])('the seeded %s database', (database) => {
  const tables = [...TABLES_BY_DATABASE[database], ...(DERIVED[database] ?? [])];
  it('has every loaded table vacuumed and analysed by the seeder, so autovacuum has nothing left to do on them', async () => {
    const client = new Client({ connectionString: testDatabases().urls[AGENCY_OF[database]] });
    await client.connect();
    try {
      // vacuum_count and analyze_count count explicit VACUUM and ANALYZE only; autovacuum has counters of its own.
      const { rows } = await client.query(
        `SELECT relname, vacuum_count > 0 AS vacuumed, analyze_count > 0 AS analysed FROM pg_stat_user_tables WHERE relname = ANY($1) ORDER BY relname`,
        [tables],
      );
      expect(rows).toEqual([...tables].sort().map((relname) => ({ relname, vacuumed: true, analysed: true })));
    } finally {
      await client.end();
    }
  });
});
