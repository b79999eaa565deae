import type { Pool, PoolClient } from 'pg';
import { AGENCIES, type Agency } from '../../lib/agencies';
import { STATISTICS_SOURCE_COLUMNS } from '../../lib/database-roles';
import { PSEUDONYM_SCHEME, type Pseudonymiser } from './pseudonyms';
import { buildCubes, dropCubes, keptDate, recountUnits, type Units } from './cubes';
import { timed } from './timed';
import { formatDate } from '../../lib/graphql/scalars';
import { BIRTHS, cardId, cards, copyAll, HOUSEHOLDS, MEMBERS, PERSONS, readByKeys, RESIDENCES, value, writeRows, type SourceRow } from './facts';

/** The agencies the read model is built from: those whose columns the statistics role may read (an agency added later gives it nothing until it is listed there). */
const SOURCES = AGENCIES.filter((agency) => STATISTICS_SOURCE_COLUMNS[agency.id] !== undefined);

/**
 * Keeps the statistics read model in step with the agencies (docs/DESIGN.md "Statistics"): built from scratch
 * when a source has never been read, then brought forward from each agency's change log. Every agency write
 * leaves an entry naming the person (or the registration) in the same transaction as the write, so re-reading
 * the facts of the persons named since the last entry applied, and replacing their rows, is enough; replacing is
 * idempotent, so an entry applied twice (after a rebuild that already saw it) does no harm. Refreshers in several
 * processes take turns (an advisory lock in the store); the facts and how far each log was applied commit together,
 * and the day's cubes are built after them, under the same lock.
 */
export type SourcePools = Record<Agency['id'], Pool>;

export interface RefreshOptions {
  /** Build the read model from scratch even if every source has been read. */
  rebuild?: boolean;
  /** The current date, whose cubes are kept (tests move it); the clock's by default. */
  today?: Date;
  /** Where a rebuild and a build of the cubes say how long each part took. */
  log?: (line: string) => void;
  /** Measures whose cubes are counted at once (cubes.ts buildCubes), each on a connection of its own. */
  cubeBuilders?: number;
}

export interface RefreshResult {
  /** Whether this run built the model from scratch. */
  rebuilt: boolean;
  /** Change-log entries applied, per agency. */
  applied: Record<Agency['id'], number>;
  /** When this run built the day's cubes: each cube's rows; null when it kept them in step. */
  cubesBuilt: Record<string, number> | null;
}

/** The tables of facts a rebuild empties and writes again. */
const FACT_TABLES = ['st_dan_so', 'st_cu_tru', 'st_the', 'st_ho', 'st_thanh_vien_ho', 'st_khai_sinh'];
const LOG_PAGE = 10_000;

interface LogHead {
  id: string;
  at: string | null;
}

const REFRESH_LOCK = `hashtext('citizen-graph:statistics-refresh')`;

/**
 * One refresh: under the refresh lock (a session-level advisory lock in the store, which other refreshers wait on),
 * first the facts in one transaction (the change logs applied, or a rebuild), which commits with how far each log
 * was applied and, while the cubes are today's, the cubes kept in step; then, when the cubes are not today's (a new
 * day, or after a rebuild), the day's cubes built measure by measure (cubes.ts buildCubes), still under the lock.
 */
export async function refreshStatistics(
  store: Pool,
  sources: SourcePools,
  pseudonyms: Pseudonymiser,
  options: RefreshOptions = {},
): Promise<RefreshResult> {
  const log = options.log ?? (() => undefined);
  const today = formatDate(options.today ?? new Date());
  const client = await store.connect();
  let locked = false;
  try {
    // Waiting for another refresher may take as long as its rebuild: no statement timeout for the wait.
    await client.query(`BEGIN; SET LOCAL statement_timeout = 0; SELECT pg_advisory_lock(${REFRESH_LOCK}); COMMIT`);
    locked = true;
    const facts = await refreshFacts(client, sources, pseudonyms, today, options, log);
    const cubes = facts.cubesCurrent ? null : await buildCubes(store, client, today, { log, builders: options.cubeBuilders });
    return { rebuilt: facts.rebuilt, applied: facts.applied, cubesBuilt: cubes };
  } finally {
    // A connection whose unlock failed is closed, which releases the lock.
    const unlocked = locked ? await client.query(`SELECT pg_advisory_unlock(${REFRESH_LOCK})`).then(() => undefined, (error: Error) => error) : undefined;
    client.release(unlocked);
  }
}

