import type { Caller } from './caller';

/**
 * Every write records, in the same transaction as the change itself and in the same agency database,
 * who made it, when, under which request, and what changed: table cg_nhat_ky_thay_doi (each agency's
 * migration creates it). The row commits or rolls back with the change, so the log never claims a change
 * that did not happen and no change escapes it.
 */
export interface ChangeEntry {
  /** What was done, e.g. ISSUE_PERSONAL_CODE, RECORD_DEATH, ISSUE_CARD. */
  action: string;
  /** The agency table changed and the key of the row, e.g. cong_dan / 001089012345. */
  table: string;
  key: string;
  /** The citizen concerned, when there is one. */
  personalCode?: string | null;
  /** What changed, as the write saw it (old and new values, reason, legal document...). */
  details?: Record<string, unknown>;
}

/** Any Prisma client or transaction: the log is written with a raw statement, so one helper serves every agency. */
export interface RawExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/**
 * The change log is also the audit store's outbox (lib/audit/outbox.ts): the entry carries what the WRITE
 * audit record needs (the principal's role, purpose, agency, case reference), and the agency's shipper
 * appends that record to the audit store after the commit, whether or not anyone is still waiting for the
 * answer. A write without a principal (unsealed deployments) has no role and is not shipped.
 */
export async function recordChange(tx: RawExecutor, caller: Caller & { actor: string }, entry: ChangeEntry): Promise<void> {
  const principal = caller.principal;
  await tx.$executeRawUnsafe(
    `INSERT INTO cg_nhat_ky_thay_doi (nguoi_thuc_hien, ma_yeu_cau, dich_vu, thao_tac, bang, khoa, so_dinh_danh, chi_tiet,
                                      vai_tro, muc_dich, co_quan_goi, so_ho_so)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)`,
    caller.actor,
    caller.requestId,
    caller.service,
    entry.action,
    entry.table,
    entry.key,
    entry.personalCode ?? null,
    JSON.stringify(entry.details ?? {}),
    principal?.role ?? null,
    principal?.purpose ?? null,
    caller.service ?? principal?.agency ?? null,
    principal?.caseReference ?? null,
  );
}
