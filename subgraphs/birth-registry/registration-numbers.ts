import type { Prisma } from '../../prisma/birth-registry/generated/client';
import { lockName } from '../../lib/advisory-lock';

/**
 * Registration numbers PPP/YYYY/NNNNNN (province, year of registration, sequence), continuing after the
 * numbers already in the register. A counter row per province and year (cg_so_dang_ky_cuoi) is bumped in
 * the registration's transaction: concurrent registrations in one province queue on that row for the
 * moment of one UPDATE, and a rolled-back registration gives its number back. Unlike personal codes,
 * registration numbers are sequential by law and tradition; they reveal nothing about a person.
 *
 * The first registration of a province and year through the graph finds no counter and starts it after the
 * largest number already in the register. That look-up runs once per province and year, however many
 * registrations arrive together: they take a lock on the counter's name and, once they hold it, look for
 * the counter again, which the first of them has created by then. Without the lock each of them scanned
 * the register; at 8 million citizens twenty concurrent scans outlasted the transactions' time limit, every
 * transaction rolled back, the counter was never created, and no birth could be registered at all.
 */
export async function nextRegistrationNumber(tx: Prisma.TransactionClient, provinceCode: string, year: number): Promise<string> {
  const n = (await bumpCounter(tx, provinceCode, year)) ?? (await startCounter(tx, provinceCode, year));
  return `${provinceCode}/${year}/${String(n).padStart(6, '0')}`;
}

async function bumpCounter(tx: Prisma.TransactionClient, provinceCode: string, year: number): Promise<number | undefined> {
  const bumped = await tx.$queryRaw<{ n: number }[]>`
    UPDATE cg_so_dang_ky_cuoi SET so_cuoi = so_cuoi + 1 WHERE ma_tinh = ${provinceCode}::char(3) AND nam = ${year}::smallint RETURNING so_cuoi AS n`;
  return bumped[0]?.n;
}

async function startCounter(tx: Prisma.TransactionClient, provinceCode: string, year: number): Promise<number> {
  await lockName(tx, `registration-counter:${provinceCode}:${year}`);
  const startedMeanwhile = await bumpCounter(tx, provinceCode, year);
  if (startedMeanwhile !== undefined) return startedMeanwhile;
  // The prefix is digits and slashes, nothing LIKE treats specially. A LIKE prefix reads the register's
  // unique index on so_dang_ky where the collation sorts by code point (the embedded database's does), and
  // scans the table once elsewhere.
  const prefix = `${provinceCode}/${year}/`;
  const started = await tx.$queryRaw<{ n: number }[]>`
    INSERT INTO cg_so_dang_ky_cuoi (ma_tinh, nam, so_cuoi)
    SELECT ${provinceCode}::char(3), ${year}::smallint, coalesce(max(substr(so_dang_ky, ${prefix.length + 1}::int)::int), 0) + 1
      FROM dang_ky_khai_sinh WHERE so_dang_ky LIKE ${`${prefix}%`}::text AND substr(so_dang_ky, ${prefix.length + 1}::int) ~ '^[0-9]+$'
    ON CONFLICT (ma_tinh, nam) DO UPDATE SET so_cuoi = cg_so_dang_ky_cuoi.so_cuoi + 1
    RETURNING so_cuoi AS n`;
  return started[0].n;
}
