import crypto from 'node:crypto';
import { Client, type ClientBase, type Pool, type PoolClient } from 'pg';
import { MEASURES, type Measure } from './measures';
import { factsSql, NO_VALUE, type CheckedRequest, type Statement } from './query';
import { RECORD_KEY_RANGE } from './perturbation';
import { timed } from './timed';

/**
 * Cubes: tables kept for the current date, so that a table at national scale is a sum over a few thousand or
 * hundred thousand pre-counted rows instead of a pass over millions of facts (and their residence joins).
 *
 * A cube of a measure holds, for one reference date, every combination of its dimensions' values with the
 * number of units (persons, cards, households, registrations) in it and the sum of their record keys. Both are
 * additive: the cells of any grouping and filter within the cube's dimensions are sums of its rows, with exactly
 * the counts and record-key sums a pass over the facts gives, so the perturbation publishes exactly the same
 * numbers (test/support/statistics-cubes.ts holds the two paths equal). A request no cube covers, or for another date,
 * is answered from the facts, as before.
 *
 * Keeping them in step is the subtle part. The refresh replaces the facts of the units named in the agencies'
 * change logs (persons, households, registrations). Every counted row belongs to units the measure names
 * (Measure.units: the row of a card is decided by its holder's facts, so its unit is the holder's pid; a household's
 * row by the household and its head, so the refresh names the households of every person it changes). Around each
 * batch of changes the refresh subtracts the rows of those units as counted before, changes the facts, and adds
 * them as counted after: one GROUP BY per cube over a few hundred units, through the same SQL as the table. Both run
 * in the refresh's transaction, so a reader sees the facts, the cubes and the change-log positions of one moment.
 *
 * The cubes are for one date, today: ages and residences in force move with it. The first refresh of a day builds
 * that day's cubes (until they commit, today's tables come from the facts) and drops the day before's.
 */
export interface Cube {
  /** Stable while the dimensions stay the same: changing a cube's dimensions makes it a new cube. */
  id: string;
  measureName: string;
  measure: Measure;
  dimensions: readonly string[];
}

/** The memory each sort or hash of the day's cube build may use (a few of them at once in each builder's statement). */
const CUBE_BUILD_WORK_MEM = '256MB';

/** The most dimensions a cube may have: st_khoi's value columns d0..d7. */
export const MAX_CUBE_DIMENSIONS = 8;

export const CUBES: readonly Cube[] = Object.entries(MEASURES).flatMap(([measureName, measure]) =>
  (measure.cubes ?? [Object.keys(measure.dimensions)]).map((dimensions) => ({
    id: `${measureName}:${crypto.createHash('sha256').update(dimensions.join(',')).digest('hex').slice(0, 10)}`,
    measureName,
    measure,
    dimensions,
  })),
);

const columns = (n: number) => Array.from({ length: n }, (_, i) => `d${i}`);

/** The units whose rows the refresh recounts: pseudonyms of persons, households and birth registrations. */
export interface Units {
  pids: Buffer[];
  hids: Buffer[];
  rids: Buffer[];
}

/** The condition "the row belongs to one of these units", in a measure's own terms. */
function unitCondition(measure: Measure, units: Units, param: (value: unknown) => string): string {
  const parts: string[] = [];
  if (measure.units.pid && units.pids.length > 0) parts.push(`${measure.units.pid} = ANY(${param(units.pids)}::bytea[])`);
  if (measure.units.hid && units.hids.length > 0) parts.push(`${measure.units.hid} = ANY(${param(units.hids)}::bytea[])`);
  if (measure.units.rid && units.rids.length > 0) parts.push(`${measure.units.rid} = ANY(${param(units.rids)}::bytea[])`);
  return parts.length > 0 ? `(${parts.join(' OR ')})` : 'false';
}

/** Rows of the cube at `date` counted over the facts (all of them, or the rows of some units), as an INSERT … SELECT. */
function cubeRowsSql(cube: Cube, date: string, restrict: ((param: (value: unknown) => string) => string) | undefined, sign: 1 | -1): Statement {
  const facts = factsSql(cube.measure, date, cube.dimensions, [], { forCube: true, restrict });
  const values = [...facts.values, cube.id];
  const cols = columns(cube.dimensions.length);
  const text = `INSERT INTO st_khoi (khoi, ngay, ${cols.join(', ')}, n, k)
    SELECT $${values.length}, $1::date, ${cols.map((c) => `f.${c}`).join(', ')}, ${sign} * f.n, ${sign} * f.k
      FROM (${facts.text}) f
    ON CONFLICT (khoi, ngay, d0, d1, d2, d3, d4, d5, d6, d7) DO UPDATE SET n = st_khoi.n + EXCLUDED.n, k = st_khoi.k + EXCLUDED.k`;
  return { text, values };
}

