import type { Prisma } from '../../prisma/residents/generated/client';
import { inputError } from '../../lib/graphql/errors';
import { pageSize, provinceCodeArgument } from '../../lib/graphql/arguments';
import type { QuerySearchCitizensArgs } from './generated/graphql';
import type { Context } from './context';
import { CITIZEN_INCLUDE, type CitizenConnectionRecord, type CitizenRecord } from './models';
import { primeCitizens } from './loaders';
import { RESIDENCE_KIND, RESIDENCE_STATUS } from './codes';
import { nameSearchPattern, nameSearchStatement, type NameSearchFilters, type NameSearchPosition } from './name-search';

/**
 * Search by name, date of birth and province, with an opaque cursor and keyset pagination: page N costs the
 * same as page 1, and a citizen found on one page is never on another. With a name (any run of words of it, as
 * typed: name-search.ts), in the order of the part of the name found, then personal code; without one, by
 * personal code.
 */
const MAX_PAGE = 100;

export const encodeCursor = (personalCode: string) => Buffer.from(`c:${personalCode}`).toString('base64url');
const encodeNameCursor = (position: NameSearchPosition) => Buffer.from(`n:${position.personalCode}:${position.suffix}`).toString('base64url');

const badCursor = () => inputError('BAD_CURSOR', { argument: 'after' }, { argument: 'after' });

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  if (!/^c:\d{12}$/.test(decoded)) throw badCursor();
  return decoded.slice(2);
}

/** A name search's cursor: the code and the (folded) suffix the last citizen of the page was found at. */
function decodeNameCursor(cursor: string): NameSearchPosition {
  const match = /^n:(\d{12}):([^\p{Cc}]{1,400})$/u.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badCursor();
  return { personalCode: match[1], suffix: match[2] };
}

interface Filters extends NameSearchFilters {
  name?: string;
}

function filtersOf(args: QuerySearchCitizensArgs): Filters {
  const name = args.name ?? undefined;
  if (!name?.trim() && !args.dateOfBirth && !args.birthProvince && !args.residenceProvince) {
    throw inputError('NO_FILTER', {});
  }
  return {
    name,
    dateOfBirth: args.dateOfBirth ?? undefined,
    birthProvince: args.birthProvince ? provinceCodeArgument(args.birthProvince, 'birthProvince') : undefined,
    residenceProvince: args.residenceProvince ? provinceCodeArgument(args.residenceProvince, 'residenceProvince') : undefined,
  };
}

export async function searchCitizens(args: QuerySearchCitizensArgs, ctx: Context): Promise<CitizenConnectionRecord> {
  const first = pageSize(args.first, MAX_PAGE);
  const filters = filtersOf(args);
  const found = filters.name !== undefined ? await byName(filters.name, filters, args.after, first, ctx) : await byCode(filters, args.after, first, ctx);
  const page = found.slice(0, first);
  primeCitizens(ctx.loaders, page.map((f) => f.node));
  const edges = page.map(({ node, cursor }) => ({ cursor, node }));
  // The end cursor encodes the last code of the page: the page info is that citizen's data too (audit).
  const persons = page.length > 0 ? [page[page.length - 1].node.personalCode] : [];
  return { edges, pageInfo: { hasNextPage: found.length > first, endCursor: edges.at(-1)?.cursor ?? null, persons } };
}

type Found = { node: CitizenRecord; cursor: string }[];

/**
 * Two statements: the page's codes from the name indexes (name-search.ts), then their records with
 * residences and households, batched by the citizen loader as every other read of a citizen is. None for
 * text no name contains.
 */
async function byName(name: string, filters: Filters, after: string | null | undefined, first: number, ctx: Context): Promise<Found> {
  const pattern = nameSearchPattern(name);
  const position = after ? decodeNameCursor(after) : null;
  if (pattern === null) return [];
  const { text, values } = nameSearchStatement(pattern, filters, position, first + 1);
  const { rows } = await ctx.db.pool.query<NameSearchPosition>(text, values);
  const records = await ctx.loaders.citizen.loadMany(rows.map((row) => row.personalCode));
  return rows.flatMap((row, i) => {
    const node = records[i];
    if (node instanceof Error) throw node;
    // A record the register no longer leads to (it cannot be deleted; a code re-issued in between) is skipped.
    return node ? [{ node, cursor: encodeNameCursor(row) }] : [];
  });
}

/** One statement, in personal-code order: the province is the code's first three digits, the date has its index. */
async function byCode(filters: Filters, after: string | null | undefined, first: number, ctx: Context): Promise<Found> {
  const where: Prisma.CitizenWhereInput = {};
  const codeFilter: Prisma.StringFilter = {};
  if (filters.dateOfBirth) where.dateOfBirth = filters.dateOfBirth;
  if (filters.birthProvince) codeFilter.startsWith = filters.birthProvince;
  if (after) codeFilter.gt = decodeCursor(after);
  if (Object.keys(codeFilter).length > 0) where.personalCode = codeFilter;
  if (filters.residenceProvince) {
    const permanent = { kind: RESIDENCE_KIND.encode('PERMANENT'), status: RESIDENCE_STATUS.encode('ACTIVE') };
    where.residences = { some: { ...permanent, provinceCode: filters.residenceProvince } };
  }
  const rows = await ctx.db.prisma.citizen.findMany({
    relationLoadStrategy: 'join',
    where,
    include: CITIZEN_INCLUDE,
    orderBy: { personalCode: 'asc' },
    take: first + 1,
  });
  return rows.map((node) => ({ node, cursor: encodeCursor(node.personalCode) }));
}
