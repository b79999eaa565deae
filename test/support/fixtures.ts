import { Pool } from 'pg';
import { testDatabases } from './databases';

/**
 * Picks test subjects from the seeded population by what they have (never hard-coded codes), and reads
 * the agencies' rows directly, so tests compare the graph's answers with the databases themselves.
 */
export interface Fixtures {
  residents: Pool;
  nationalId: Pool;
  birthRegistry: Pool;
  end(): Promise<void>;
}

export function openFixtures(): Fixtures {
  const { urls } = testDatabases();
  const residents = new Pool({ connectionString: urls.residents, max: 2 });
  const nationalId = new Pool({ connectionString: urls['national-id'], max: 2 });
  const birthRegistry = new Pool({ connectionString: urls['birth-registry'], max: 2 });
  return { residents, nationalId, birthRegistry, end: async () => void (await Promise.all([residents.end(), nationalId.end(), birthRegistry.end()])) };
}

export async function one<T>(pool: Pool, sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await pool.query(sql, params);
  if (rows.length === 0) throw new Error(`The seeded population has no row for: ${sql}`);
  return rows[0] as T;
}

/** A living citizen with a valid card and a birth registration naming two citizen parents. */
export async function citizenWithEverything(f: Fixtures): Promise<string> {
  const { rows: births } = await f.birthRegistry.query<{ code: string }>(
    `SELECT so_dinh_danh_tre AS code FROM dang_ky_khai_sinh
      WHERE so_dinh_danh_tre IS NOT NULL AND so_dinh_danh_cha IS NOT NULL AND so_dinh_danh_me IS NOT NULL
        AND ngay_sinh_tre <= now() - interval '15 years'
      ORDER BY so_dang_ky LIMIT 200`,
  );
  const { rows: carded } = await f.nationalId.query<{ code: string }>(
    `SELECT so_dinh_danh AS code FROM the_can_cuoc WHERE trang_thai = 'CON_HIEU_LUC' AND so_dinh_danh = ANY($1)
       AND (ngay_het_han IS NULL OR ngay_het_han > now())`,
    [births.map((b) => b.code)],
  );
  const { rows: living } = await f.residents.query<{ code: string }>(
    `SELECT so_dinh_danh AS code FROM cong_dan WHERE ngay_mat IS NULL AND so_dinh_danh = ANY($1) ORDER BY so_dinh_danh LIMIT 1`,
    [carded.map((c) => c.code)],
  );
  if (!living[0]) throw new Error('The seeded population has no living citizen with a valid card and two citizen parents.');
  return living[0].code;
}

/** citizenWithEverything's code and full name, on fixtures of its own: what tests that only show a citizen need. */
export async function shownCitizen(): Promise<{ code: string; fullName: string }> {
  const f = openFixtures();
  try {
    const code = await citizenWithEverything(f);
    const { name } = await one<{ name: string }>(f.residents, 'SELECT ho_ten AS name FROM cong_dan WHERE so_dinh_danh = $1', [code]);
    return { code, fullName: name };
  } finally {
    await f.end();
  }
}

/** Households by current size. */
export async function householdOfSize(f: Fixtures, size: 'largest' | number): Promise<{ number: string; members: number }> {
  const sql =
    size === 'largest'
      ? `SELECT so_ho AS number, count(*)::int AS members FROM thanh_vien_ho WHERE den_ngay IS NULL GROUP BY so_ho ORDER BY members DESC, so_ho LIMIT 1`
      : `SELECT so_ho AS number, count(*)::int AS members FROM thanh_vien_ho WHERE den_ngay IS NULL GROUP BY so_ho HAVING count(*) = $1 ORDER BY so_ho LIMIT 1`;
  return one(f.residents, sql, size === 'largest' ? [] : [size]);
}

/**
 * Living citizens with a valid card and an own birth registration, in an order of their own for each
 * `salt`: test files that change people pick with different salts, so they never change each other's subjects.
 */
export async function livingCardHoldersWithBirth(f: Fixtures, salt: string, count: number): Promise<string[]> {
  const { rows: births } = await f.birthRegistry.query<{ code: string }>(
    `SELECT so_dinh_danh_tre AS code FROM dang_ky_khai_sinh WHERE so_dinh_danh_tre IS NOT NULL`,
  );
  const { rows: carded } = await f.nationalId.query<{ code: string }>(
    `SELECT so_dinh_danh AS code FROM the_can_cuoc WHERE trang_thai = 'CON_HIEU_LUC' AND (ngay_het_han IS NULL OR ngay_het_han > now())
        AND so_dinh_danh = ANY($1)`,
    [births.map((b) => b.code)],
  );
  const { rows } = await f.residents.query<{ code: string }>(
    `SELECT so_dinh_danh AS code FROM cong_dan WHERE ngay_mat IS NULL AND so_dinh_danh = ANY($1) ORDER BY md5(so_dinh_danh || $2) LIMIT $3`,
    [carded.map((c) => c.code), salt, count],
  );
  if (rows.length < count) throw new Error(`The seeded population has only ${rows.length} living card holders with a birth registration.`);
  return rows.map((r) => r.code);
}

/**
 * A living citizen whose birth registration names two citizen parents and who is named as father or mother
 * on other birth registrations (their children), with the codes of all of them; picked in an order of its own for `salt`.
 */
export async function citizenWithParentsAndChildren(f: Fixtures, salt: string): Promise<{ code: string; parents: string[]; children: string[] }> {
  const { rows } = await f.birthRegistry.query<{ code: string; parents: string[]; children: string[] }>(
    `SELECT own.so_dinh_danh_tre AS code, ARRAY[own.so_dinh_danh_cha, own.so_dinh_danh_me] AS parents,
            array_agg(DISTINCT child.so_dinh_danh_tre) AS children
       FROM dang_ky_khai_sinh own
       JOIN dang_ky_khai_sinh child ON (child.so_dinh_danh_cha = own.so_dinh_danh_tre OR child.so_dinh_danh_me = own.so_dinh_danh_tre)
                                    AND child.so_dinh_danh_tre IS NOT NULL
      WHERE own.so_dinh_danh_tre IS NOT NULL AND own.so_dinh_danh_cha IS NOT NULL AND own.so_dinh_danh_me IS NOT NULL
      GROUP BY own.so_dinh_danh_tre, own.so_dinh_danh_cha, own.so_dinh_danh_me
      ORDER BY md5(own.so_dinh_danh_tre || $1) LIMIT 50`,
    [salt],
  );
  const { rows: living } = await f.residents.query<{ code: string }>(
    `SELECT so_dinh_danh AS code FROM cong_dan WHERE ngay_mat IS NULL AND so_dinh_danh = ANY($1)`,
    [rows.map((r) => r.code)],
  );
  const alive = new Set(living.map((r) => r.code));
  const found = rows.find((r) => alive.has(r.code));
  if (!found) throw new Error('The seeded population has no living citizen with two citizen parents and a child.');
  return { code: found.code, parents: [...found.parents].sort(), children: [...found.children].sort() };
}