/** How many measures' cubes are counted at once, each on a connection of its own (STATISTICS_CUBE_BUILDERS). */
export const DEFAULT_CUBE_BUILDERS = 2;

/**
 * Empties the kept cubes, in the caller's transaction: what the refresh does, in the transaction that brings the facts
 * to a new day (or rebuilds them), when it will build the day's cubes next. From its commit until each measure's new
 * cubes commit, that measure's tables come from the facts.
 */
export async function dropCubes(client: PoolClient): Promise<void> {
  await client.query('DELETE FROM st_khoi');
  await client.query('DELETE FROM st_khoi_ngay');
}

/**
 * The cubes of `date` counted from the committed facts (dropCubes first), each measure's in a transaction of its own,
 * `builders` measures at once: the counting is PostgreSQL's, one core per statement, so two measures at a time take
 * both cores of a small server. The caller holds the refresh lock throughout (on `holder`, which counts too), so no
 * change to the facts comes in between. The other builders connect as the pool does but outside it: a pool that is
 * small, or busy answering tables, cannot leave them waiting for a connection while the lock is held. Says how many
 * rows each cube has.
 */
export async function buildCubes(
  store: Pool,
  holder: ClientBase,
  date: string,
  options: { log?: (line: string) => void; builders?: number } = {},
): Promise<Record<string, number>> {
  const log = options.log ?? (() => undefined);
  const sizes: Record<string, number> = {};
  const waiting = [...new Set(CUBES.map((c) => c.measureName))];
  const build = async (client: ClientBase) => {
    for (let measureName = waiting.shift(); measureName !== undefined; measureName = waiting.shift()) {
      const cubes = CUBES.filter((c) => c.measureName === measureName);
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL statement_timeout = 0');
        // Counting millions of rows into a few thousand cells: with the default work_mem (4 MB; 32 MB embedded) the
        // planner sorts and hashes them on disk; this transaction may use more.
        await client.query(`SET LOCAL work_mem = '${CUBE_BUILD_WORK_MEM}'`);
        await timed(log, `${measureName}: ${cubes.length} cube${cubes.length === 1 ? '' : 's'} built`, () => countCubes(client, cubes, date, sizes));
        for (const cube of cubes) {
          await client.query('INSERT INTO st_khoi_ngay (khoi, ngay, so_o, xay_dung_luc) VALUES ($1, $2::date, $3, now())', [cube.id, date, sizes[cube.id]]);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        waiting.length = 0; // the other builders stop after their current measure
        throw error;
      }
    }
  };
  const others = async () => {
    const client = new Client(store.options);
    client.on('error', () => undefined);
    try {
      await client.connect();
      await build(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const builders = Math.max(1, options.builders ?? DEFAULT_CUBE_BUILDERS);
  const results = await Promise.allSettled([build(holder), ...Array.from({ length: builders - 1 }, others)]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return sizes;
}

/** The cubes of one measure counted from the facts at `date` into st_khoi; each one's rows into `sizes`. */
async function countCubes(client: ClientBase, cubes: readonly Cube[], date: string, sizes: Record<string, number>): Promise<void> {
  if (cubes.length === 1) {
    const { text, values } = cubeRowsSql(cubes[0], date, undefined, 1);
    sizes[cubes[0].id] = (await client.query(text, values)).rowCount ?? 0;
  } else {
    // One statement: the rows once (a materialised CTE, which needs no right to create tables), and an INSERT per
    // cube reading them.
    const measure = cubes[0].measure;
    const used = [...new Set(cubes.flatMap((c) => c.dimensions))];
    const rows = factsSql(measure, date, used, [], { forCube: true, ungrouped: true });
    const values = [...rows.values];
    const inserts = cubes.map((cube, i) => {
      values.push(cube.id);
      const cols = cube.dimensions.map((d) => `d${used.indexOf(d)}`);
      return `c${i} AS (INSERT INTO st_khoi (khoi, ngay, ${columns(cols.length).join(', ')}, n, k)
        SELECT $${values.length}, $1::date, ${cols.join(', ')}, count(*), sum(rk) FROM facts GROUP BY ${cols.join(', ')} RETURNING 1)`;
    });
    const counted = await client.query<Record<string, string>>(
      `WITH facts AS MATERIALIZED (${rows.text}), ${inserts.join(', ')}
       SELECT ${cubes.map((_, i) => `(SELECT count(*) FROM c${i})::text AS c${i}`).join(', ')}`,
      values,
    );
    cubes.forEach((cube, i) => (sizes[cube.id] = Number(counted.rows[0][`c${i}`])));
  }
}

/** The date the kept cubes are for (null: none built yet), and whether every cube of this code has one. */
export async function keptDate(client: PoolClient | Pool): Promise<{ date: string | null; complete: boolean }> {
  const { rows } = await client.query<{ khoi: string; ngay: string }>(`SELECT khoi, to_char(ngay, 'YYYY-MM-DD') AS ngay FROM st_khoi_ngay`);
  const dates = [...new Set(rows.map((r) => r.ngay))];
  if (dates.length !== 1) return { date: null, complete: false };
  const built = new Set(rows.map((r) => r.khoi));
  return { date: dates[0], complete: CUBES.every((cube) => built.has(cube.id)) };
}

/**
 * Subtracts (-1) or adds back (+1) the rows of these units in every kept cube: the refresh calls it with -1 before it
 * replaces their facts and with +1 after, with the same units. A cell left empty is deleted.
 */
export async function recountUnits(client: PoolClient, date: string | null, units: Units, sign: 1 | -1): Promise<void> {
  if (date === null || units.pids.length + units.hids.length + units.rids.length === 0) return;
  for (const cube of CUBES) {
    // A cube whose rows none of these units decide (births, for a batch of cards) is left as it is.
    if (unitCondition(cube.measure, units, () => '') === 'false') continue;
    const condition = (param: (value: unknown) => string) => unitCondition(cube.measure, units, param);
    const { text, values } = cubeRowsSql(cube, date, condition, sign);
    await client.query(text, values);
  }
  if (sign === 1) await client.query('DELETE FROM st_khoi WHERE ngay = $1::date AND n = 0', [date]);
}

/** The smallest cube kept for the request's date whose dimensions hold its grouping and filters; null when none does. */
export async function coveringCube(store: Pool, request: CheckedRequest): Promise<Cube | null> {
  const needed = new Set([...request.groupBy, ...request.filters.map((f) => f.dimension)]);
  const candidates = CUBES.filter((cube) => cube.measureName === request.name && [...needed].every((d) => cube.dimensions.includes(d)));
  if (candidates.length === 0) return null;
  const { rows } = await store.query<{ khoi: string; so_o: string }>(
    'SELECT khoi, so_o::text FROM st_khoi_ngay WHERE ngay = $1::date AND khoi = ANY($2::text[])',
    [request.asOf, candidates.map((c) => c.id)],
  );
  const sizes = new Map(rows.map((r) => [r.khoi, Number(r.so_o)]));
  const built = candidates.filter((c) => sizes.has(c.id)).sort((a, b) => sizes.get(a.id)! - sizes.get(b.id)!);
  return built[0] ?? null;
}

/** A checked request's cells summed from a cube: the same columns as the facts' statement (tableSql). */
export function cubeTableSql(cube: Cube, request: CheckedRequest): Statement {
  const values: unknown[] = [request.asOf, cube.id];
  const column = (dimension: string) => `d${cube.dimensions.indexOf(dimension)}`;
  const conditions = ['khoi = $2', 'ngay = $1::date'];
  for (const filter of request.filters) {
    values.push(filter.values);
    conditions.push(`${column(filter.dimension)} = ANY($${values.length}::text[])`);
  }
  const select = request.groupBy.map((d, i) => `nullif(${column(d)}, '${NO_VALUE}') AS d${i}`).join(', ');
  const text = `SELECT ${select}, sum(n)::bigint AS n, (sum(k) % ${RECORD_KEY_RANGE})::int AS k
    FROM st_khoi WHERE ${conditions.join(' AND ')}
    GROUP BY ${request.groupBy.map((_, i) => i + 1).join(', ')}
    HAVING sum(n) > 0`;
  return { text, values };
}

/** Every combination of 1..max of the names, in their order: the groupings a cube or a bench covers. */
export function groupings(names: readonly string[], max: number): string[][] {
  const out: string[][] = [];
  const walk = (start: number, chosen: string[]) => {
    if (chosen.length > 0) out.push([...chosen]);
    if (chosen.length === max) return;
    for (let i = start; i < names.length; i++) walk(i + 1, [...chosen, names[i]]);
  };
  walk(0, []);
  return out;
}
