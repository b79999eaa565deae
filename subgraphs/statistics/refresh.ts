import type { Pool, PoolClient } from 'pg';
import { AGENCIES, type Agency } from '../../lib/agencies';
import { STATISTICS_SOURCE_COLUMNS } from '../../lib/database-roles';
import { PSEUDONYM_SCHEME, type Pseudonymiser } from './pseudonyms';
import { buildCubes, keptDate, recountUnits, type Units } from './cubes';
import { timed } from './timed';
import { formatDate } from '../../lib/graphql/scalars';
import { codeDiscrepancies } from '../../lib/personal-code';
import { sqlLiteral } from '../../lib/code-table';
import { RELATIONSHIP, RESIDENCE_KIND, RESIDENCE_STATUS } from '../residents/codes';
import { CARD_STATUS } from '../national-id/codes';

/** The agencies the read model is built from: those whose columns the statistics role may read (an agency added later gives it nothing until it is listed there). */
const SOURCES = AGENCIES.filter((agency) => STATISTICS_SOURCE_COLUMNS[agency.id] !== undefined);

/**
 * Keeps the statistics read model in step with the agencies (docs/DESIGN.md "Statistics"): built from scratch
 * when a source has never been read, then brought forward from each agency's change log. Every agency write
 * leaves an entry naming the person (or the registration) in the same transaction as the write, so re-reading
 * the facts of the persons named since the last entry applied, and replacing their rows, is enough; replacing is
 * idempotent, so an entry applied twice (after a rebuild that already saw it) does no harm. Refreshers in several
 * processes take turns (an advisory lock in the store); the facts and how far each log was applied commit together.
 */
export type SourcePools = Record<Agency['id'], Pool>;

export interface RefreshOptions {
  /** Build the read model from scratch even if every source has been read. */
  rebuild?: boolean;
  /** The current date, whose cubes are kept (tests move it); the clock's by default. */
  today?: Date;
  /** Where a rebuild and a build of the cubes say how long each part took. */
  log?: (line: string) => void;
}

export interface RefreshResult {
  /** Whether this run built the model from scratch. */
  rebuilt: boolean;
  /** Change-log entries applied, per agency. */
  applied: Record<Agency['id'], number>;
  /** When this run built the day's cubes: each cube's rows; null when it kept them in step. */
  cubesBuilt: Record<string, number> | null;
}

const PAGE = 20_000;

/**
 * Which rows of a source table a write reads: those with these keys (a refresh: what is stored for them is replaced),
 * or one page of a rebuild by key range, `after` < key <= `through` (written into tables the rebuild has emptied:
 * only inserted, with no delete by key first).
 */
type Selection = { keys: readonly string[] } | { after: string; through: string };

/** The condition of a selection on `column` (`type`: the column's type, for the array of keys). */
function selected(column: string, type: string, selection: Selection, params: unknown[]): string {
  if ('keys' in selection) {
    params.push(selection.keys);
    return `${column} = ANY($${params.length}::${type}[])`;
  }
  params.push(selection.after, selection.through);
  return `${column} > $${params.length - 1} AND ${column} <= $${params.length}`;
}

/** The tables of facts a rebuild empties and writes again. */
const FACT_TABLES = ['st_dan_so', 'st_cu_tru', 'st_the', 'st_ho', 'st_thanh_vien_ho', 'st_khai_sinh'];
const LOG_PAGE = 10_000;

interface LogHead {
  id: string;
  at: string | null;
}

