import { PROVINCES } from '../../lib/provinces';
import { sqlLiteral, type StoredCode } from '../../lib/code-table';
import { CARD_KIND, CARD_STATUS } from '../national-id/codes';

/** A valid card's stored status, as SQL: the statistics store keeps the agency's codes as they are. */
const CARD_VALID = sqlLiteral(CARD_STATUS, CARD_STATUS.encode('VALID'));

/**
 * The measures analysts may ask and the dimensions of each, as data: a new measure or dimension is an entry here
 * and an enum value in schema.graphql (test/statistics.test.ts holds the two equal). Each dimension is a SQL
 * expression over the measure's fact rows (text: the cell's code), its values (what a filter may name, and how
 * many cells it can make) and whether it is sensitive. `$1` in SQL is the reference date (asOf).
 *
 * SQL here is the only part of the statistics service that is specific to PostgreSQL: moving the store to Citus
 * changes nothing; to ClickHouse, these expressions (date functions) and the residence join.
 */
export interface DomainContext {
  /** The reference date, YYYY-MM-DD. */
  asOf: string;
}

export interface Dimension {
  /** The SQL expression of a row's value, as text. */
  sql: string;
  /** Joins the expression needs (Measure.joins). */
  joins?: readonly string[];
  /** Every value, in the order cells are listed (a closed dimension: filters are checked against them). */
  values?(context: DomainContext): readonly string[];
  /**
   * An open dimension (districts, ethnic groups, religions as recorded): filters are checked for form only and
   * cells listed in code order. Never checked against the values the store holds: whether a filter value is
   * refused must not tell whether anyone has it. The cardinality bounds its cells for STATISTICS_MAX_CELLS.
   */
  open?: { cardinality: number };
  /** How to say a value to a reader, where the code is not enough. */
  label?(code: string): string | null;
  /** What a filter value looks like, for the message when it is not one. */
  expected: string;
  /** A coarser dimension whose codes start this one's (BIRTH_YEAR for BIRTH_MONTH): its filter narrows this one's cells. */
  within?: string;
  /** SENSITIVE dimensions (ethnicity, religion) only for the purposes policy.ts allows, with a stricter threshold. */
  sensitive?: boolean;
}

/**
 * SQL that can be written two ways for the same rows. `each` looks up a counted row's related row by itself (a
 * LATERAL subquery with ORDER BY … LIMIT 1): right when few rows are counted, as when the refresh recounts a few
 * hundred units. `all` computes the related rows of every unit at once (DISTINCT ON, or GROUP BY, over the whole
 * table) and joins them: right for a table or a cube build over millions of rows, where a LATERAL is one random
 * index probe per row (at 8 million persons the population's cubes took 180 s that way). Both must give the same
 * rows, ties included: each breaks them by the same columns.
 */
export type TwoWays = string | { each: string; all: string };

export interface Measure {
  /** The Query field. */
  field: string;
  /** The fact table and its alias. */
  from: TwoWays;
  /** Who is counted at the reference date $1. */
  where: string;
  /** The record key column of the counted rows. */
  recordKey: string;
  joins: Readonly<Record<string, TwoWays>>;
  dimensions: Readonly<Record<string, Dimension>>;
  /**
   * The SQL of each counted row's units in the store: the person (`pid`), household (`hid`) or registration (`rid`)
   * whose facts decide the row. The refresh recounts the rows of the units it changes to keep the cubes in step
   * (subgraphs/statistics/cubes.ts), so every fact a row depends on must belong to a unit named here.
   */
  units: { pid?: string; hid?: string; rid?: string };
  /**
   * The cubes kept for the current date, each a list of dimensions (cubes.ts). By default one cube of every
   * dimension; a measure whose full combination would be nearly as many rows as its facts lists smaller ones.
   */
  cubes?: readonly (readonly string[])[];
}

