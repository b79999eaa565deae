import { DateScalar } from '../../lib/graphql/scalars';
import { message } from '../../lib/i18n/messages';
import { GraphQLError } from 'graphql';
import type { Classification } from '../../lib/access/classification';
import type { Context } from './context';
import { MEASURES } from './measures';
import { checkRequest, computeTable, type TableRequest } from './query';

/** How far each source agency's changes are in the read model (st_nguon). */
async function freshness(ctx: Context) {
  const { rows } = await ctx.store.query<{ agency: string; id: string; upTo: Date; checkedAt: Date }>(
    `SELECT nguon AS agency, ma_nhat_ky::text AS id, thoi_diem_nhat_ky AS "upTo", lam_moi_luc AS "checkedAt" FROM st_nguon ORDER BY nguon`,
  );
  if (rows.length === 0) throw new GraphQLError(message('STATISTICS_NOT_BUILT'), { extensions: { code: 'AGENCY_UNAVAILABLE', reason: 'STATISTICS_NOT_BUILT' } });
  const sources = rows.map((r) => ({ agency: r.agency, changeLogId: r.id, upTo: r.upTo.toISOString(), checkedAt: r.checkedAt.toISOString() }));
  // Every source's changes up to its last check are in: the oldest check is how fresh the whole table is.
  const dataAsOf = rows.map((r) => r.checkedAt.toISOString()).sort()[0];
  return { sources, dataAsOf };
}

const NOTE =
  'Counts are perturbed by cell-key perturbation: the same persons always give the same count; counts from 1 to the threshold ' +
  'are published as 0 or threshold + 1; larger counts are moved by at most maxPerturbation. The total is the sum of the ' +
  'published cells; a cell not listed is 0.';

/** One Query field per measure, all answered alike from the table of measures. */
function tableResolver(name: string) {
  const measure = MEASURES[name];
  return async (_: unknown, args: TableRequest, ctx: Context) => {
    const principal = ctx.caller.principal;
    const request = checkRequest(name, measure, args, principal, { maxCells: ctx.config.maxCells });
    if (principal) await ctx.budget.spend(principal.subject);
    const classes: Classification[] = request.sensitive ? ['AGGREGATE', 'SENSITIVE'] : ['AGGREGATE'];
    // Recorded before the answer leaves (the gateway writes it), whether or not the computation succeeds.
    ctx.access.aggregates.push({ operation: request.description, classes });
    const [table, fresh] = await Promise.all([computeTable(ctx.store, request, ctx.config.disclosure), freshness(ctx)]);
    return {
      ...table,
      asOf: new Date(`${table.asOf}T00:00:00Z`),
      ...fresh,
      disclosure: { method: 'CELL_KEY_PERTURBATION', threshold: table.threshold, maxPerturbation: ctx.config.disclosure.maxPerturbation, note: NOTE },
    };
  };
}

export const resolvers = {
  Date: DateScalar,
  Query: Object.fromEntries(Object.entries(MEASURES).map(([name, measure]) => [measure.field, tableResolver(name)])),
};
