import crypto from 'node:crypto';
import type { AuditEntry } from '../access/audit-entry';

/**
 * The format of the hash chain: what each record's `hash` covers. Others verify it (auditors, other
 * languages), so it is specified here exactly and must never change for existing records.
 *
 *   hash = lowercase hex of SHA-256( UTF-8 bytes of ( prev_hash || canonical ) )
 *
 * - prev_hash: the previous record's hash, 64 lowercase hex characters; for record 1, 64 "0" characters.
 * - canonical: the JSON text (RFC 8259, as ECMAScript's JSON.stringify writes it: no whitespace, strings
 *   with only `"`, `\` and control characters escaped, `\uXXXX` in lowercase hex, other characters as
 *   themselves) of an array of exactly these 13 values, in this order:
 *     1  at            string, the time of the access in UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ" (always milliseconds)
 *     2  requestId     string
 *     3  subject       string
 *     4  role          string
 *     5  callerAgency  string or null
 *     6  purpose       string or null
 *     7  agency        string
 *     8  action        "READ" | "WRITE" | "REFUSED"
 *     9  operation     string
 *    10  personalCode  string of 12 digits, or null
 *    11  classes       array of strings, sorted by code unit, without duplicates
 *    12  outcome       "OK" | "DENIED" | "ERROR"
 *    13  bulkCount     integer, or null
 *   e.g. ["2026-12-01T08:30:00.000Z","r-1","clerk:7","CLERK","residents","SERVICE_COUNTER","residents","READ",
 *         "citizen","001200342514",["BASIC_IDENTITY","RESIDENCE"],"OK",null]
 *
 * The sequence number is deliberately not hashed. The order of the records is what the links say: each
 * hash covers its predecessor's hash, hence the whole history before it. seq is only the position of a
 * record in that chain, which a verifier recomputes by walking it (record n must link to record n-1). So a
 * record's hash says *what* happened and the links say *in what order*, and a verifier can tell a changed
 * record (its hash does not match its content) from moved ones (contents intact, links broken) and from
 * deleted ones (a gap in seq, a link to nothing).
 */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed values of a record, as stored: classes normalised, time set. */
export interface ChainedFields {
  at: Date;
  requestId: string;
  subject: string;
  role: string;
  callerAgency: string | null;
  purpose: string | null;
  agency: string;
  action: string;
  operation: string;
  personalCode: string | null;
  classes: readonly string[];
  outcome: string;
  bulkCount: number | null;
}

/** A record as stored in audit_log. */
export interface AuditRecord extends ChainedFields {
  seq: number;
  prevHash: string;
  hash: string;
}

export function canonicalForm(fields: ChainedFields): string {
  // The time needs no escaping, so this is exactly JSON.stringify of the 13 values.
  return `["${fields.at.toISOString()}",${canonicalTail(fields)}`;
}

/**
 * The canonical form after its first value (the time) and the comma that follows it, up to the closing
 * "]": what the writer sends with each entry, for the store to put the time it grants in front (the
 * audit_append function, prisma/audit/migrations/20261202000000_append_function).
 */
export function canonicalTail(fields: Omit<ChainedFields, 'at'>): string {
  return JSON.stringify([
    fields.requestId,
    fields.subject,
    fields.role,
    fields.callerAgency,
    fields.purpose,
    fields.agency,
    fields.action,
    fields.operation,
    fields.personalCode,
    fields.classes,
    fields.outcome,
    fields.bulkCount,
  ]).slice(1);
}

export function chainHash(prevHash: string, fields: ChainedFields): string {
  return crypto.createHash('sha256').update(prevHash + canonicalForm(fields), 'utf8').digest('hex');
}

/**
 * What an entry becomes once stored: classes sorted and unique, its own time in whole milliseconds (the
 * column is TIMESTAMPTZ(3), and the stored value must be the hashed one), or null for the store's clock.
 */
export function toChainedFields(entry: AuditEntry): Omit<ChainedFields, 'at'> & { at: Date | null } {
  return {
    at: entry.at ? new Date(Math.floor(entry.at.getTime())) : null,
    requestId: entry.requestId,
    subject: entry.subject,
    role: entry.role,
    callerAgency: entry.callerAgency,
    purpose: entry.purpose,
    agency: entry.agency,
    action: entry.action,
    operation: entry.operation,
    personalCode: entry.personalCode,
    classes: [...new Set(entry.classes)].sort(),
    outcome: entry.outcome,
    bulkCount: entry.bulkCount ?? null,
  };
}

/** Columns of audit_log for rowToRecord. seq stays bigint (node-postgres reads it as a string): an alias of a cast would make ORDER BY seq sort text. */
export const RECORD_COLUMNS = `seq, at, request_id, subject, role, caller_agency, purpose, agency, action, operation,
  personal_code, classes, outcome, bulk_count, prev_hash, hash`;

export interface RecordRow {
  seq: string;
  at: Date;
  request_id: string;
  subject: string;
  role: string;
  caller_agency: string | null;
  purpose: string | null;
  agency: string;
  action: string;
  operation: string;
  personal_code: string | null;
  classes: string[];
  outcome: string;
  bulk_count: number | null;
  prev_hash: string;
  hash: string;
}

export function rowToRecord(row: RecordRow): AuditRecord {
  return {
    seq: Number(row.seq),
    at: row.at,
    requestId: row.request_id,
    subject: row.subject,
    role: row.role,
    callerAgency: row.caller_agency,
    purpose: row.purpose,
    agency: row.agency,
    action: row.action,
    operation: row.operation,
    personalCode: row.personal_code,
    classes: row.classes,
    outcome: row.outcome,
    bulkCount: row.bulk_count,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