const EARLIEST_YEAR = 1900;
/** The first reference date the statistics answer for. */
export const EARLIEST_AS_OF = `${EARLIEST_YEAR}-01-01`;

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const yearOf = (date: string) => Number(date.slice(0, 4));
const years = (c: DomainContext) => range(EARLIEST_YEAR, yearOf(c.asOf)).map(String);
const months = (c: DomainContext) => years(c).flatMap((y) => range(1, 12).map((m) => `${y}-${String(m).padStart(2, '0')}`)).filter((m) => m <= c.asOf.slice(0, 7));
const NONE = 'NONE';

const PROVINCE_VALUES = Object.keys(PROVINCES);
const provinceLabel = (code: string) => PROVINCES[code] ?? null;
const MAX_AGE = 130;
const AGES = range(0, MAX_AGE).map(String);
const AGE_BANDS = [...range(0, 19).map((i) => `${i * 5}-${i * 5 + 4}`), '100+'];
const SEX_VALUES = ['MALE', 'FEMALE'];
const SEX_SQL = (column: string) => `CASE ${column} WHEN 1 THEN 'MALE' ELSE 'FEMALE' END`;
/** Completed years of age at the reference date. */
const AGE_SQL = `date_part('year', age($1::date, p.ngay_sinh))::int`;

const province = (sql: string, joins?: string[]): Dimension => ({
  sql,
  joins,
  values: () => PROVINCE_VALUES,
  label: provinceLabel,
  expected: 'a province code of the national code table, e.g. "001"',
});

/**
 * A person's residence registration of a kind (P, T) in force at the reference date, the latest should two overlap
 * (then by province and district, so that both ways choose the same), joined as `alias` with these columns of it.
 */
function registrationInForce(kind: 'P' | 'T', pid: string, alias: string, columns: string, join: 'JOIN' | 'LEFT JOIN' = 'LEFT JOIN'): TwoWays {
  const inForce = `r.loai = '${kind}' AND r.tu_ngay <= $1::date AND (r.den_ngay IS NULL OR r.den_ngay > $1::date)`;
  const latest = 'r.tu_ngay DESC, r.ma_tinh DESC, r.quan_huyen DESC';
  return {
    each: `${join} LATERAL (SELECT ${columns} FROM st_cu_tru r WHERE r.pid = ${pid} AND ${inForce} ORDER BY ${latest} LIMIT 1) ${alias} ON true`,
    all: `${join} (SELECT DISTINCT ON (r.pid) r.pid, ${columns} FROM st_cu_tru r WHERE ${inForce} ORDER BY r.pid, ${latest}) ${alias} ON ${alias}.pid = ${pid}`,
  };
}

/** A table followed by a join of two ways: the two ways of both. */
const fromWith = (table: string, join: TwoWays): TwoWays =>
  typeof join === 'string' ? `${table} ${join}` : { each: `${table} ${join.each}`, all: `${table} ${join.all}` };

/** Permanent residence in force at the reference date. */
const PERMANENT_RESIDENCE = registrationInForce('P', 'p.pid', 'res', 'r.ma_tinh, r.quan_huyen');

/** The last permanent residence before or at death. */
const RESIDENCE_AT_DEATH = `LEFT JOIN LATERAL (
    SELECT r.ma_tinh FROM st_cu_tru r
     WHERE r.pid = p.pid AND r.loai = 'P' AND r.tu_ngay <= p.ngay_mat AND (r.den_ngay IS NULL OR r.den_ngay >= p.ngay_mat)
     ORDER BY r.tu_ngay DESC LIMIT 1) dres ON true`;
const AGE_AT_DEATH_SQL = `date_part('year', age(p.ngay_mat, p.ngay_sinh))::int`;

