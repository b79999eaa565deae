import path from 'node:path';
import { parseArgs } from 'node:util';
import { AGENCIES } from '../lib/agencies';
import { openPools, prepareDatabases } from '../tools/databases';
import { ensureSeeded } from '../scripts/seeding';

/**
 * Bytes per citizen of each agency's tables and indexes, and what they come to for a population:
 *   npx tsx bench/database-sizes.ts [--citizens 200000] [--scale 100000000] [--port 54348]
 * Seeds a scratch embedded PostgreSQL (.data/bench-sizes-<N>, kept) with the demo population once, then
 * reads pg_relation_size (the table), its TOAST and pg_indexes_size per table, divides by the citizens and
 * multiplies by --scale. The seeder builds every index after loading, so the indexes are packed; an index
 * that grew by inserts in random order (every key here is a random code) is about a third larger.
 */
interface TableSize {
  table: string;
  rows: number;
  heap: number;
  toast: number;
  indexes: number;
}

const TABLES_SQL = `
  SELECT c.relname AS table, c.reltuples::bigint AS rows,
         pg_relation_size(c.oid) AS heap,
         COALESCE(pg_total_relation_size(c.reltoastrelid), 0) AS toast,
         pg_indexes_size(c.oid) AS indexes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
   ORDER BY pg_total_relation_size(c.oid) DESC`;

const gb = (bytes: number) => (bytes / 1e9).toFixed(bytes >= 1e11 ? 0 : 1);

async function main() {
  const { values } = parseArgs({ options: { citizens: { type: 'string', default: '200000' }, scale: { type: 'string', default: '100000000' }, port: { type: 'string', default: '54348' } } });
  const citizens = Number(values.citizens);
  const scale = Number(values.scale);
  const databases = await prepareDatabases({ dataDir: path.resolve(__dirname, `../.data/bench-sizes-${citizens}/postgres`), postgresPort: Number(values.port) });
  const pools = openPools(databases.urls);
  try {
    await ensureSeeded(pools, { citizens, seed: 'citizen-graph', log: (line) => console.error(`[sizes] ${line}`) });
    const byAgency: Record<string, TableSize[]> = {};
    for (const agency of AGENCIES) {
      const pool = pools.byAgency[agency.id];
      await pool.query('ANALYZE');
      byAgency[agency.id] = (await pool.query(TABLES_SQL)).rows.map((r) => ({ table: r.table, rows: Number(r.rows), heap: Number(r.heap), toast: Number(r.toast), indexes: Number(r.indexes) }));
    }
    console.log(`Sizes at ${citizens.toLocaleString('en')} citizens (seed "citizen-graph"), per citizen and for ${scale.toLocaleString('en')}:\n`);
    console.log('| database | table | rows per citizen | bytes per citizen: table | indexes | GB at scale (table + indexes) |\n|---|---|--:|--:|--:|--:|');
    for (const [agency, tables] of Object.entries(byAgency)) {
      let tableBytes = 0;
      let indexBytes = 0;
      for (const t of tables) {
        tableBytes += (t.heap + t.toast) / citizens;
        indexBytes += t.indexes / citizens;
        const perCitizen = (t.heap + t.toast + t.indexes) / citizens;
        if (perCitizen < 1) continue;
        console.log(`| ${agency} | \`${t.table}\` | ${(t.rows / citizens).toFixed(2)} | ${((t.heap + t.toast) / citizens).toFixed(0)} | ${(t.indexes / citizens).toFixed(0)} | ${gb(perCitizen * scale)} |`);
      }
      console.log(`| **${agency}** | all | | **${tableBytes.toFixed(0)}** | **${indexBytes.toFixed(0)}** | **${gb((tableBytes + indexBytes) * scale)}** |`);
    }
  } finally {
    await pools.end();
    await databases.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
