import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { PrismaClient } from '../prisma/birth-registry/generated/client';
import { openDatabase } from '../lib/database';
import { migrate } from '../tools/migrate';
import { nextRegistrationNumber } from '../subgraphs/birth-registry/registration-numbers';
import { withScratchDatabase } from './support/databases';

/**
 * Registration numbers on a birth registry database of the test's own (migrated like the real one), so that
 * PostgreSQL's own count of reads of the register belongs to this test alone.
 */
async function register(pool: Pool, numbers: string[]): Promise<void> {
  await pool.query(
    `INSERT INTO dang_ky_khai_sinh (so_dang_ky, ngay_dang_ky, co_quan_dang_ky, ma_tinh_dang_ky, noi_sinh, ho_ten_tre, gioi_tinh_tre, ngay_sinh_tre)
     SELECT n, DATE '2026-01-05', 'UBND xã Thử', '045', 'Trạm y tế xã Thử', 'Trẻ ' || n, 1, DATE '2026-01-01' FROM unnest($1::text[]) n`,
    [numbers],
  );
}

/** Reads of dang_ky_khai_sinh (sequential and by index) that this database's finished sessions reported. */
async function readsOfRegister(pool: Pool): Promise<number> {
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await pool.query(`SELECT (seq_scan + coalesce(idx_scan, 0))::int AS n FROM pg_stat_user_tables WHERE relname = 'dang_ky_khai_sinh'`);
  return rows[0].n;
}

/** The count once every session of the test's pool has ended and reported: it no longer changes. */
async function settledReadsOfRegister(pool: Pool): Promise<number> {
  for (let waited = 0; waited < 10_000; waited += 100) {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'registration-numbers-test'`);
    if (rows[0].n === 0) break;
    await sleep(100);
  }
  let last = await readsOfRegister(pool);
  for (let unchanged = 0; unchanged < 3; ) {
    await sleep(200);
    const now = await readsOfRegister(pool);
    unchanged = now === last ? unchanged + 1 : 0;
    last = now;
  }
  return last;
}

describe('registration numbers', () => {
  it('the first registrations of a province and year, arriving together, read the register once and number on from its largest number', async () => {
    await withScratchDatabase('registration_numbers', async (url, pool) => {
      await migrate(url, 'prisma/birth-registry/migrations');
      // Numbers of other years and other provinces, and one that is not a number, do not count.
      await register(pool, ['045/2026/000007', '045/2026/000012', '045/2026/SO-CU-3', '045/2025/000990', '046/2026/000500']);
      const readsBefore = await readsOfRegister(pool);

      const birthRegistry = openDatabase({ url, poolSize: 20, applicationName: 'registration-numbers-test' }, (adapter) => new PrismaClient({ adapter }));
      let numbers: string[];
      try {
        numbers = await Promise.all(
          Array.from({ length: 20 }, () => birthRegistry.prisma.$transaction((tx) => nextRegistrationNumber(tx, '045', 2026), { maxWait: 20_000, timeout: 20_000 })),
        );
      } finally {
        // A session reports its counts to PostgreSQL's statistics when it ends, at the latest.
        await birthRegistry.close();
      }

      expect(numbers.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `045/2026/${String(13 + i).padStart(6, '0')}`));
      expect((await settledReadsOfRegister(pool)) - readsBefore).toBe(1);
      const { rows } = await pool.query(`SELECT ma_tinh, nam, so_cuoi FROM cg_so_dang_ky_cuoi`);
      expect(rows).toEqual([{ ma_tinh: '045', nam: 2026, so_cuoi: 32 }]);
    });
  });
});