/** Members in force at the reference date: a household with none (dissolved, or not yet formed) is not counted. */
const IN_FORCE = (alias: string) => `${alias}.tu_ngay <= $1::date AND (${alias}.den_ngay IS NULL OR ${alias}.den_ngay > $1::date)`;
const HOUSEHOLD_SIZES = [...range(1, 9).map(String), '10+'];
const UNKNOWN = 'UNKNOWN';
/** A household's head at the reference date (the member recorded as head then) and their facts. */
const HOUSEHOLD_HEAD: TwoWays = {
  each: `LEFT JOIN LATERAL (
      SELECT m.pid FROM st_thanh_vien_ho m WHERE m.hid = hh.hid AND m.chu_ho AND ${IN_FORCE('m')}
       ORDER BY m.tu_ngay DESC, m.pid DESC LIMIT 1) hm ON true
    LEFT JOIN st_dan_so h ON h.pid = hm.pid`,
  all: `LEFT JOIN (
      SELECT DISTINCT ON (m.hid) m.hid, m.pid FROM st_thanh_vien_ho m WHERE m.chu_ho AND ${IN_FORCE('m')}
       ORDER BY m.hid, m.tu_ngay DESC, m.pid DESC) hm ON hm.hid = hh.hid
    LEFT JOIN st_dan_so h ON h.pid = hm.pid`,
};
const HEAD_AGE_SQL = `date_part('year', age($1::date, h.ngay_sinh))::int`;

const population: Measure = {
    field: 'populationStatistics',
    from: 'st_dan_so p',
    where: 'p.ngay_sinh <= $1::date AND (p.ngay_mat IS NULL OR p.ngay_mat > $1::date)',
    recordKey: 'p.rk',
    units: { pid: 'p.pid' },
    // One cube of all nine dimensions would hold nearly a row per person. These hold every grouping of up to three
    // dimensions that STATISTICS_MAX_CELLS allows (test/support/statistics-cubes.ts checks it), most with the province
    // of residence to filter on; a province or district pyramid is one cube.
    cubes: [
      ['RESIDENCE_PROVINCE', 'RESIDENCE_DISTRICT', 'SEX', 'AGE', 'AGE_BAND'],
      ['CODE_PROVINCE', 'SEX', 'AGE', 'AGE_BAND'],
      ['RESIDENCE_PROVINCE', 'CODE_PROVINCE', 'SEX', 'AGE_BAND'],
      ['RESIDENCE_PROVINCE', 'SEX', 'AGE', 'AGE_BAND', 'ETHNICITY'],
      ['RESIDENCE_PROVINCE', 'SEX', 'AGE', 'AGE_BAND', 'RELIGION'],
      ['RESIDENCE_PROVINCE', 'RESIDENCE_DISTRICT', 'SEX', 'RELIGION'],
      ['RESIDENCE_PROVINCE', 'SEX', 'ETHNICITY', 'RELIGION'],
      ['CODE_PROVINCE', 'SEX', 'ETHNICITY', 'RELIGION'],
    ],
    joins: { residence: PERMANENT_RESIDENCE },
    dimensions: {
      RESIDENCE_PROVINCE: {
        ...province(`coalesce(res.ma_tinh, '${NONE}')`, ['residence']),
        values: () => [...PROVINCE_VALUES, NONE],
        label: (code) => (code === NONE ? 'no permanent residence' : provinceLabel(code)),
        expected: `a province code of the national code table, e.g. "001", or "${NONE}"`,
      },
      RESIDENCE_DISTRICT: {
        sql: `coalesce(res.ma_tinh || '/' || res.quan_huyen, '${NONE}')`,
        joins: ['residence'],
        open: { cardinality: 1000 },
        label: (code) => (code === NONE ? 'no permanent residence' : `${code.slice(4)}, ${PROVINCES[code.slice(0, 3)] ?? code.slice(0, 3)}`),
        expected: `"<province code>/<district>", e.g. "001/Quận Ba Đình", or "${NONE}"`,
      },
      CODE_PROVINCE: {
        ...province(`CASE WHEN p.ma_tinh_ma < '100' THEN p.ma_tinh_ma ELSE 'ABROAD' END`),
        values: () => [...PROVINCE_VALUES, 'ABROAD'],
        label: (code) => (code === 'ABROAD' ? 'registered abroad' : provinceLabel(code)),
        expected: 'a province code of the national code table, e.g. "001", or "ABROAD"',
      },
      SEX: { sql: SEX_SQL('p.gioi_tinh'), values: () => SEX_VALUES, expected: 'MALE or FEMALE' },
      AGE: { sql: `${AGE_SQL}::text`, values: () => AGES, expected: `a whole number of years from 0 to ${MAX_AGE}, e.g. "42"` },
      AGE_BAND: {
        sql: `CASE WHEN ${AGE_SQL} >= 100 THEN '100+' ELSE (${AGE_SQL} / 5 * 5)::text || '-' || (${AGE_SQL} / 5 * 5 + 4)::text END`,
        values: () => AGE_BANDS,
        expected: '"0-4", "5-9", …, "95-99" or "100+"',
      },
      ETHNICITY: { sql: 'p.dan_toc', open: { cardinality: 60 }, expected: 'an ethnic group as recorded, e.g. "Kinh"', sensitive: true },
      RELIGION: {
        sql: `coalesce(p.ton_giao, '${NONE}')`,
        open: { cardinality: 20 },
        expected: `a religion as recorded, e.g. "Phật giáo", or "${NONE}"`,
        sensitive: true,
      },
    },
};

