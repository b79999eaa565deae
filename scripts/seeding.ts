import type { Pool } from 'pg';
import { seedPopulation } from '../lib/demo-data/seed';

/** Seeds the demo population into empty databases; a database that already has citizens is left alone. */
export async function ensureSeeded(
  pools: { residents: Pool; nationalId: Pool; birthRegistry: Pool },
  options: { citizens: number; seed: string; log: (line: string) => void },
): Promise<void> {
  const existing = Number((await pools.residents.query('SELECT count(*) AS n FROM cong_dan')).rows[0].n);
  if (existing > 0) {
    options.log(`${existing.toLocaleString('en')} citizens already in the databases; not seeding.`);
    return;
  }
  if (options.citizens === 0) return;
  const started = Date.now();
  options.log(`seeding ${options.citizens.toLocaleString('en')} synthetic citizens (seed "${options.seed}")…`);
  const totals = await seedPopulation(pools, { citizens: options.citizens, seed: options.seed });
  options.log(
    `seeded ${totals.citizens} citizens, ${totals.households} households, ${totals.cards} identity cards, ` +
      `${totals.births} birth registrations in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/**
 * A citizen worth showing: living, born 2000–2010, with a valid identity card, whose birth registration
 * names two parents who are citizens, in a household.
 */
export async function exampleCitizen(pools: { residents: Pool; nationalId: Pool; birthRegistry: Pool }): Promise<string | null> {
  const { rows: births } = await pools.birthRegistry.query<{ code: string }>(
    `SELECT so_dinh_danh_tre AS code FROM dang_ky_khai_sinh
      WHERE so_dinh_danh_tre IS NOT NULL AND so_dinh_danh_cha IS NOT NULL AND so_dinh_danh_me IS NOT NULL
        AND ngay_sinh_tre BETWEEN '2000-01-01' AND '2010-12-31'
      ORDER BY so_dang_ky LIMIT 500`,
  );
  const { rows: carded } = await pools.nationalId.query<{ code: string }>(
    `SELECT so_dinh_danh AS code FROM the_can_cuoc
      WHERE so_dinh_danh = ANY($1) AND trang_thai = 'CON_HIEU_LUC' AND (ngay_het_han IS NULL OR ngay_het_han > now())`,
    [births.map((birth) => birth.code)],
  );
  const { rows } = await pools.residents.query<{ code: string }>(
    `SELECT c.so_dinh_danh AS code
       FROM cong_dan c JOIN thanh_vien_ho t ON t.so_dinh_danh = c.so_dinh_danh AND t.den_ngay IS NULL
      WHERE c.so_dinh_danh = ANY($1) AND c.ngay_mat IS NULL
      ORDER BY c.so_dinh_danh LIMIT 1`,
    [carded.map((card) => card.code)],
  );
  return rows[0]?.code ?? null;
}
