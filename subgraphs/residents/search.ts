import type { Prisma } from '../../prisma/residents/generated/client';
import { UserInputError } from '../../lib/graphql/errors';
import { pageSize, provinceCodeArgument } from '../../lib/graphql/arguments';
import type { QuerySearchCitizensArgs } from './generated/graphql';
import type { Context } from './context';
import { CITIZEN_INCLUDE, type CitizenConnectionRecord } from './models';
import { primeCitizens } from './loaders';
import { nameSearchPattern } from './name-search';

/**
 * Search by name (any run of words of it, as typed: name-search.ts), date of birth and province, ordered by
 * personal code, with an opaque cursor (the last code seen). Keyset pagination: page N costs the same as
 * page 1, and a citizen found on one page is never on another.
 */
const MAX_PAGE = 100;

export const encodeCursor = (personalCode: string) => Buffer.from(`c:${personalCode}`).toString('base64url');

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  if (!/^c:\d{12}$/.test(decoded)) {
    throw new UserInputError('`after` is not a cursor this search returned.', { argument: 'after', reason: 'BAD_CURSOR' });
  }
  return decoded.slice(2);
}

/**
 * The one statement a search runs (with the relations of CITIZEN_INCLUDE joined in), after its arguments are
 * checked; a test EXPLAINs exactly this to see that the name filter uses its index.
 */
export function searchStatement(args: QuerySearchCitizensArgs) {
  const first = pageSize(args.first, MAX_PAGE);
  const name = args.name ?? undefined;
  if (!name?.trim() && !args.dateOfBirth && !args.birthProvince && !args.residenceProvince) {
    throw new UserInputError('Give at least one of name, dateOfBirth, birthProvince or residenceProvince.', { reason: 'NO_FILTER' });
  }
  const where: Prisma.CitizenWhereInput = {};
  const codeFilter: Prisma.StringFilter = {};
  if (name !== undefined) where.searchName = { contains: nameSearchPattern(name) };
  if (args.dateOfBirth) where.dateOfBirth = args.dateOfBirth;
  if (args.birthProvince) codeFilter.startsWith = provinceCodeArgument(args.birthProvince, 'birthProvince');
  if (args.after) codeFilter.gt = decodeCursor(args.after);
  if (Object.keys(codeFilter).length > 0) where.personalCode = codeFilter;
  if (args.residenceProvince) {
    where.residences = {
      some: { kind: 'THUONG_TRU', status: 'HIEU_LUC', provinceCode: provinceCodeArgument(args.residenceProvince, 'residenceProvince') },
    };
  }
  return {
    first,
    query: {
      relationLoadStrategy: 'join',
      where,
      include: CITIZEN_INCLUDE,
      orderBy: { personalCode: 'asc' },
      take: first + 1,
    } satisfies Prisma.CitizenFindManyArgs,
  };
}

export async function searchCitizens(args: QuerySearchCitizensArgs, ctx: Context): Promise<CitizenConnectionRecord> {
  const { first, query } = searchStatement(args);
  const rows = await ctx.db.prisma.citizen.findMany(query);
  const page = rows.slice(0, first);
  primeCitizens(ctx.loaders, page);
  const edges = page.map((node) => ({ cursor: encodeCursor(node.personalCode), node }));
  // The end cursor encodes the last code of the page: the page info is that citizen's data too (audit).
  const persons = page.length > 0 ? [page[page.length - 1].personalCode] : [];
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null, persons } };
}