/** A card valid at the reference date: issued by then, not expired then, and its status not changed away from valid by then. */
const VALID_CARD = (t: string) =>
  `${t}.ngay_cap <= $1::date AND (${t}.ngay_het_han IS NULL OR ${t}.ngay_het_han > $1::date) AND (${t}.trang_thai = ${CARD_VALID} OR ${t}.ngay_trang_thai > $1::date)`;
const CARD_KINDS: Readonly<Record<string, { code: string; label: string }>> = {
  [CARD_KIND.encode('CHIP_ID')]: { code: 'CHIP', label: 'chip-based citizen identity card' },
  [CARD_KIND.encode('CITIZEN_ID')]: { code: 'CCCD_12', label: '12-digit citizen identity card' },
  [CARD_KIND.encode('LEGACY_ID')]: { code: 'CMND_9', label: 'legacy 9-digit identity card' },
};
/** The national-id agency's card statuses (its code table) other than valid, by stored code: the graph's status names. */
const CARD_STATUSES: Readonly<Record<string, string>> = Object.fromEntries(
  CARD_STATUS.codes.map((code) => [code, CARD_STATUS.decode(code)]).filter(([, status]) => status !== 'VALID'),
);
/** The holder's permanent residence in force at the reference date. */
const HOLDER_RESIDENCE = registrationInForce('P', 't.pid', 'hres', 'r.ma_tinh');
const residenceProvince = (sql: string): Dimension => ({
  ...province(`coalesce(${sql}, '${NONE}')`, ['residence']),
  values: () => [...PROVINCE_VALUES, NONE],
  label: (code) => (code === NONE ? 'no permanent residence' : provinceLabel(code)),
  expected: `a province code of the national code table, e.g. "001", or "${NONE}"`,
});
const MINIMUM_CARD_AGE = 14;
/** From this day on every birth has a birth registration (the registry's start): an older citizen without one is no finding. */
export const BIRTH_REGISTRY_START = '2000-01-01';
/** The data-quality findings across agencies: each a code and what it means. */
const FINDINGS: Readonly<Record<string, string>> = {
  CODE_DISAGREES: "a citizen whose personal code's sex/century or birth-year digits disagree with the record",
  NO_BIRTH_REGISTRATION: 'a citizen born since the birth registry began with no birth registration naming them',
  REGISTRATION_WITHOUT_CITIZEN: 'a birth registration whose child has no citizen record',
  CARD_OF_DECEASED: 'a card still valid whose holder has died',
};

