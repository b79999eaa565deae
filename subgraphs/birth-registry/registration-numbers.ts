import type { Prisma } from '../../prisma/birth-registry/generated/client';

/**
 * Registration numbers PPP/YYYY/NNNNNN (province, year of registration, sequence), continuing after the
 * numbers already in the register. A counter row per province and year (cg_so_dang_ky_cuoi) is bumped in
 * the registration's transaction: concurrent registrations in one province queue on that row for the
 * moment of one UPDATE, and a rolled-back registration gives its number back. Unlike personal codes,
 * registration numbers are sequential by law and tradition; they reveal nothing about a person.
 */
export async function nextRegistrationNumber(tx: Prisma.TransactionClient, provinceCode: string, year: number): Promise<string> {
  const bumped = await tx.$queryRaw<{ n: number }[]>`
    UPDATE cg_so_dang_ky_cuoi SET so_cuoi = so_cuoi + 1 WHERE ma_tinh = ${provinceCode}::char(3) AND nam = ${year}::smallint RETURNING so_cuoi AS n`;
  let n = bumped[0]?.n;
  if (n === undefined) {
    // First registration of this province and year through the graph: continue after the largest number
    // already used (one scan, once per province and year).
    const prefix = `${provinceCode}/${year}/`;
    const started = await tx.$queryRaw<{ n: number }[]>`
      INSERT INTO cg_so_dang_ky_cuoi (ma_tinh, nam, so_cuoi)
      SELECT ${provinceCode}::char(3), ${year}::smallint, coalesce(max(substr(so_dang_ky, ${prefix.length + 1}::int)::int), 0) + 1
        FROM dang_ky_khai_sinh WHERE left(so_dang_ky, ${prefix.length}::int) = ${prefix}::text AND substr(so_dang_ky, ${prefix.length + 1}::int) ~ '^[0-9]+$'
      ON CONFLICT (ma_tinh, nam) DO UPDATE SET so_cuoi = cg_so_dang_ky_cuoi.so_cuoi + 1
      RETURNING so_cuoi AS n`;
    n = started[0].n;
  }
  return `${provinceCode}/${year}/${String(n).padStart(6, '0')}`;
}
