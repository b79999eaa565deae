import { message } from '../i18n/messages';
import type { Pool } from 'pg';
import type { AuditEntry } from '../access/audit-entry';
import { RECORD_COLUMNS, rowToRecord, type AuditRecord, type RecordRow } from './chain';

export const MAX_PAGE_SIZE = 100;

export interface AuditFilter {
  personalCode?: string;
  agency?: string;
  subject?: string;
  /** Accesses at or after this time. */
  from?: Date;
  /** Accesses before this time. */
  to?: Date;
  /** Page size, 1 to MAX_PAGE_SIZE. */
  first: number;
  /** The endCursor of the previous page. */
  after?: string | null;
}

export interface AuditPage<T> {
  entries: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** A filter the log cannot be searched with; `reason` as in the GraphQL errors (BAD_USER_INPUT reasons). */
export class AuditSearchError extends Error {
  name = 'AuditSearchError';
  constructor(
    text: string,
    readonly argument: string,
    readonly reason: 'BAD_CURSOR' | 'TOO_MANY_VALUES' | 'DATE_INVALID' | 'PERSONAL_CODE_FORMAT',
  ) {
    super(text);
  }
}

/**
 * The cursor: the (at, seq) of the last record of a page, opaque to clients. Keyset pagination on
 * (at, seq): the next page starts strictly after it, so records appended meanwhile (always newer, at the
 * front) neither shift nor repeat the pages a client is walking through. seq breaks ties of `at`.
 */
const encodeCursor = (record: { at: Date; seq: number }) => Buffer.from(JSON.stringify([record.at.toISOString(), record.seq])).toString('base64url');

function decodeCursor(cursor: string): { at: Date; seq: number } {
  try {
    const [at, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    if (typeof at === 'string' && !Number.isNaN(date.getTime()) && Number.isSafeInteger(seq) && (seq as number) > 0) return { at: date, seq: seq as number };
  } catch {
    // falls through to the error below
  }
  throw new AuditSearchError(message('BAD_CURSOR', { argument: 'after' }), 'after', 'BAD_CURSOR');
}

/**
 * Searches the audit log, newest first (by the time of the access, then by position in the chain), one page
 * at a time. Every filter is optional and they combine with AND; each has an index (persons, agency,
 * subject, time: see the audit migrations); a search by personal code finds every record naming the person,
 * however many others the same record names.
 */
export async function searchAuditLog(pool: Pool, filter: AuditFilter): Promise<AuditPage<AuditRecord>> {
  if (!Number.isInteger(filter.first) || filter.first < 1 || filter.first > MAX_PAGE_SIZE) {
    throw new AuditSearchError(message('AUDIT_PAGE_SIZE', { maximum: MAX_PAGE_SIZE, actual: filter.first }), 'first', 'TOO_MANY_VALUES');
  }
  if (filter.personalCode !== undefined && !/^[0-9]{12}$/.test(filter.personalCode)) {
    throw new AuditSearchError(message('AUDIT_PERSONAL_CODE_FORMAT'), 'personalCode', 'PERSONAL_CODE_FORMAT');
  }
  for (const name of ['from', 'to'] as const) {
    const value = filter[name];
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
      throw new AuditSearchError(message('TIME_INVALID', { argument: name }), name, 'DATE_INVALID');
    }
  }
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  // Every record naming the person: persons @> ARRAY[code] (the GIN index on persons).
  if (filter.personalCode !== undefined) add((p) => `persons @> ARRAY[${p}]::char(12)[]`, filter.personalCode);
  if (filter.agency !== undefined) add((p) => `agency = ${p}`, filter.agency);
  if (filter.subject !== undefined) add((p) => `subject = ${p}`, filter.subject);
  if (filter.from !== undefined) add((p) => `at >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `at < ${p}`, filter.to);
  if (filter.after) {
    const cursor = decodeCursor(filter.after);
    params.push(cursor.at, cursor.seq);
    where.push(`(at, seq) < ($${params.length - 1}, $${params.length})`);
  }
  params.push(filter.first + 1);
  const { rows } = await pool.query<RecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY at DESC, seq DESC LIMIT $${params.length}`,
    params,
  );
  const records = rows.slice(0, filter.first).map(rowToRecord);
  const hasNextPage = rows.length > filter.first;
  return { entries: records, pageInfo: { hasNextPage, endCursor: records.length > 0 ? encodeCursor(records[records.length - 1]) : null } };
}

/**
 * What a citizen may see of the accesses to their own data: which agency's data, what kind of access,
 * which classes of data, for what purpose, when. Not who (subject, role, caller agency), nor the request or
 * operation: those identify the officials, which is for auditors, not for the citizen.
 */
export interface CitizenAccessEntry {
  agency: string;
  action: AuditEntry['action'];
  classes: string[];
  purpose: string | null;
  at: Date;
}

export async function citizenAccessLog(
  pool: Pool,
  personalCode: string,
  page: { first: number; after?: string | null },
): Promise<AuditPage<CitizenAccessEntry>> {
  const result = await searchAuditLog(pool, { personalCode, first: page.first, after: page.after });
  return {
    // Built field by field (never a spread of the record), so nothing more can leak in.
    entries: result.entries.map((r) => ({ agency: r.agency, action: r.action as AuditEntry['action'], classes: [...r.classes], purpose: r.purpose, at: r.at })),
    pageInfo: result.pageInfo,
  };
}