export const MEASURES: Readonly<Record<string, Measure>> = {
  population,
  identityCards: {
    field: 'identityCardStatistics',
    from: 'st_the t',
    where: 't.ngay_cap <= $1::date',
    recordKey: 't.rk',
    units: { pid: 't.pid' },
    joins: { residence: HOLDER_RESIDENCE, holder: 'LEFT JOIN st_dan_so h ON h.pid = t.pid' },
    dimensions: {
      KIND: {
        sql: `CASE t.loai ${Object.entries(CARD_KINDS).map(([kind, { code }]) => `WHEN '${kind}' THEN '${code}'`).join(' ')} END`,
        values: () => Object.values(CARD_KINDS).map((k) => k.code),
        label: (code) => Object.values(CARD_KINDS).find((k) => k.code === code)?.label ?? null,
        expected: 'CHIP, CCCD_12 or CMND_9',
      },
      STATUS: {
        sql: `CASE WHEN t.trang_thai <> ${CARD_VALID} AND t.ngay_trang_thai <= $1::date
                   THEN CASE t.trang_thai ${Object.entries(CARD_STATUSES).map(([status, code]) => `WHEN ${sqlLiteral(CARD_STATUS, status as StoredCode<typeof CARD_STATUS>)} THEN '${code}'`).join(' ')} END
                   WHEN t.ngay_het_han IS NOT NULL AND t.ngay_het_han <= $1::date THEN 'EXPIRED' ELSE 'VALID' END`,
        values: () => ['VALID', ...Object.values(CARD_STATUSES)],
        expected: 'VALID, EXPIRED, LOST, REVOKED or REPLACED',
      },
      RESIDENCE_PROVINCE: residenceProvince('hres.ma_tinh'),
      HOLDER_SEX: { sql: `CASE h.gioi_tinh WHEN 1 THEN 'MALE' WHEN 2 THEN 'FEMALE' ELSE '${UNKNOWN}' END`, joins: ['holder'], values: () => [...SEX_VALUES, UNKNOWN], expected: `MALE, FEMALE or ${UNKNOWN}` },
    },
  },
  citizensWithoutValidCard: {
    field: 'citizensWithoutValidCardStatistics',
    from: 'st_dan_so p',
    where: `p.ngay_sinh <= ($1::date - interval '${MINIMUM_CARD_AGE} years') AND (p.ngay_mat IS NULL OR p.ngay_mat > $1::date)
      AND NOT EXISTS (SELECT 1 FROM st_the t WHERE t.pid = p.pid AND ${VALID_CARD('t')})`,
    recordKey: 'p.rk',
    units: { pid: 'p.pid' },
    joins: population.joins,
    dimensions: {
      RESIDENCE_PROVINCE: population.dimensions.RESIDENCE_PROVINCE,
      CODE_PROVINCE: population.dimensions.CODE_PROVINCE,
      SEX: population.dimensions.SEX,
      AGE: population.dimensions.AGE,
      AGE_BAND: population.dimensions.AGE_BAND,
    },
  },
  moves: {
    field: 'migrationStatistics',
    // A move: a permanent registration in another province than the person's previous permanent registration.
    from: `(SELECT r.pid, r.tu_ngay, r.ma_tinh AS destination,
                   lag(r.ma_tinh) OVER (PARTITION BY r.pid ORDER BY r.tu_ngay) AS origin
              FROM st_cu_tru r WHERE r.loai = 'P' AND r.tu_ngay <= $1::date) mv
      JOIN st_dan_so p ON p.pid = mv.pid`,
    where: 'mv.origin IS NOT NULL AND mv.origin <> mv.destination',
    recordKey: 'p.rk',
    // mv.pid, not p.pid: a condition on a partitioning column of the window reaches inside it.
    units: { pid: 'mv.pid' },
    // One cube of all five would hold nearly a row per move; these three hold every grouping the cell limit allows.
    cubes: [
      ['YEAR', 'ORIGIN_PROVINCE', 'SEX', 'AGE_BAND'],
      ['YEAR', 'DESTINATION_PROVINCE', 'SEX', 'AGE_BAND'],
      ['ORIGIN_PROVINCE', 'DESTINATION_PROVINCE', 'SEX'],
    ],
    joins: {},
    dimensions: {
      YEAR: { sql: `to_char(mv.tu_ngay, 'YYYY')`, values: years, expected: 'a year, e.g. "2024"' },
      ORIGIN_PROVINCE: province('mv.origin'),
      DESTINATION_PROVINCE: province('mv.destination'),
      SEX: population.dimensions.SEX,
      AGE_BAND: {
        sql: `CASE WHEN date_part('year', age(mv.tu_ngay, p.ngay_sinh)) >= 100 THEN '100+'
                   ELSE (date_part('year', age(mv.tu_ngay, p.ngay_sinh))::int / 5 * 5)::text || '-' || (date_part('year', age(mv.tu_ngay, p.ngay_sinh))::int / 5 * 5 + 4)::text END`,
        values: () => AGE_BANDS,
        expected: '"0-4", "5-9", …, "95-99" or "100+" (age at the move)',
      },
    },
  },
  temporaryResidents: {
    field: 'temporaryResidentStatistics',
    from: fromWith('st_dan_so p', registrationInForce('T', 'p.pid', 'tmp', 'r.ma_tinh', 'JOIN')),
    where: population.where,
    recordKey: 'p.rk',
    units: { pid: 'p.pid' },
    joins: population.joins,
    dimensions: {
      PROVINCE: province('tmp.ma_tinh'),
      PERMANENT_PROVINCE: population.dimensions.RESIDENCE_PROVINCE,
      SEX: population.dimensions.SEX,
      AGE_BAND: population.dimensions.AGE_BAND,
    },
  },
  dataQuality: {
    field: 'dataQualityStatistics',
    // One row per finding, whatever its unit (a person, a registration, a card), with that unit's record key, and
    // the person and registration whose facts decide it (for the cubes' upkeep).
    from: `(
      SELECT 'CODE_DISAGREES' AS finding, p.rk, p.ma_tinh_ma AS province, to_char(p.ngay_sinh, 'YYYY') AS year, p.pid, NULL::bytea AS rid FROM st_dan_so p
       WHERE p.ma_lech AND p.ngay_sinh <= $1::date
      UNION ALL
      SELECT 'NO_BIRTH_REGISTRATION', p.rk, p.ma_tinh_ma, to_char(p.ngay_sinh, 'YYYY'), p.pid, NULL FROM st_dan_so p
       WHERE p.ngay_sinh >= DATE '${BIRTH_REGISTRY_START}' AND p.ngay_sinh <= $1::date
         AND NOT EXISTS (SELECT 1 FROM st_khai_sinh b WHERE b.child_pid = p.pid AND b.ngay_dang_ky <= $1::date)
      UNION ALL
      SELECT 'REGISTRATION_WITHOUT_CITIZEN', b.rk, b.ma_tinh, to_char(b.ngay_sinh, 'YYYY'), b.child_pid, b.rid FROM st_khai_sinh b
       WHERE b.ngay_dang_ky <= $1::date AND (b.child_pid IS NULL OR NOT EXISTS (SELECT 1 FROM st_dan_so p WHERE p.pid = b.child_pid))
      UNION ALL
      SELECT 'CARD_OF_DECEASED', t.rk, p.ma_tinh_ma, to_char(t.ngay_cap, 'YYYY'), t.pid, NULL FROM st_the t JOIN st_dan_so p ON p.pid = t.pid
       WHERE p.ngay_mat <= $1::date AND ${VALID_CARD('t')}
    ) q`,
    where: 'true',
    recordKey: 'q.rk',
    units: { pid: 'q.pid', rid: 'q.rid' },
    joins: {},
    dimensions: {
      FINDING: {
        sql: 'q.finding',
        values: () => Object.keys(FINDINGS),
        label: (code) => FINDINGS[code] ?? null,
        expected: Object.keys(FINDINGS).join(', '),
      },
      CODE_PROVINCE: {
        ...province(`CASE WHEN q.province < '100' THEN q.province ELSE 'ABROAD' END`),
        values: () => [...PROVINCE_VALUES, 'ABROAD'],
        label: (code) => (code === 'ABROAD' ? 'registered abroad' : provinceLabel(code)),
        expected: 'a province code of the national code table, e.g. "001", or "ABROAD"',
      },
      YEAR: { sql: 'q.year', values: years, expected: 'a year, e.g. "2024"' },
    },
  },
  deaths: {
    field: 'deathStatistics',
    from: 'st_dan_so p',
    where: 'p.ngay_mat IS NOT NULL AND p.ngay_mat <= $1::date',
    recordKey: 'p.rk',
    units: { pid: 'p.pid' },
    joins: { residence: RESIDENCE_AT_DEATH },
    dimensions: {
      DEATH_YEAR: { sql: `to_char(p.ngay_mat, 'YYYY')`, values: years, expected: 'a year, e.g. "2024"' },
      DEATH_MONTH: { sql: `to_char(p.ngay_mat, 'YYYY-MM')`, values: months, within: 'DEATH_YEAR', expected: 'a month as YYYY-MM, e.g. "2024-03"' },
      AGE_AT_DEATH: { sql: `${AGE_AT_DEATH_SQL}::text`, values: () => AGES, expected: `a whole number of years from 0 to ${MAX_AGE}, e.g. "42"` },
      AGE_BAND_AT_DEATH: {
        sql: `CASE WHEN ${AGE_AT_DEATH_SQL} >= 100 THEN '100+' ELSE (${AGE_AT_DEATH_SQL} / 5 * 5)::text || '-' || (${AGE_AT_DEATH_SQL} / 5 * 5 + 4)::text END`,
        values: () => AGE_BANDS,
        expected: '"0-4", "5-9", …, "95-99" or "100+"',
      },
      SEX: { sql: SEX_SQL('p.gioi_tinh'), values: () => SEX_VALUES, expected: 'MALE or FEMALE' },
      RESIDENCE_PROVINCE: {
        ...province(`coalesce(dres.ma_tinh, '${NONE}')`, ['residence']),
        values: () => [...PROVINCE_VALUES, NONE],
        label: (code) => (code === NONE ? 'no permanent residence' : provinceLabel(code)),
        expected: `a province code of the national code table, e.g. "001", or "${NONE}"`,
      },
      CODE_PROVINCE: {
        ...province(`CASE WHEN p.ma_tinh_ma < '100' THEN p.ma_tinh_ma ELSE 'ABROAD' END`),
        values: () => [...PROVINCE_VALUES, 'ABROAD'],
        label: (code) => (code === 'ABROAD' ? 'registered abroad' : provinceLabel(code)),
        expected: 'a province code of the national code table, e.g. "001", or "ABROAD"',
      },
    },
  },
  households: {
    field: 'householdStatistics',
    // The size at the reference date comes with every row: it also decides whether the household existed then.
    from: {
      each: `st_ho hh JOIN LATERAL (SELECT count(*)::int AS n FROM st_thanh_vien_ho m WHERE m.hid = hh.hid AND ${IN_FORCE('m')}) sz ON sz.n > 0`,
      all: `st_ho hh JOIN (SELECT m.hid, count(*)::int AS n FROM st_thanh_vien_ho m WHERE ${IN_FORCE('m')} GROUP BY m.hid) sz ON sz.hid = hh.hid`,
    },
    where: 'hh.ngay_lap <= $1::date',
    recordKey: 'hh.rk',
    units: { hid: 'hh.hid' },
    joins: { head: HOUSEHOLD_HEAD },
    dimensions: {
      SIZE: {
        sql: `CASE WHEN sz.n >= 10 THEN '10+' ELSE sz.n::text END`,
        values: () => HOUSEHOLD_SIZES,
        expected: '"1" to "9" or "10+" (members at the reference date)',
      },
      HEAD_SEX: {
        sql: `CASE h.gioi_tinh WHEN 1 THEN 'MALE' WHEN 2 THEN 'FEMALE' ELSE '${UNKNOWN}' END`,
        joins: ['head'],
        values: () => [...SEX_VALUES, UNKNOWN],
        label: (code) => (code === UNKNOWN ? 'no head recorded at the reference date' : null),
        expected: `MALE, FEMALE or ${UNKNOWN}`,
      },
      HEAD_AGE: {
        sql: `coalesce(${HEAD_AGE_SQL}::text, '${UNKNOWN}')`,
        joins: ['head'],
        values: () => [...AGES, UNKNOWN],
        expected: `a whole number of years from 0 to ${MAX_AGE}, e.g. "42", or ${UNKNOWN}`,
      },
      HEAD_AGE_BAND: {
        sql: `CASE WHEN h.pid IS NULL THEN '${UNKNOWN}' WHEN ${HEAD_AGE_SQL} >= 100 THEN '100+' ELSE (${HEAD_AGE_SQL} / 5 * 5)::text || '-' || (${HEAD_AGE_SQL} / 5 * 5 + 4)::text END`,
        joins: ['head'],
        values: () => [...AGE_BANDS, UNKNOWN],
        expected: `"0-4", "5-9", …, "95-99", "100+" or ${UNKNOWN}`,
      },
      PROVINCE: province('hh.ma_tinh'),
    },
  },
  births: {
    field: 'birthStatistics',
    from: 'st_khai_sinh b',
    where: 'b.ngay_dang_ky <= $1::date',
    recordKey: 'b.rk',
    units: { rid: 'b.rid' },
    joins: {},
    dimensions: {
      BIRTH_YEAR: { sql: `to_char(b.ngay_sinh, 'YYYY')`, values: years, expected: 'a year, e.g. "2024"' },
      BIRTH_MONTH: { sql: `to_char(b.ngay_sinh, 'YYYY-MM')`, values: months, within: 'BIRTH_YEAR', expected: 'a month as YYYY-MM, e.g. "2024-03"' },
      REGISTRATION_YEAR: { sql: `to_char(b.ngay_dang_ky, 'YYYY')`, values: years, expected: 'a year, e.g. "2024"' },
      REGISTRATION_MONTH: { sql: `to_char(b.ngay_dang_ky, 'YYYY-MM')`, values: months, within: 'REGISTRATION_YEAR', expected: 'a month as YYYY-MM, e.g. "2024-03"' },
      PROVINCE: province('b.ma_tinh'),
      SEX: { sql: SEX_SQL('b.gioi_tinh'), values: () => SEX_VALUES, expected: 'MALE or FEMALE' },
      REGISTRATION_DELAY: {
        sql: `CASE WHEN b.ngay_dang_ky - b.ngay_sinh <= 60 THEN '0-60' WHEN b.ngay_dang_ky - b.ngay_sinh <= 365 THEN '61-365' ELSE '366+' END`,
        values: () => ['0-60', '61-365', '366+'],
        label: (code) => ({ '0-60': 'within the legal 60 days', '61-365': 'late, within a year', '366+': 'more than a year late' })[code] ?? null,
        expected: '"0-60", "61-365" or "366+" (days from birth to registration)',
      },
    },
  },
};

/** The measure a Query field answers. */
export function measureOf(field: string): Measure {
  const measure = Object.values(MEASURES).find((m) => m.field === field);
  if (!measure) throw new Error(`no measure answers ${field}`);
  return measure;
}
