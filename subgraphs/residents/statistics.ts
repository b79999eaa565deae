import { provinceName } from '../../lib/provinces';
import { inputError } from '../../lib/graphql/errors';
import type { CitizenStatistics, StatisticsDimension } from './generated/graphql';
import type { Context } from './context';
import { SEX } from './codes';

/**
 * Population counts by province of birth registration, sex and decade of birth. They are read from
 * cg_thong_ke_dan_so, which triggers on cong_dan keep exact (migration 20261127000000_population_counts):
 * at most ~1,300 rows to sum, whether the database holds ten thousand citizens or eight million.
 */
const FIELDS = { PROVINCE: 'provinceCode', SEX: 'sex', BIRTH_DECADE: 'decade' } as const;

export async function citizenStatistics(groupBy: readonly StatisticsDimension[], ctx: Context): Promise<CitizenStatistics> {
  const dimensions = [...new Set(groupBy)];
  if (dimensions.length === 0) {
    throw inputError('NO_DIMENSION', {}, { argument: 'groupBy' });
  }
  const by = dimensions.map((dimension) => FIELDS[dimension]);
  const rows = await ctx.db.prisma.populationCount.groupBy({ by, _sum: { count: true }, where: { count: { gt: 0 } } });
  const groups = rows
    .map((row) => ({ provinceCode: row.provinceCode ?? null, sex: row.sex ?? null, decade: row.decade ?? null, count: row._sum.count }))
    // In the agency's code order (sex 1 male before 2 female), not alphabetically.
    .sort((a, b) => compare(a.provinceCode, b.provinceCode) || compare(a.sex, b.sex) || compare(a.decade, b.decade))
    .map((row) => ({
      provinceCode: row.provinceCode,
      provinceName: row.provinceCode ? provinceName(row.provinceCode) : null,
      sex: row.sex === null ? null : SEX.decode(row.sex),
      birthDecade: row.decade,
      count: Number(row.count ?? 0),
    }));
  return { total: groups.reduce((sum, group) => sum + group.count, 0), groups };
}

function compare<T extends string | number | null>(a: T, b: T): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