/** The facts brought forward (or rebuilt) in one transaction; the kept cubes dropped there when they are not today's. */
async function refreshFacts(
  client: PoolClient,
  sources: SourcePools,
  pseudonyms: Pseudonymiser,
  today: string,
  options: RefreshOptions,
  log: (line: string) => void,
): Promise<{ rebuilt: boolean; applied: Record<Agency['id'], number>; cubesCurrent: boolean }> {
  try {
    await client.query('BEGIN');
    // Long enough for a rebuild at national scale.
    await client.query(`SET LOCAL statement_timeout = 0`);
    const sourcesRead = (await client.query<{ nguon: string; ma_nhat_ky: string; scheme: number }>('SELECT nguon, ma_nhat_ky::text, so_do_bi_danh AS scheme FROM st_nguon')).rows;
    const known = new Map(sourcesRead.map((r) => [r.nguon, r.ma_nhat_ky]));
    // From scratch when asked, when a source was never read, or when the pseudonyms were computed another way.
    const rebuild = options.rebuild === true || SOURCES.some((a) => !known.has(a.id)) || sourcesRead.some((r) => r.scheme !== PSEUDONYM_SCHEME);
    const applied = { residents: 0, 'national-id': 0, 'birth-registry': 0 } as Record<Agency['id'], number>;
    // The cubes are today's (cubes.ts): kept in step while they are, built afresh (after the changes) when not.
    const kept = rebuild ? null : await keptDate(client);
    const cubesCurrent = kept !== null && kept.date === today && kept.complete;
    if (rebuild) {
      await buildFromScratch(client, sources, pseudonyms, log);
    } else {
      for (const agency of SOURCES) {
        applied[agency.id] = await applyChangeLog(client, agency.id, BigInt(known.get(agency.id)!), sources, pseudonyms, cubesCurrent ? today : null);
      }
    }
    if (!cubesCurrent) await dropCubes(client);
    await client.query('COMMIT');
    return { rebuilt: rebuild, applied, cubesCurrent };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
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
 * Every source table streamed into the store once (facts.ts copyAll), after noting each change log's head. The
 * facts' tables are emptied with TRUNCATE and loaded without their indexes, which are built again once the rows
 * are in: one sort per index instead of 40 million insertions at random places of B-trees keyed by random
 * pseudonyms (and, with wal_level=minimal, a table truncated in this transaction is written without WAL). Both need
 * the statistics role to own its store's tables (lib/database-roles.ts). Until the rebuild commits, statistics
 * requests that need the facts wait for it (TRUNCATE's lock), and time out as a statement would; those a cube of
 * the day answers do not.
 */
async function buildFromScratch(client: PoolClient, sources: SourcePools, pseudonyms: Pseudonymiser, log: (line: string) => void): Promise<void> {
  // The heads first: a change made while the build reads is applied by the next refresh (again, harmlessly).
  const heads = {} as Record<Agency['id'], LogHead>;
  for (const agency of SOURCES) heads[agency.id] = await logHead(sources[agency.id]);
  await client.query(`TRUNCATE ${FACT_TABLES.join(', ')}`);
  await withoutIndexes(client, FACT_TABLES, log, async () => {
    const current = await codesInForce(sources.residents, null);
    for (const fact of [PERSONS, RESIDENCES, HOUSEHOLDS, MEMBERS, cards(current), BIRTHS]) {
      await timed(log, (rows) => `${fact.table}: ${rows.toLocaleString('en')} rows written`, () => copyAll(client, sources, fact, pseudonyms));
    }
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
        await writeHouseholds(client, sources.residents, pseudonyms, households);
        // A re-issued code moves the person's cards to their new pseudonym.
        await replaceCards(client, sources, pseudonyms, persons.all);
      });
    } else if (agency === 'birth-registry') {
      const numbers = [...new Set(rows.filter((r) => r.table === 'dang_ky_khai_sinh').map((r) => r.key))];
      const units = await birthUnits(client, sources['birth-registry'], pseudonyms, numbers);
      await recounted(client, cubeDate, units, () => writeBirths(client, sources['birth-registry'], pseudonyms, numbers));
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
  await writePersons(client, residents, pseudonyms, persons.current);
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
async function writePersons(client: PoolClient, residents: Pool, pseudonyms: Pseudonymiser, codes: readonly string[]): Promise<void> {
  const people = await readByKeys(residents, PERSONS, codes);
  await writeRows(client, PERSONS, people, pseudonyms);
  // The residences of the citizens found (a code without a citizen record has none counted).
  await writeRows(client, RESIDENCES, await readByKeys(residents, RESIDENCES, people.map((p) => value(p, 0) as string)), pseudonyms);
}

/** Replaces the facts of these birth registrations (by registration number). */
async function writeBirths(client: PoolClient, registry: Pool, pseudonyms: Pseudonymiser, numbers: readonly string[]): Promise<void> {
  if (numbers.length === 0) return;
  await client.query('DELETE FROM st_khai_sinh WHERE rid = ANY($1::bytea[])', [pseudonyms.pids(numbers.map((n) => `birth:${n}`))]);
  await writeRows(client, BIRTHS, await readByKeys(registry, BIRTHS, numbers), pseudonyms);
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

/** Replaces the facts of these households (by household number): the household and every membership it had. */
async function writeHouseholds(client: PoolClient, residents: Pool, pseudonyms: Pseudonymiser, numbers: readonly string[]): Promise<void> {
  if (numbers.length === 0) return;
  const hids = pseudonyms.pids(numbers.map((number) => `household:${number}`));
  await client.query('DELETE FROM st_thanh_vien_ho WHERE hid = ANY($1::bytea[])', [hids]);
  await client.query('DELETE FROM st_ho WHERE hid = ANY($1::bytea[])', [hids]);
  const households = await readByKeys(residents, HOUSEHOLDS, numbers);
  await writeRows(client, HOUSEHOLDS, households, pseudonyms);
  await writeRows(client, MEMBERS, await readByKeys(residents, MEMBERS, households.map((h) => value(h, 0) as string)), pseudonyms);
}

/**
 * The code in force of each re-issued code among `codes` (null: of every re-issued code). A code not in the map is
 * in force, or unknown to the residents.
 */
async function codesInForce(residents: Pool, codes: readonly string[] | null): Promise<Map<string, string>> {
  const { rows } = await residents.query<{ code: string; current: string }>(
    `SELECT so_dinh_danh AS code, so_dinh_danh_hien_hanh AS current FROM so_dinh_danh
      WHERE so_dinh_danh <> so_dinh_danh_hien_hanh${codes === null ? '' : ' AND so_dinh_danh = ANY($1::char(12)[])'}`,
    codes === null ? [] : [codes],
  );
  return new Map(rows.map((r) => [r.code, r.current]));
}

/** Every card of these persons (`codes`: every code they have held), written again under their code in force. */
async function replaceCards(client: PoolClient, sources: SourcePools, pseudonyms: Pseudonymiser, codes: string[]): Promise<void> {
  if (codes.length === 0) return;
  await client.query('DELETE FROM st_the WHERE pid = ANY($1::bytea[])', [pseudonyms.pids(codes)]);
  const fact = cards(await codesInForce(sources.residents, codes));
  const rows: SourceRow[] = await readByKeys(sources['national-id'], fact, codes);
  // A card stored under a code these persons never held (its holder was corrected) goes too.
  await client.query('DELETE FROM st_the WHERE cid = ANY($1::bytea[])', [pseudonyms.pids(rows.map(cardId))]);
  await writeRows(client, fact, rows, pseudonyms);
}
