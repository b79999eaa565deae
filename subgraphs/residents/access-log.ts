import { forbidden, mayAskRootField } from '../../lib/access/policy';
import { citizenAccessLog, searchAuditLog, AuditSearchError, type AuditPage } from '../../lib/audit/search';
import { UserInputError, unavailable } from '../../lib/graphql/errors';
import type { Context } from './context';

/**
 * The access log as the graph serves it: a citizen's own (myAccessLog), and the auditors' search (auditLog).
 * Both read the audit store (lib/audit/search.ts); the field guard has already checked the AUDIT
 * classification, and these check the role, since only auditors search everyone's log.
 */
function store(ctx: Context) {
  if (!ctx.services.auditStore) throw unavailable('AUDIT_OFF', {});
  return ctx.services.auditStore;
}

async function page<T>(search: () => Promise<AuditPage<T>>) {
  try {
    const result = await search();
    return { entries: result.entries, pageInfo: result.pageInfo };
  } catch (error) {
    if (error instanceof AuditSearchError) throw new UserInputError(error.message, { argument: error.argument, reason: error.reason });
    throw error;
  }
}

export function myAccessLog(args: { first?: number | null; after?: string | null }, ctx: Context) {
  const principal = ctx.caller.principal;
  if (!principal || !mayAskRootField(principal.role, 'myAccessLog') || !principal.personalCode) throw forbidden('NOT_A_CITIZEN', {});
  const code = principal.personalCode;
  return page(async () => {
    const result = await citizenAccessLog(store(ctx), code, { first: args.first ?? 20, after: args.after });
    // Each entry is the citizen's data (recorded as their read of their own log): it carries their code, unserved.
    return { ...result, entries: result.entries.map((e) => ({ ...e, classes: [...e.classes], at: e.at.toISOString(), personalCode: code })) };
  });
}

export function auditLog(
  args: { personalCode?: string | null; agency?: string | null; subject?: string | null; from?: Date | null; to?: Date | null; first?: number | null; after?: string | null },
  ctx: Context,
) {
  if (!ctx.caller.principal || !mayAskRootField(ctx.caller.principal.role, 'auditLog')) throw forbidden('NOT_AN_AUDITOR', {});
  return page(async () => {
    const result = await searchAuditLog(store(ctx), {
      personalCode: args.personalCode ?? undefined,
      agency: args.agency ?? undefined,
      subject: args.subject ?? undefined,
      from: args.from ?? undefined,
      to: args.to ?? undefined,
      first: args.first ?? 20,
      after: args.after,
    });
    const searched = args.personalCode ?? null;
    return {
      ...result,
      entries: result.entries.map((r) => ({
        ...r,
        persons: [...r.persons],
        personalCode: searched ?? r.personalCode ?? (r.persons.length === 1 ? r.persons[0] : null),
        classes: [...r.classes],
        sequence: r.seq,
        at: r.at.toISOString(),
      })),
    };
  });
}
