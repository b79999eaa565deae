import { Prisma } from '../../prisma/residents/generated/client';
import { provinceName } from '../../lib/provinces';
import { UserInputError } from '../../lib/graphql/errors';
import type { CitizenStatistics, StatisticsDimension } from './generated/graphql';
import type { Context } from './context';
import { SEX } from './codes';

/**
 * Population counts by province of birth registration, sex and decade of birth, in one aggregate
 * statement that an index-only scan answers (cong_dan_thong_ke_idx): no citizen row is read.
 */
const COLUMNS: Record<StatisticsDimension, Prisma.Sql> = {
  PROVINCE: Prisma.sql`substr(so_dinh_danh, 1, 3)`,
  SEX: Prisma.sql`gioi_tinh`,
  BIRTH_DECADE: Prisma.sql`(extract(year FROM ngay_sinh)::int / 10) * 10`,
};

export async function citizenStatistics(groupBy: readonly StatisticsDimension[], ctx: Context): Promise<CitizenStatistics> {
  const dimensions = [...new Set(groupBy)];
  if (dimensions.length === 0) {
    throw new UserInputError('groupBy needs at least one of PROVINCE, SEX, BIRTH_DECADE.', { argument: 'groupBy', reason: 'NO_DIMENSION' });
  }
  const select = (dimension: StatisticsDimension, alias: string) =>
    dimensions.includes(dimension) ? Prisma.sql`${COLUMNS[dimension]} AS ${Prisma.raw(alias)}` : Prisma.sql`NULL AS ${Prisma.raw(alias)}`;
  const rows = await ctx.db.prisma.$queryRaw<{ province: string | null; sex: number | null; decade: number | null; count: bigint }[]>`
    SELECT ${select('PROVINCE', 'province')}, ${select('SEX', 'sex')}, ${select('BIRTH_DECADE', 'decade')}, count(*) AS count
      FROM cong_dan
     WHERE ngay_mat IS NULL
     GROUP BY ${Prisma.join(dimensions.map((d) => COLUMNS[d]))}
     ORDER BY 1, 2, 3`;
  const groups = rows.map((row) => ({
    provinceCode: row.province,
    provinceName: row.province ? provinceName(row.province) : null,
    sex: row.sex === null ? null : SEX[row.sex],
    birthDecade: row.decade,
    count: Number(row.count),
  }));
  return { total: groups.reduce((sum, group) => sum + group.count, 0), groups };
}
