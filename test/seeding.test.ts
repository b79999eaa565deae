import { tablesLoaded } from '../tools/demo-data/seed';
import { TABLES_BY_DATABASE, type DatabaseName } from '../tools/demo-data/rows';
import { openFixtures, type Fixtures } from './support/fixtures';

/**
 * What seedPopulation leaves behind, on the databases global-setup.ts seeded for this run. (The loading
 * itself, and the population's invariants, are checked by demo-data.test.ts and by every query test.)
 */
let f: Fixtures;
beforeAll(() => {
  f = openFixtures();
});
afterAll(() => f.end());

describe.each(Object.keys(TABLES_BY_DATABASE) as DatabaseName[])('the seeded %s database', (database) => {
  it('has every loaded table vacuumed and analysed by the seeder, so autovacuum has nothing left to do on them', async () => {
    const tables = tablesLoaded(database);
    // vacuum_count and analyze_count count explicit VACUUM and ANALYZE only; autovacuum has counters of its own.
    const { rows } = await f[database].query(
      `SELECT relname, vacuum_count > 0 AS vacuumed, analyze_count > 0 AS analysed FROM pg_stat_user_tables WHERE relname = ANY($1) ORDER BY relname`,
      [tables],
    );
    expect(rows).toEqual([...tables].sort().map((relname) => ({ relname, vacuumed: true, analysed: true })));
  });
});
