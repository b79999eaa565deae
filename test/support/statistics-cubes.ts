import { Pool, type PoolClient } from 'pg';
import type { TestFederation } from './federation';
import { bearer, PERSONAS } from './tokens';
import { testDatabases } from './databases';
import { pseudonymiser, readSecret } from '../../subgraphs/statistics/pseudonyms';
import { refreshStatistics, type SourcePools } from '../../subgraphs/statistics/refresh';
import { AGENCIES } from '../../lib/agencies';
import { MEASURES } from '../../subgraphs/statistics/measures';
import { checkRequest, tableSql, type CheckedRequest, type Statement } from '../../subgraphs/statistics/query';
import { coveringCube, CUBES, cubeTableSql, groupings, MAX_CUBE_DIMENSIONS, type Cube } from '../../subgraphs/statistics/cubes';

/**
 * The statistics cubes (subgraphs/statistics/cubes.ts): tables kept for the current date must give exactly the
 * counts and record-key sums the facts give (then the published cells are the same), after a build and after the
 * refresh has kept them in step with changes of every kind; every grouping the cell limit allows has a cube; a day's
 * cubes replace the day before's. Run by test/statistics.test.ts, in its worker: these tests change the agencies and
 * move the cubes' date, and that file compares tables asked one after another, so the two must not run side by side.
 */
const ANALYST = { role: 'ANALYST', purpose: 'STATISTICS', subject: 'test:cubes' } as never;
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

let federation: TestFederation;
let store: Pool;
let residents: Pool;
let nationalId: Pool;

export function describeCubes(running: () => TestFederation): void {
  beforeAll(async () => {
    federation = running();
    const { statisticsUrl, urls } = testDatabases();
    store = new Pool({ connectionString: statisticsUrl, max: 2 });
    residents = new Pool({ connectionString: urls.residents, max: 1 });
    nationalId = new Pool({ connectionString: urls['national-id'], max: 1 });
    await federation.statistics.refresh();
  });

  afterAll(async () => {
    await Promise.all([store.end(), residents.end(), nationalId.end()]);
  });

  describe('the cubes of the measures', cubeDefinitions);
  describe('cubes against facts', cubesAgainstFacts);
}

const request = (name: string, groupBy: string[], filter: { dimension: string; values: string[] }[] = [], asOf?: string): CheckedRequest =>
  checkRequest(name, MEASURES[name], { groupBy, filter, asOf: asOf ? new Date(`${asOf}T00:00:00Z`) : null }, ANALYST, { maxCells: 1e15 });

async function rowsOf(client: PoolClient, statement: Statement): Promise<string[]> {
  const { rows } = await client.query<Record<string, unknown>>(statement.text, statement.values);
  return rows.map((row) => JSON.stringify(Object.keys(row).sort().map((key) => [key, String(row[key])]))).sort();
}

/** Groupings of a cube to compare: each dimension, each pair, the first three, and the second grouped within a value of the first. */
async function comparisons(client: PoolClient, cube: Cube): Promise<CheckedRequest[]> {
  const dims = [...cube.dimensions];
  const asked = groupings(dims, 2).map((groupBy) => request(cube.measureName, groupBy));
  if (dims.length >= 3) asked.push(request(cube.measureName, dims.slice(0, 3)));
  if (dims.length >= 2) {
    const first = await client.query(tableSql(request(cube.measureName, [dims[0]])).text, tableSql(request(cube.measureName, [dims[0]])).values);
    const value = first.rows.map((r) => r.d0).find((v) => v !== null);
    if (value !== undefined) asked.push(request(cube.measureName, [dims[1]], [{ dimension: dims[0], values: [String(value)] }]));
  }
  return asked;
}

/** Every comparison of every cube, facts against cube, in one snapshot (a refresh of another test file may commit meanwhile). */
async function compareEveryCube(): Promise<{ compared: number; cells: number }> {
  const client = await store.connect();
  let compared = 0;
  let cells = 0;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    for (const cube of CUBES) {
      for (const asked of await comparisons(client, cube)) {
        const facts = await rowsOf(client, tableSql(asked));
        const summed = await rowsOf(client, cubeTableSql(cube, asked));
        expect({ cube: cube.id, groupBy: asked.groupBy, filters: asked.filters, rows: summed }).toEqual({
          cube: cube.id,
          groupBy: asked.groupBy,
          filters: asked.filters,
          rows: facts,
        });
        compared += 1;
        cells += facts.length;
      }
    }
  } finally {
    // Never back to the pool inside the transaction (a failed expectation throws mid-way).
    await client.query('ROLLBACK');
    client.release();
  }
  return { compared, cells };
}

