import type { Pool } from 'pg';
import { inputError } from '../../lib/graphql/errors';
import { formatDate } from '../../lib/graphql/scalars';
import { forbidden, SENSITIVE_AGGREGATE_PURPOSES } from '../../lib/access/policy';
import type { Principal } from '../../lib/access/principal';
import { EARLIEST_AS_OF, type Dimension, type Measure, type TwoWays } from './measures';
import { perturbation, RECORD_KEY_RANGE, type DisclosureParameters } from './perturbation';
import { coveringCube, cubeTableSql } from './cubes';

/**
 * One statistics table: the request checked against the measure's table of dimensions (everything that can be
 * refused is refused here, before a statement is sent), then one GROUP BY giving each cell's count and the sum of its
 * record keys (over a cube kept for the date when one covers the request, else over the fact rows), then each count
 * published through the perturbation table.
 */
export interface TableRequest {
  groupBy: readonly string[];
  filter?: readonly { dimension: string; values: readonly string[] }[] | null;
  asOf?: Date | null;
}

export interface CheckedRequest {
  measure: Measure;
  name: string;
  groupBy: string[];
  filters: { dimension: string; values: string[] }[];
  asOf: string;
  sensitive: boolean;
  /** The canonical description of the request, for the audit record. */
  description: string;
}

const MAX_FILTER_VALUES = 1000;
const MAX_OPEN_VALUE_LENGTH = 200;
const CONTROL = /[\u0000-\u001f\u007f]|[\ud800-\udfff]/;

const expectedOf = (d: Dimension) => d.expected;

/** Everything that can be refused, refused: BAD_USER_INPUT or FORBIDDEN, before anything is computed. */
export function checkRequest(
  name: string,
  measure: Measure,
  request: TableRequest,
  principal: Principal | null,
  limits: { maxCells: number; today?: Date },
): CheckedRequest {
  const names = Object.keys(measure.dimensions);
  if (request.groupBy.length === 0) throw inputError('STATISTICS_NO_DIMENSION', { dimensions: names.join(', ') }, { argument: 'groupBy' });
  const seen = new Set<string>();
  for (const dimension of request.groupBy) {
    if (seen.has(dimension)) throw inputError('STATISTICS_REPEATED_DIMENSION', { dimension }, { argument: 'groupBy', dimension });
    seen.add(dimension);
  }
  const today = formatDate(limits.today ?? new Date());
  const asOf = request.asOf ? formatDate(request.asOf) : today;
  if (asOf > today) throw inputError('DATE_IN_FUTURE', { argument: 'asOf', date: asOf }, { argument: 'asOf' });
  if (asOf < EARLIEST_AS_OF) throw inputError('DATE_TOO_EARLY', { argument: 'asOf', date: asOf, earliest: EARLIEST_AS_OF }, { argument: 'asOf' });
  const context = { asOf };

  const filters: { dimension: string; values: string[] }[] = [];
  for (const filter of request.filter ?? []) {
    const dimension = measure.dimensions[filter.dimension];
    if (filters.some((f) => f.dimension === filter.dimension)) {
      throw inputError('STATISTICS_REPEATED_FILTER', { dimension: filter.dimension }, { argument: 'filter', dimension: filter.dimension });
    }
    const values = [...new Set(filter.values)];
    if (values.length === 0) throw inputError('STATISTICS_EMPTY_FILTER', { dimension: filter.dimension }, { argument: 'filter', dimension: filter.dimension });
    if (values.length > MAX_FILTER_VALUES) {
      throw inputError('TOO_MANY_VALUES', { argument: `filter ${filter.dimension}`, maximum: MAX_FILTER_VALUES, actual: values.length }, { argument: 'filter' });
    }
    const known = dimension.values ? new Set(dimension.values(context)) : null;
    for (const value of values) {
      const ok = known ? known.has(value) : value.length > 0 && value.length <= MAX_OPEN_VALUE_LENGTH && !CONTROL.test(value);
      if (!ok) {
        throw inputError(
          'UNKNOWN_FILTER_VALUE',
          { dimension: filter.dimension, value: value.slice(0, 60), expected: expectedOf(dimension) },
          { argument: 'filter', dimension: filter.dimension },
        );
      }
    }
    filters.push({ dimension: filter.dimension, values });
  }

  const used = [...request.groupBy, ...filters.map((f) => f.dimension)];
  const sensitiveUsed = used.filter((d) => measure.dimensions[d].sensitive);
  if (sensitiveUsed.length > 0) {
    const allowed = principal !== null && (SENSITIVE_AGGREGATE_PURPOSES[principal.role] ?? []).includes(principal.purpose as never);
    if (!allowed) {
      throw forbidden(
        'SENSITIVE_DIMENSION_NOT_ALLOWED',
        { dimension: sensitiveUsed[0], role: principal?.role ?? 'no role', purpose: principal?.purpose ?? 'no purpose' },
        { dimension: sensitiveUsed[0] },
      );
    }
  }

  // The most cells the grouping can make: each dimension's values, as narrowed by the filters.
  let cells = 1;
  for (const name of request.groupBy) {
    const dimension = measure.dimensions[name];
    const own = filters.find((f) => f.dimension === name);
    const outer = dimension.within ? filters.find((f) => f.dimension === dimension.within) : undefined;
    let count: number;
    if (own) count = own.values.length;
    else if (dimension.values) {
      const values = dimension.values(context);
      count = outer ? values.filter((v) => outer.values.some((prefix) => v.startsWith(prefix))).length : values.length;
    } else count = dimension.open!.cardinality;
    cells *= Math.max(count, 1);
  }
  if (cells > limits.maxCells) throw inputError('TOO_MANY_CELLS', { maximum: limits.maxCells, actual: cells }, { argument: 'groupBy', maximum: limits.maxCells, actual: cells });

  const description = [
    measure.field,
    `groupBy=${request.groupBy.join(',')}`,
    ...(filters.length > 0 ? [`filter=${filters.map((f) => `${f.dimension}:${f.values.map((v) => JSON.stringify(v)).join('|')}`).join(';')}`] : []),
    `asOf=${asOf}`,
  ].join(' ');
  return { measure, name, groupBy: [...request.groupBy], filters, asOf, sensitive: sensitiveUsed.length > 0, description };
}