export async function refreshStatistics(
  store: Pool,
  sources: SourcePools,
  pseudonyms: Pseudonymiser,
  options: RefreshOptions = {},
): Promise<RefreshResult> {
  const client = await store.connect();
  try {
    await client.query('BEGIN');
    // Long enough for a rebuild at national scale; the lock makes other refreshers wait their turn.
    await client.query(`SET LOCAL statement_timeout = 0`);
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('citizen-graph:statistics-refresh'))`);
    const sourcesRead = (await client.query<{ nguon: string; ma_nhat_ky: string; scheme: number }>('SELECT nguon, ma_nhat_ky::text, so_do_bi_danh AS scheme FROM st_nguon')).rows;
    const known = new Map(sourcesRead.map((r) => [r.nguon, r.ma_nhat_ky]));
    const log = options.log ?? (() => undefined);
    // From scratch when asked, when a source was never read, or when the pseudonyms were computed another way.
    const rebuild = options.rebuild === true || SOURCES.some((a) => !known.has(a.id)) || sourcesRead.some((r) => r.scheme !== PSEUDONYM_SCHEME);
    const applied = { residents: 0, 'national-id': 0, 'birth-registry': 0 } as Record<Agency['id'], number>;
    // The cubes are today's (cubes.ts): kept in step while they are, built afresh (after the changes) when not.
    const today = formatDate(options.today ?? new Date());
    const kept = rebuild ? null : await keptDate(client);
    const cubesCurrent = kept !== null && kept.date === today && kept.complete;
    if (rebuild) {
      await buildFromScratch(client, sources, pseudonyms, log);
    } else {
      for (const agency of SOURCES) {
        applied[agency.id] = await applyChangeLog(client, agency.id, BigInt(known.get(agency.id)!), sources, pseudonyms, cubesCurrent ? today : null);
      }
    }
    const cubes = cubesCurrent ? null : await buildCubes(client, today, log);
    await client.query('COMMIT');
    return { rebuilt: rebuild, applied, cubesBuilt: cubes };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function logHead(source: Pool): Promise<LogHead> {
  const { rows } = await source.query<{ id: string | null; at: Date | null }>(
    'SELECT id::text, thoi_diem AS at FROM cg_nhat_ky_thay_doi ORDER BY id DESC LIMIT 1',
  );
  return { id: rows[0]?.id ?? '0', at: rows[0]?.at?.toISOString() ?? null };
}

async function markSource(client: PoolClient, agency: string, head: LogHead, built: boolean): Promise<void> {
  await client.query(
    `INSERT INTO st_nguon (nguon, ma_nhat_ky, thoi_diem_nhat_ky, lam_moi_luc, xay_dung_luc, so_do_bi_danh)
     VALUES ($1, $2, coalesce($3::timestamptz, now()), now(), now(), $5)
     ON CONFLICT (nguon) DO UPDATE SET ma_nhat_ky = EXCLUDED.ma_nhat_ky, so_do_bi_danh = EXCLUDED.so_do_bi_danh,
       thoi_diem_nhat_ky = coalesce($3::timestamptz, st_nguon.thoi_diem_nhat_ky), lam_moi_luc = now(),
       xay_dung_luc = CASE WHEN $4 THEN now() ELSE st_nguon.xay_dung_luc END`,
    [agency, head.id, head.at, built, PSEUDONYM_SCHEME],
  );
}

/**
 * Every source read once, page by page by primary key, after noting each change log's head. The facts' tables are
 * emptied with TRUNCATE and loaded without their indexes, which are built again once the rows are in: one sort per
 * index instead of 40 million insertions at random places of B-trees keyed by random pseudonyms (and, with
 * wal_level=minimal, a table truncated in this transaction is written without WAL). Both need the statistics role to
 * own its store's tables (lib/database-roles.ts). Until the rebuild commits, statistics requests that need the facts
 * wait for it (TRUNCATE's lock), and time out as a statement would; those a cube of the day answers do not.
 */
async function buildFromScratch(client: PoolClient, sources: SourcePools, pseudonyms: Pseudonymiser, log: (line: string) => void): Promise<void> {
  // The heads first: a change made while the build reads is applied by the next refresh (again, harmlessly).
  const heads = {} as Record<Agency['id'], LogHead>;
  for (const agency of SOURCES) heads[agency.id] = await logHead(sources[agency.id]);
  await client.query(`TRUNCATE ${FACT_TABLES.join(', ')}`);
  await withoutIndexes(client, FACT_TABLES, log, async () => {
    await timed(log, 'persons and residences written', () =>
      pageByPage(
        (after) => sources.residents.query<{ key: string }>('SELECT so_dinh_danh AS key FROM cong_dan WHERE so_dinh_danh > $1 ORDER BY so_dinh_danh LIMIT $2', [after, PAGE]),
        '',
        (page) => writePersons(client, sources.residents, pseudonyms, page),
      ),
    );
    await timed(log, 'households and members written', () =>
      pageByPage(
        (after) => sources.residents.query<{ key: string }>('SELECT so_ho AS key FROM ho_gia_dinh WHERE so_ho > $1 ORDER BY so_ho LIMIT $2', [after, PAGE]),
        '',
        (page) => writeHouseholds(client, sources.residents, pseudonyms, page),
      ),
    );
    await timed(log, 'identity cards written', () =>
      pageByPage(
        (after) => sources['national-id'].query<{ key: string }>('SELECT id::text AS key FROM the_can_cuoc WHERE id > $1 ORDER BY id LIMIT $2', [after, PAGE]),
        '0',
        (page) => writeCards(client, sources, pseudonyms, page),
      ),
    );
    await timed(log, 'birth registrations written', () =>
      pageByPage(
        (after) => sources['birth-registry'].query<{ key: string }>('SELECT id::text AS key FROM dang_ky_khai_sinh WHERE id > $1 ORDER BY id LIMIT $2', [after, PAGE]),
        '0',
        (page) => writeBirths(client, sources['birth-registry'], pseudonyms, page),
      ),
    );
  });
  // The planner's statistics of the tables as written, not as the empty tables they were: the cubes are counted
  // from them next, in this transaction, before autovacuum could see a row (ANALYZE counts this transaction's own).
  await client.query(`ANALYZE ${FACT_TABLES.join(', ')}`);
  for (const agency of SOURCES) await markSource(client, agency.id, heads[agency.id], true);
}

/**
 * The tables' indexes (primary keys included) dropped, `load` run, and the same indexes built again from the
 * definitions the catalog gave: the migrations stay their one source.
 */
async function withoutIndexes(client: PoolClient, tables: readonly string[], log: (line: string) => void, load: () => Promise<void>): Promise<void> {
  const { rows } = await client.query<{ table: string; index: string; definition: string; constraint: string | null; constraintDefinition: string | null }>(
    `SELECT t.relname AS table, i.relname AS index, pg_get_indexdef(i.oid) AS definition,
            c.conname AS constraint, pg_get_constraintdef(c.oid) AS "constraintDefinition"
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u')
      WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1::text[])
      ORDER BY t.relname, i.relname`,
    [tables],
  );
  const ident = (name: string) => client.escapeIdentifier(name);
  for (const index of rows) {
    await client.query(index.constraint ? `ALTER TABLE ${ident(index.table)} DROP CONSTRAINT ${ident(index.constraint)}` : `DROP INDEX ${ident(index.index)}`);
  }
  await load();
  await timed(log, `${rows.length} indexes built`, async () => {
    for (const index of rows) {
      await client.query(
        index.constraint ? `ALTER TABLE ${ident(index.table)} ADD CONSTRAINT ${ident(index.constraint)} ${index.constraintDefinition}` : index.definition,
      );
    }
  });
}

/**
 * A source table read in pages by key, each page written while the next is read: the page's own reads of the
 * agency and its writes to the store are on two connections (two PostgreSQL backends, two cores), so two pages in
 * flight keep both busy, where one at a time would leave one idle. The store's writes still go one after another
 * through its single connection (the transaction's), in page order. `read` gives the next page's keys in order;
 * `write` is given the page as a key range.
 */
async function pageByPage(
  read: (after: string) => Promise<{ rows: { key: string }[] }>,
  first: string,
  write: (page: { after: string; through: string }) => Promise<void>,
): Promise<void> {
  let after = first;
  const inFlight: Promise<void>[] = [];
  try {
    for (;;) {
      const { rows } = await read(after);
      if (rows.length === 0) break;
      const through = rows[rows.length - 1].key;
      const current = write({ after, through });
      current.catch(() => undefined); // awaited below; a failure is not "unhandled" meanwhile
      inFlight.push(current);
      // Two pages in flight at most: this one starting, the one before finishing.
      if (inFlight.length > 1) await inFlight.shift();
      after = through;
    }
    while (inFlight.length > 0) await inFlight.shift();
  } finally {
    // Whatever failed, nothing is left running on the transaction's connection when the caller rolls it back.
    await Promise.allSettled(inFlight);
  }
}

/** The entries after `from` of one agency's change log: the persons and registrations they name, re-read. */
async function applyChangeLog(
  client: PoolClient,
  agency: Agency['id'],
  from: bigint,
  sources: SourcePools,
  pseudonyms: Pseudonymiser,
  cubeDate: string | null,
): Promise<number> {
  let last = from;
  let lastAt: string | null = null;
  let applied = 0;
  for (;;) {
    const { rows } = await sources[agency].query<{ id: string; at: Date; table: string; key: string; code: string | null }>(
      `SELECT id::text, thoi_diem AS at, bang AS table, khoa AS key, so_dinh_danh AS code
         FROM cg_nhat_ky_thay_doi WHERE id > $1 ORDER BY id LIMIT $2`,
      [last.toString(), LOG_PAGE],
    );
    if (rows.length === 0) break;
    if (agency === 'residents') {
      const codes = rows.flatMap((r) => [r.code, r.table === 'cong_dan' || r.table === 'so_dinh_danh' ? r.key : null]).filter((c): c is string => !!c && /^\d{12}$/.test(c));
      const persons = await personCodes(sources.residents, [...new Set(codes)]);
      const named = rows.filter((r) => r.table === 'ho_gia_dinh').map((r) => r.key);
      const households = await householdsOf(sources.residents, persons.all, named);
      const units = await unitsOf(client, pseudonyms, { codes: persons.all, households });
      await recounted(client, cubeDate, units, async () => {
        await replacePersons(client, sources.residents, pseudonyms, persons);
        await writeHouseholds(client, sources.residents, pseudonyms, { keys: households });
        // A re-issued code moves the person's cards to their new pseudonym.
        await replaceCards(client, sources, pseudonyms, persons.all);
      });
    } else if (agency === 'birth-registry') {
      const numbers = [...new Set(rows.filter((r) => r.table === 'dang_ky_khai_sinh').map((r) => r.key))];
      const units = await birthUnits(client, sources['birth-registry'], pseudonyms, numbers);
      await recounted(client, cubeDate, units, () => writeBirths(client, sources['birth-registry'], pseudonyms, { keys: numbers }));
    }
    if (agency === 'national-id') {
      const holders = rows.map((r) => r.code).filter((c): c is string => !!c && /^\d{12}$/.test(c));
      const persons = await personCodes(sources.residents, [...new Set(holders)]);
      const units = await unitsOf(client, pseudonyms, { codes: persons.all, households: [] });
      await recounted(client, cubeDate, units, () => replaceCards(client, sources, pseudonyms, persons.all));
    }
    applied += rows.length;
    last = BigInt(rows[rows.length - 1].id);
    lastAt = rows[rows.length - 1].at.toISOString();
  }
  await markSource(client, agency, { id: last.toString(), at: lastAt }, false);
  return applied;
}

/** Every code the persons holding these codes have held (`all`), and the code each holds now (`current`). */
async function personCodes(residents: Pool, codes: string[]): Promise<{ all: string[]; current: string[] }> {
  if (codes.length === 0) return { all: [], current: [] };
  const { rows } = await residents.query<{ code: string; current: string }>(
    `SELECT s.so_dinh_danh AS code, s.so_dinh_danh_hien_hanh AS current FROM so_dinh_danh s
      WHERE s.so_dinh_danh_hien_hanh IN (SELECT so_dinh_danh_hien_hanh FROM so_dinh_danh WHERE so_dinh_danh = ANY($1::char(12)[]))`,
    [codes],
  );
  return { all: [...new Set([...codes, ...rows.map((r) => r.code)])], current: [...new Set(rows.map((r) => r.current))] };
}

/**
 * The persons' facts replaced: a re-issued code moves the person to a new pseudonym, so the rows under every code
 * they have held go, and their facts come back under the code in force.
 */
async function replacePersons(client: PoolClient, residents: Pool, pseudonyms: Pseudonymiser, persons: { all: string[]; current: string[] }): Promise<void> {
  if (persons.all.length === 0) return;
  const pids = pseudonyms.pids(persons.all);
  await client.query('DELETE FROM st_cu_tru WHERE pid = ANY($1::bytea[])', [pids]);
  await client.query('DELETE FROM st_dan_so WHERE pid = ANY($1::bytea[])', [pids]);
  await writePersons(client, residents, pseudonyms, { keys: persons.current });
}

/**
 * The units whose counted rows the facts of these persons and households decide (cubes.ts): the persons, the
 * households named, and every household the store has them in (as head, their facts decide its row).
 */
async function unitsOf(client: PoolClient, pseudonyms: Pseudonymiser, changed: { codes: string[]; households: string[] }): Promise<Units> {
  const pids = pseudonyms.pids(changed.codes);
  const hids = pseudonyms.pids(changed.households.map((number) => `household:${number}`));
  if (pids.length > 0) {
    const { rows } = await client.query<{ hid: Buffer }>('SELECT DISTINCT hid FROM st_thanh_vien_ho WHERE pid = ANY($1::bytea[])', [pids]);
    hids.push(...rows.map((r) => r.hid));
  }
  return { pids, hids, rids: [] };
}

/** The units of these birth registrations: the registrations, and their children as the store and the registry name them. */
async function birthUnits(client: PoolClient, registry: Pool, pseudonyms: Pseudonymiser, numbers: string[]): Promise<Units> {
  if (numbers.length === 0) return { pids: [], hids: [], rids: [] };
  const rids = pseudonyms.pids(numbers.map((n) => `birth:${n}`));
  const stored = await client.query<{ pid: Buffer }>('SELECT child_pid AS pid FROM st_khai_sinh WHERE rid = ANY($1::bytea[]) AND child_pid IS NOT NULL', [rids]);
  const recorded = await registry.query<{ code: string }>(
    'SELECT so_dinh_danh_tre AS code FROM dang_ky_khai_sinh WHERE so_dang_ky = ANY($1::text[]) AND so_dinh_danh_tre IS NOT NULL',
    [numbers],
  );
  return { pids: [...stored.rows.map((r) => r.pid), ...pseudonyms.pids(recorded.rows.map((r) => r.code))], hids: [], rids };
}

/** A change of facts with the cubes kept in step around it: the units' rows subtracted before, added back after. */
async function recounted(client: PoolClient, cubeDate: string | null, units: Units, change: () => Promise<void>): Promise<void> {
  await recountUnits(client, cubeDate, units, -1);
  await change();
  await recountUnits(client, cubeDate, units, 1);
}

/** Inserts the facts of these citizens (by current code) and their residence registrations. */
async function writePersons(client: PoolClient, residents: Pool, pseudonyms: Pseudonymiser, which: Selection): Promise<void> {
  if ('keys' in which && which.keys.length === 0) return;
  const params: unknown[] = [];
  const people = await residents.query<{ code: string; sex: number; born: string; died: string | null; ethnicity: string; religion: string | null }>(
    `SELECT so_dinh_danh AS code, gioi_tinh AS sex, ngay_sinh::text AS born, ngay_mat::text AS died, dan_toc AS ethnicity, ton_giao AS religion
       FROM cong_dan WHERE ${selected('so_dinh_danh', 'char(12)', which, params)}`,
    params,
  );
  if (people.rows.length === 0) return;
  await client.query(
    `INSERT INTO st_dan_so (pid, rk, gioi_tinh, ngay_sinh, ma_tinh_ma, ngay_mat, dan_toc, ton_giao, ma_lech)
     SELECT * FROM unnest($1::bytea[], $2::smallint[], $3::smallint[], $4::date[], $5::char(3)[], $6::date[], $7::text[], $8::text[], $9::boolean[])`,
    [
      pseudonyms.pids(people.rows.map((p) => p.code)),
      pseudonyms.recordKeys(people.rows.map((p) => p.code)),
      people.rows.map((p) => p.sex),
      people.rows.map((p) => p.born),
      people.rows.map((p) => p.code.slice(0, 3)),
      people.rows.map((p) => p.died),
      people.rows.map((p) => p.ethnicity),
      people.rows.map((p) => p.religion),
      people.rows.map((p) => codeDisagrees(p.code, p.sex, p.born)),
    ],
  );
  const residenceParams: unknown[] = [];
  const residences = await residents.query<{ code: string; kind: string; province: string; district: string; from: string; to: string | null }>(
    // A registration that ended without an end date recorded counts for no day at all.
    `SELECT so_dinh_danh AS code, loai_cu_tru AS kind, ma_tinh AS province, quan_huyen AS district, tu_ngay::text AS from,
            CASE WHEN den_ngay IS NULL AND trang_thai <> ${sqlLiteral(RESIDENCE_STATUS, RESIDENCE_STATUS.encode('ACTIVE'))} THEN tu_ngay ELSE den_ngay END::text AS to
       FROM dang_ky_cu_tru WHERE ${selected('so_dinh_danh', 'char(12)', 'keys' in which ? { keys: people.rows.map((p) => p.code) } : which, residenceParams)}`,
    residenceParams,
  );
  if (residences.rows.length === 0) return;
  await client.query(
    `INSERT INTO st_cu_tru (pid, loai, ma_tinh, quan_huyen, tu_ngay, den_ngay)
     SELECT * FROM unnest($1::bytea[], $2::char(1)[], $3::char(3)[], $4::text[], $5::date[], $6::date[])`,
    [
      pseudonyms.pids(residences.rows.map((r) => r.code)),
      residences.rows.map((r) => (RESIDENCE_KIND.decode(r.kind) === 'PERMANENT' ? 'P' : 'T')),
      residences.rows.map((r) => r.province),
      residences.rows.map((r) => r.district),
      residences.rows.map((r) => r.from),
      residences.rows.map((r) => r.to),
    ],
  );
}

/** Replaces the facts of these birth registrations (by registration number), or writes a page of them (by row id). */
async function writeBirths(client: PoolClient, registry: Pool, pseudonyms: Pseudonymiser, which: Selection): Promise<void> {
  const id = (number: string) => `birth:${number}`;
  const params: unknown[] = [];
  const condition = 'keys' in which ? selected('so_dang_ky', 'text', which, params) : selected('id', 'bigint', which, params);
  if ('keys' in which) {
    if (which.keys.length === 0) return;
    await client.query('DELETE FROM st_khai_sinh WHERE rid = ANY($1::bytea[])', [pseudonyms.pids(which.keys.map(id))]);
  }
  const { rows } = await registry.query<{ number: string; registered: string; province: string; sex: number; born: string; child: string | null }>(
    `SELECT so_dang_ky AS number, ngay_dang_ky::text AS registered, ma_tinh_dang_ky AS province, gioi_tinh_tre AS sex,
            ngay_sinh_tre::text AS born, so_dinh_danh_tre AS child
       FROM dang_ky_khai_sinh WHERE ${condition}`,
    params,
  );
  if (rows.length === 0) return;
  const children = pseudonyms.pids(rows.map((r) => r.child ?? ''));
  await client.query(
    `INSERT INTO st_khai_sinh (rid, rk, child_pid, ngay_sinh, ngay_dang_ky, ma_tinh, gioi_tinh)
     SELECT * FROM unnest($1::bytea[], $2::smallint[], $3::bytea[], $4::date[], $5::date[], $6::char(3)[], $7::smallint[])`,
    [
      pseudonyms.pids(rows.map((r) => id(r.number))),
      pseudonyms.recordKeys(rows.map((r) => id(r.number))),
      rows.map((r, i) => (r.child ? children[i] : null)),
      rows.map((r) => r.born),
      rows.map((r) => r.registered),
      rows.map((r) => r.province),
      rows.map((r) => r.sex),
    ],
  );
}

/** The households named, and every household these persons (any code they held) belong or belonged to. */
async function householdsOf(residents: Pool, codes: string[], named: string[]): Promise<string[]> {
  if (codes.length === 0) return [...new Set(named)];
  const { rows } = await residents.query<{ number: string }>(
    `SELECT DISTINCT t.so_ho AS number FROM thanh_vien_ho t
      WHERE t.so_dinh_danh = ANY($1::char(12)[])
         OR t.so_dinh_danh IN (SELECT so_dinh_danh_hien_hanh FROM so_dinh_danh WHERE so_dinh_danh = ANY($1::char(12)[]))`,
    [codes],
  );
  return [...new Set([...named, ...rows.map((r) => r.number)])];
}

/** Replaces the facts of these households (by household number), or writes a page of them: the household and every membership it had. */
async function writeHouseholds(client: PoolClient, residents: Pool, pseudonyms: Pseudonymiser, which: Selection): Promise<void> {
  const id = (number: string) => `household:${number}`;
  if ('keys' in which) {
    if (which.keys.length === 0) return;
    const hids = pseudonyms.pids(which.keys.map(id));
    await client.query('DELETE FROM st_thanh_vien_ho WHERE hid = ANY($1::bytea[])', [hids]);
    await client.query('DELETE FROM st_ho WHERE hid = ANY($1::bytea[])', [hids]);
  }
  const params: unknown[] = [];
  const households = await residents.query<{ number: string; province: string; established: string }>(
    `SELECT so_ho AS number, ma_tinh AS province, ngay_lap::text AS established FROM ho_gia_dinh WHERE ${selected('so_ho', 'text', which, params)}`,
    params,
  );
  if (households.rows.length === 0) return;
  await client.query(
    `INSERT INTO st_ho (hid, rk, ma_tinh, ngay_lap) SELECT * FROM unnest($1::bytea[], $2::smallint[], $3::char(3)[], $4::date[])`,
    [
      pseudonyms.pids(households.rows.map((h) => id(h.number))),
      pseudonyms.recordKeys(households.rows.map((h) => id(h.number))),
      households.rows.map((h) => h.province),
      households.rows.map((h) => h.established),
    ],
  );
  const memberParams: unknown[] = [];
  const members = await residents.query<{ number: string; code: string; head: boolean; from: string; to: string | null }>(
    `SELECT so_ho AS number, so_dinh_danh AS code, quan_he_chu_ho = ${sqlLiteral(RELATIONSHIP, RELATIONSHIP.encode('HEAD'))} AS head, tu_ngay::text AS from, den_ngay::text AS to
       FROM thanh_vien_ho WHERE ${selected('so_ho', 'text', 'keys' in which ? { keys: households.rows.map((h) => h.number) } : which, memberParams)}`,
    memberParams,
  );
  if (members.rows.length === 0) return;
  await client.query(
    `INSERT INTO st_thanh_vien_ho (hid, pid, chu_ho, tu_ngay, den_ngay) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::boolean[], $4::date[], $5::date[])`,
    [
      pseudonyms.pids(members.rows.map((m) => id(m.number))),
      pseudonyms.pids(members.rows.map((m) => m.code)),
      members.rows.map((m) => m.head),
      members.rows.map((m) => m.from),
      members.rows.map((m) => m.to),
    ],
  );
}

/** Every card of these persons (`codes`: every code they have held), written again under their code in force. */
async function replaceCards(client: PoolClient, sources: SourcePools, pseudonyms: Pseudonymiser, codes: string[]): Promise<void> {
  if (codes.length === 0) return;
  await client.query('DELETE FROM st_the WHERE pid = ANY($1::bytea[])', [pseudonyms.pids(codes)]);
  await writeCards(client, sources, pseudonyms, { holders: codes });
}

/** Replaces the facts of every card of these holders' codes, or writes a page of cards (by row id), each under its holder's code in force. */
async function writeCards(client: PoolClient, sources: SourcePools, pseudonyms: Pseudonymiser, which: { holders: string[] } | { after: string; through: string }): Promise<void> {
  const params: unknown[] = [];
  const condition = 'holders' in which ? selected('t.so_dinh_danh', 'char(12)', { keys: which.holders }, params) : selected('t.id', 'bigint', which, params);
  const { rows } = await sources['national-id'].query<{ id: string; kind: string; holder: string; issued: string; expires: string | null; status: string; changed: string }>(
    // Since when the status holds: a replaced card since its replacement was issued, an expired one since its
    // expiry date; otherwise since the row last changed (the best the agency records).
    `SELECT t.id::text, t.loai_the AS kind, t.so_dinh_danh AS holder, t.ngay_cap::text AS issued, t.ngay_het_han::text AS expires,
            t.trang_thai AS status,
            CASE t.trang_thai
              WHEN ${sqlLiteral(CARD_STATUS, CARD_STATUS.encode('REPLACED'))} THEN coalesce((SELECT r.ngay_cap FROM the_can_cuoc r WHERE r.id = t.id_the_thay_the), (t.ngay_cap_nhat AT TIME ZONE 'UTC')::date)
              WHEN ${sqlLiteral(CARD_STATUS, CARD_STATUS.encode('EXPIRED'))} THEN least(t.ngay_het_han, (t.ngay_cap_nhat AT TIME ZONE 'UTC')::date)
              ELSE (t.ngay_cap_nhat AT TIME ZONE 'UTC')::date END::text AS changed
       FROM the_can_cuoc t WHERE ${condition}`,
    params,
  );
  if (rows.length === 0) return;
  const holders = [...new Set(rows.map((r) => r.holder))];
  const current = new Map(
    (
      await sources.residents.query<{ code: string; current: string }>(
        'SELECT so_dinh_danh AS code, so_dinh_danh_hien_hanh AS current FROM so_dinh_danh WHERE so_dinh_danh = ANY($1::char(12)[])',
        [holders],
      )
    ).rows.map((r) => [r.code, r.current]),
  );
  const id = (row: { id: string }) => `card:${row.id}`;
  if ('holders' in which) await client.query('DELETE FROM st_the WHERE cid = ANY($1::bytea[])', [pseudonyms.pids(rows.map(id))]);
  await client.query(
    `INSERT INTO st_the (cid, rk, pid, loai, ngay_cap, ngay_het_han, trang_thai, ngay_trang_thai)
     SELECT * FROM unnest($1::bytea[], $2::smallint[], $3::bytea[], $4::text[], $5::date[], $6::date[], $7::text[], $8::date[])`,
    [
      pseudonyms.pids(rows.map(id)),
      pseudonyms.recordKeys(rows.map(id)),
      // A holder the residents do not know (a record that disagrees) keeps the pseudonym of the code on the card.
      pseudonyms.pids(rows.map((r) => current.get(r.holder) ?? r.holder)),
      rows.map((r) => r.kind),
      rows.map((r) => r.issued),
      rows.map((r) => r.expires),
      rows.map((r) => r.status),
      rows.map((r) => r.changed),
    ],
  );
}

/** Whether the code's sex and century digit or birth year digits disagree with the record (data quality). */
function codeDisagrees(code: string, sex: number, born: string): boolean {
  try {
    return codeDiscrepancies(code, { sex: sex === 1 ? 'MALE' : 'FEMALE', dateOfBirth: new Date(`${born}T00:00:00Z`) }).length > 0;
  } catch {
    return true; // not a well-formed code at all
  }
}