function cubeDefinitions(): void {
  test('every grouping of up to three dimensions that the cell limit allows has a cube holding it', () => {
    const uncovered: string[] = [];
    for (const [name, measure] of Object.entries(MEASURES)) {
      for (const groupBy of groupings(Object.keys(measure.dimensions), 3)) {
        try {
          checkRequest(name, measure, { groupBy }, ANALYST, { maxCells: 20_000 });
        } catch {
          continue; // refused before anything is computed
        }
        if (!CUBES.some((cube) => cube.measureName === name && groupBy.every((d) => cube.dimensions.includes(d)))) uncovered.push(`${name}(${groupBy.join(', ')})`);
      }
    }
    expect(uncovered).toEqual([]);
  });

  test('each cube names dimensions of its measure, at most as many as st_khoi has columns, and ids are unique', () => {
    for (const cube of CUBES) {
      expect(cube.dimensions.every((d) => d in cube.measure.dimensions)).toBe(true);
      expect(cube.dimensions.length).toBeLessThanOrEqual(MAX_CUBE_DIMENSIONS);
    }
    expect(new Set(CUBES.map((c) => c.id)).size).toBe(CUBES.length);
  });
}

function cubesAgainstFacts(): void {
  test("today's tables come from a cube; another date's, or a grouping no cube holds, from the facts", async () => {
    await federation.statistics.refresh();
    expect(await coveringCube(store, request('population', ['AGE_BAND', 'SEX'], [{ dimension: 'RESIDENCE_PROVINCE', values: ['001'] }]))).not.toBeNull();
    expect(await coveringCube(store, request('population', ['AGE_BAND', 'SEX'], [], daysAgo(1)))).toBeNull();
    // District by ethnicity and religion: more cells than the limit allows as a grouping, so no cube holds the three.
    expect(await coveringCube(store, request('population', ['SEX'], [{ dimension: 'RESIDENCE_DISTRICT', values: ['001/x'] }, { dimension: 'ETHNICITY', values: ['Kinh'] }]))).toBeNull();
  });

  test('a cube gives the counts and record-key sums of the facts, for every cube, grouping and a filter', async () => {
    await federation.statistics.refresh();
    const { compared, cells } = await compareEveryCube();
    expect(compared).toBeGreaterThan(150);
    expect(cells).toBeGreaterThan(1000);
  });

  test('after a death, a move, a lost card, a birth and a member leaving a household, the refresh keeps every cube equal to the facts', async () => {
    await federation.statistics.refresh();
    const deaths = async () => Number((await store.query<{ n: string }>(`SELECT coalesce(sum(n), 0)::text AS n FROM st_khoi WHERE khoi LIKE 'deaths:%'`)).rows[0].n);
    const deathsBefore = await deaths();
    const { rows: living } = await residents.query<{ code: string }>(
      `SELECT c.so_dinh_danh AS code FROM cong_dan c WHERE c.ngay_mat IS NULL AND c.ngay_sinh < current_date - interval '30 years'
          AND EXISTS (SELECT 1 FROM thanh_vien_ho t WHERE t.so_dinh_danh = c.so_dinh_danh AND t.den_ngay IS NULL AND t.quan_he_chu_ho = 'CHU_HO')
        ORDER BY c.so_dinh_danh DESC LIMIT 2`,
    );
    expect(living).toHaveLength(2);
    const [dying, moving] = living.map((r) => r.code);
    const registrar = await bearer(PERSONAS.registrar('residents'));
    const yesterday = daysAgo(1);
    const death = await federation.query(
      `mutation ($input: RecordDeathInput!) { recordDeath(input: $input) { deceased } }`,
      { input: { personalCode: dying, dateOfDeath: yesterday, deathRegistration: 'KT-CUBE/2026' } },
      registrar,
    );
    expect(death.errors).toBeUndefined();
    const moved = await federation.query(
      `mutation ($code: PersonalCode!, $address: AddressInput!, $from: Date!) { registerPermanentResidence(personalCode: $code, address: $address, from: $from) { personalCode } }`,
      { code: moving, address: { provinceCode: '079', district: 'Quận 3', ward: 'Phường Võ Thị Sáu', street: '12 Trần Quốc Thảo' }, from: today() },
      registrar,
    );
    expect(moved.errors).toBeUndefined();
    const { rows: cards } = await nationalId.query<{ code: string }>(
      `SELECT so_dinh_danh AS code FROM the_can_cuoc WHERE trang_thai = 'CON_HIEU_LUC' AND ngay_het_han > current_date + 30 AND ngay_cap < current_date - 30
        ORDER BY id LIMIT 1`,
    );
    const lost = await federation.query(
      `mutation ($input: ReportIdentityCardLostInput!) { reportIdentityCardLost(input: $input) { status } }`,
      { input: { personalCode: cards[0].code, lostOn: yesterday } },
      await bearer(PERSONAS.registrar('national-id')),
    );
    expect(lost.errors).toBeUndefined();
    const born = await federation.query(
      `mutation ($i: RegisterBirthInput!) { registerBirth(input: $i) { status } }`,
      {
        i: {
          idempotencyKey: `cube-${Date.now()}`, registrationProvinceCode: '031', registeringAuthority: 'UBND phường Lê Chân',
          placeOfBirth: 'Bệnh viện Phụ sản Hải Phòng', childName: 'Trần Thị Khối', childSex: 'FEMALE',
          childDateOfBirth: daysAgo(3), ethnicity: 'Kinh', mother: { name: 'Lê Thị Hoa', nationality: 'VN' },
        },
      },
      await bearer(PERSONAS.registrar('birth-registry')),
    );
    expect(born.errors).toBeUndefined();
    const { rows: member } = await residents.query<{ code: string }>(
      `SELECT t.so_dinh_danh AS code FROM thanh_vien_ho t JOIN cong_dan c USING (so_dinh_danh)
        WHERE t.den_ngay IS NULL AND t.quan_he_chu_ho <> 'CHU_HO' AND c.ngay_mat IS NULL AND t.tu_ngay < current_date - 2 ORDER BY t.so_ho LIMIT 1`,
    );
    const left = await federation.query(
      `mutation ($code: PersonalCode!, $on: Date!) { leaveHousehold(personalCode: $code, on: $on) { personalCode } }`,
      { code: member[0].code, on: yesterday },
      registrar,
    );
    expect(left.errors).toBeUndefined();

    const refreshed = await federation.statistics.refresh();
    // Kept in step, not built again: the changes went through the recount (this refresh's, or that of another test
    // file running meanwhile, which applies them just the same).
    expect(refreshed.cubesBuilt).toBeNull();
    const died = await store.query(`SELECT ngay_mat FROM st_dan_so WHERE pid = $1`, [pseudonymiser(readSecret(testDatabases().statisticsSecretFile)).pid(dying)]);
    expect(died.rows[0].ngay_mat).not.toBeNull();
    // The death is in the deaths cube (others' tests may record more meanwhile).
    expect(await deaths()).toBeGreaterThan(deathsBefore);
    await compareEveryCube();
  });

  test("a new day's first refresh builds that day's cubes and drops the day before's", async () => {
    const tomorrow = new Date(Date.now() + 86_400_000);
    const moved = await federation.statistics.refresh({ today: tomorrow });
    expect(moved.cubesBuilt).not.toBeNull();
    expect(Object.keys(moved.cubesBuilt!).sort()).toEqual(CUBES.map((c) => c.id).sort());
    const dates = async () => (await store.query<{ d: string }>(`SELECT DISTINCT to_char(ngay, 'YYYY-MM-DD') AS d FROM st_khoi_ngay`)).rows.map((r) => r.d);
    expect(await dates()).toEqual([tomorrow.toISOString().slice(0, 10)]);
    // Today's tables meanwhile come from the facts, unchanged.
    expect(await coveringCube(store, request('population', ['SEX']))).toBeNull();
    const back = await federation.statistics.refresh();
    expect(back.cubesBuilt).not.toBeNull();
    expect(await dates()).toEqual([today()]);
    expect((await federation.statistics.refresh()).cubesBuilt).toBeNull();
  });

  test('two refreshers at once (two processes) take turns: the cube build too is under the lock, and the second finds the cubes built', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000);
    const urls = testDatabases().statisticsServiceUrls;
    const otherStore = new Pool({ connectionString: urls.database, max: 1 });
    const sources = Object.fromEntries(AGENCIES.map((a) => [a.id, new Pool({ connectionString: urls.sources[a.id], max: 1 })])) as SourcePools;
    try {
      const secret = pseudonymiser(readSecret(testDatabases().statisticsSecretFile));
      const [ours, theirs] = await Promise.all([
        federation.statistics.refresh({ today: tomorrow }),
        refreshStatistics(otherStore, sources, secret, { today: tomorrow }),
      ]);
      // One built the day's cubes, whole; the other, after it, found them current (had they overlapped, both would
      // have built, and the second's rows would have collided with the first's).
      expect([ours.cubesBuilt, theirs.cubesBuilt].filter((built) => built !== null)).toHaveLength(1);
      const { rows } = await store.query<{ khoi: string; d: string }>(`SELECT khoi, to_char(ngay, 'YYYY-MM-DD') AS d FROM st_khoi_ngay`);
      expect(rows.map((r) => r.khoi).sort()).toEqual(CUBES.map((c) => c.id).sort());
      expect(new Set(rows.map((r) => r.d))).toEqual(new Set([tomorrow.toISOString().slice(0, 10)]));
    } finally {
      await Promise.all([otherStore.end(), ...Object.values(sources).map((p) => p.end())]);
      await federation.statistics.refresh(); // today's cubes again
    }
  });
}
