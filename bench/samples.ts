import type { Pool } from 'pg';
import type { openPools } from '../tools/databases';

/**
 * The values the workloads draw from, sampled from the agency databases once per run. Samples come from
 * `TABLESAMPLE SYSTEM` (random pages) so that sampling 8 million citizens costs milliseconds, not a full
 * scan; `ORDER BY random()` then mixes the rows of those pages.
 */
export interface Samples {
  /** Personal codes of living citizens. */
  livingCodes: string[];
  /** Household numbers: the largest of a sample, and others of mixed sizes. */
  households: string[];
  /** Legacy 9-digit ID numbers (loai_the = 'CMND'). */
  legacyIdNumbers: string[];
  /** Full names of living citizens, as the register holds them (W7 types parts of them). */
  names: string[];
}

export const SAMPLE_SIZES = { livingCodes: 2000, households: 500, legacyIdNumbers: 500, names: 500, listLength: 100 };
/** How many households are looked at to find large ones; their member counts come from the so_ho index. */
const HOUSEHOLD_POOL = 5000;

type Pools = ReturnType<typeof openPools>;

export async function sampleData(pools: Pools): Promise<Samples> {
  const livingCodes = await sample(pools.residents, { table: 'cong_dan', column: 'so_dinh_danh', where: 'ngay_mat IS NULL', n: SAMPLE_SIZES.livingCodes });
  const legacyIdNumbers = await sample(pools.nationalId, { table: 'the_can_cuoc', column: 'so_the', where: "loai_the = 'CMND'", n: SAMPLE_SIZES.legacyIdNumbers });
  const households = await sampleHouseholds(pools.residents);
  const names = await sample(pools.residents, { table: 'cong_dan', column: 'ho_ten', where: 'ngay_mat IS NULL', n: SAMPLE_SIZES.names });
  for (const [name, values] of Object.entries({ livingCodes, legacyIdNumbers, households, names })) {
    if (values.length === 0) throw new Error(`no ${name} to benchmark with: are the bench databases seeded?`);
  }
  return { livingCodes, households, legacyIdNumbers, names };
}

/**
 * A list of 100 distinct codes drawn afresh from the living citizens' (a partial Fisher–Yates shuffle).
 * A fixed set of lists would make concurrent requests identical often enough for the gateways' in-flight
 * deduplication to answer several with one subgraph call, hiding the cost of the list itself.
 */
export function randomCodeList(codes: readonly string[], length = SAMPLE_SIZES.listLength): string[] {
  const pool = [...codes];
  const n = Math.min(length, pool.length);
  for (let i = 0; i < n; i += 1) {
    const j = i + Math.floor(Math.random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n);
}

/**
 * Up to `n` random values of `column` among the rows matching `where`. The sampled share of pages starts
 * from the planner's row estimate (pg_class.reltuples, set by the seeder's ANALYZE) with a margin for the
 * filter, and grows tenfold until enough rows are found; a small or unanalysed table is read whole.
 */
async function sample(pool: Pool, query: { table: string; column: string; where: string; n: number }): Promise<string[]> {
  const { rows: estimate } = await pool.query<{ rows: number }>('SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = $1::regclass', [query.table]);
  const estimatedRows = estimate[0]?.rows ?? -1;
  let percent = estimatedRows > 0 ? Math.min(100, ((query.n * 10) / estimatedRows) * 100) : 100;
  for (;;) {
    const { rows } = await pool.query<{ value: string }>(
      `SELECT ${query.column} AS value FROM ${query.table} TABLESAMPLE SYSTEM ($1)
        WHERE ${query.where} ORDER BY random() LIMIT $2`,
      [percent, query.n],
    );
    if (rows.length >= query.n || percent >= 100) return rows.map((row) => row.value.trim());
    percent = Math.min(100, percent * 10);
  }
}

/**
 * Half the households are the largest (by current members) of a random sample, the heaviest HOUSEHOLD
 * queries; the other half are random others of that sample, so the workload mixes sizes as real lookups do.
 * The largest of all households would need an aggregate over every membership row (8 million at full size).
 */
async function sampleHouseholds(pool: Pool): Promise<string[]> {
  const candidates = await sample(pool, { table: 'ho_gia_dinh', column: 'so_ho', where: 'true', n: HOUSEHOLD_POOL });
  const { rows } = await pool.query<{ number: string }>(
    `WITH sized AS (
       SELECT h.so_ho, row_number() OVER (ORDER BY count(t.id) DESC, random()) AS rank
         FROM unnest($1::varchar[]) AS h(so_ho)
         LEFT JOIN thanh_vien_ho t ON t.so_ho = h.so_ho AND t.den_ngay IS NULL
        GROUP BY h.so_ho)
     SELECT so_ho AS number FROM sized ORDER BY rank <= $2 DESC, random() LIMIT $3`,
    [candidates, SAMPLE_SIZES.households / 2, SAMPLE_SIZES.households],
  );
  return rows.map((row) => row.number);
}