export interface PublishedCell {
  values: { dimension: string; code: string; label: string | null }[];
  count: number;
}

export interface PublishedTable {
  measure: string;
  dimensions: string[];
  asOf: string;
  cells: PublishedCell[];
  total: number;
  threshold: number;
}

/** A statement and its parameters. */
export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * One GROUP BY over a measure's fact rows at `asOf` ($1): each cell's dimension values (d0, d1…), its count (n) and
 * record-key sum (k). For a table the sum is taken modulo the key range; for a cube (cubes.ts) it is kept whole, so
 * that cubes can be added to and summed again, and a row without a value gets the code the table would print.
 * `restrict` adds a condition with parameters of its own (the units the refresh recounts).
 */
export function factsSql(
  measure: Measure,
  asOf: string,
  groupBy: readonly string[],
  filters: readonly { dimension: string; values: readonly string[] }[],
  options: {
    forCube?: boolean;
    /** Each counted row's dimension values and record key (rk), ungrouped: what several cubes of a measure are built from. */
    ungrouped?: boolean;
    restrict?: (param: (value: unknown) => string) => string;
  } = {},
): Statement {
  const values: unknown[] = [asOf];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const dims = groupBy.map((name) => measure.dimensions[name]);
  const joins = new Set<string>();
  for (const name of [...groupBy, ...filters.map((f) => f.dimension)]) {
    for (const join of measure.dimensions[name].joins ?? []) joins.add(join);
  }
  const conditions = [measure.where];
  for (const filter of filters) conditions.push(`(${measure.dimensions[filter.dimension].sql}) = ANY(${param(filter.values)}::text[])`);
  if (options.restrict) conditions.push(options.restrict(param));
  const select = dims.map((d, i) => (options.forCube ? `coalesce((${d.sql}), '${NO_VALUE}') AS d${i}` : `(${d.sql}) AS d${i}`)).join(', ');
  // A few units (the refresh's recount): their related rows looked up one by one; otherwise computed for all at once.
  const way = (sql: TwoWays) => (typeof sql === 'string' ? sql : options.restrict ? sql.each : sql.all);
  const from = `FROM ${way(measure.from)} ${[...joins].map((j) => way(measure.joins[j])).join(' ')}
    WHERE ${conditions.join(' AND ')}`;
  if (options.ungrouped) return { text: `SELECT ${select}, ${measure.recordKey} AS rk ${from}`, values };
  const key = options.forCube ? `sum(${measure.recordKey})::bigint` : `(sum(${measure.recordKey}) % ${RECORD_KEY_RANGE})::int`;
  const text = `SELECT ${select}, count(*)::bigint AS n, ${key} AS k
    ${from}
    GROUP BY ${dims.map((_, i) => i + 1).join(', ')}`;
  return { text, values };
}

/**
 * What a cube stores for a row whose dimension has no value (its key columns cannot be null): a control character,
 * which no filter value may hold, turned back into null when the cube is read.
 */
export const NO_VALUE = '\u0001';

/** The SQL of a checked request over the facts: the cells' codes, each cell's count and record-key sum. */
export function tableSql(request: CheckedRequest): Statement {
  return factsSql(request.measure, request.asOf, request.groupBy, request.filters);
}

export async function computeTable(store: Pool, request: CheckedRequest, disclosure: DisclosureParameters): Promise<PublishedTable> {
  const threshold = request.sensitive ? disclosure.sensitiveThreshold : disclosure.threshold;
  const publish = perturbation(threshold, disclosure.maxPerturbation);
  // From a cube kept for the date when one covers the request (the same counts and key sums), else the facts.
  const cube = await coveringCube(store, request);
  const { text, values } = cube ? cubeTableSql(cube, request) : tableSql(request);
  const { rows } = await store.query<Record<string, string | number>>(text, values);
  const dims = request.groupBy.map((name) => ({ name, dimension: request.measure.dimensions[name] }));
  const context = { asOf: request.asOf };
  const order = dims.map(({ dimension }) => (dimension.values ? new Map(dimension.values(context).map((v, i) => [v, i])) : null));
  const cells = rows
    .map((row) => ({ codes: dims.map((_, i) => String(row[`d${i}`])), count: publish.publish(Number(row.n), Number(row.k)) }))
    .filter((cell) => cell.count > 0)
    .sort((a, b) => {
      for (let i = 0; i < dims.length; i++) {
        const x = a.codes[i];
        const y = b.codes[i];
        if (x === y) continue;
        const rank = order[i];
        if (rank) return (rank.get(x) ?? Number.MAX_SAFE_INTEGER) - (rank.get(y) ?? Number.MAX_SAFE_INTEGER);
        return x < y ? -1 : 1;
      }
      return 0;
    })
    .map((cell) => ({
      values: cell.codes.map((code, i) => ({ dimension: dims[i].name, code, label: dims[i].dimension.label?.(code) ?? null })),
      count: cell.count,
    }));
  return {
    measure: request.name,
    dimensions: request.groupBy,
    asOf: request.asOf,
    cells,
    total: cells.reduce((sum, cell) => sum + cell.count, 0),
    threshold,
  };
}
