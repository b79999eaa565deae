import type { Prisma } from '../../prisma/residents/generated/client';
import { inputError } from '../../lib/graphql/errors';
import { literalLikeText, pageSize, provinceCodeArgument } from '../../lib/graphql/arguments';
import type { QuerySearchCitizensArgs } from './generated/graphql';
import type { Context } from './context';
import { CITIZEN_INCLUDE, type CitizenConnectionRecord } from './models';
import { primeCitizens } from './loaders';

/**
 * Search by name, date of birth and province, ordered by personal code, with an opaque cursor
 * (the last code seen). Keyset pagination: page N costs the same as page 1.
 */
const MAX_PAGE = 100;
/** As long as the longest full name the register holds (ho_ten is 150 characters). */
const MAX_NAME = 150;

export const encodeCursor = (personalCode: string) => Buffer.from(`c:${personalCode}`).toString('base64url');

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  if (!/^c:\d{12}$/.test(decoded)) {
    throw inputError('BAD_CURSOR', { argument: 'after' }, { argument: 'after' });
  }
  return decoded.slice(2);
}

export async function searchCitizens(args: QuerySearchCitizensArgs, ctx: Context): Promise<CitizenConnectionRecord> {
  const first = pageSize(args.first, MAX_PAGE);
  const name = args.name?.trim();
  if (!name && !args.dateOfBirth && !args.birthProvince && !args.residenceProvince) {
    throw inputError('NO_FILTER', {});
  }
  if (name !== undefined && name.length < 2) {
    throw inputError('NAME_TOO_SHORT', {}, { argument: 'name' });
  }
  if (name !== undefined && name.length > MAX_NAME) {
    throw inputError('NAME_TOO_LONG', { maximum: MAX_NAME, actual: name.length }, { argument: 'name' });
  }
  const where: Prisma.CitizenWhereInput = {};
  const codeFilter: Prisma.StringFilter = {};
  if (name) where.fullName = { startsWith: literalLikeText(name), mode: 'insensitive' };
  if (args.dateOfBirth) where.dateOfBirth = args.dateOfBirth;
  if (args.birthProvince) codeFilter.startsWith = provinceCodeArgument(args.birthProvince, 'birthProvince');
  if (args.after) codeFilter.gt = decodeCursor(args.after);
  if (Object.keys(codeFilter).length > 0) where.personalCode = codeFilter;
  if (args.residenceProvince) {
    where.residences = {
      some: { kind: 'THUONG_TRU', status: 'HIEU_LUC', provinceCode: provinceCodeArgument(args.residenceProvince, 'residenceProvince') },
    };
  }
  const rows = await ctx.db.prisma.citizen.findMany({
    relationLoadStrategy: 'join',
    where,
    include: CITIZEN_INCLUDE,
    orderBy: { personalCode: 'asc' },
    take: first + 1,
  });
  const page = rows.slice(0, first);
  primeCitizens(ctx.loaders, page);
  const edges = page.map((node) => ({ cursor: encodeCursor(node.personalCode), node }));
  // The end cursor encodes the last code of the page: the page info is that citizen's data too (audit).
  const persons = page.length > 0 ? [page[page.length - 1].personalCode] : [];
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null, persons } };
}
