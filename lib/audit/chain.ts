import crypto from 'node:crypto';
import type { AuditEntry } from '../access/audit-entry';

/**
 * The format of the hash chain: what each record's `hash` covers. Others verify it (auditors, other
 * languages), so it is specified here exactly and must never change for existing records. Each record says
 * its format (column `format`); records of format 1 were written before 20261203000000_persons_format_2 and
 * are still verified as format 1; every record appended since is format 2.
 *
 *   hash = lowercase hex of SHA-256( UTF-8 bytes of ( prev_hash || canonical ) )
 *
 * - prev_hash: the previous record's hash, 64 lowercase hex characters; for record 1, 64 "0" characters.
 * - canonical: the JSON text (RFC 8259, as ECMAScript's JSON.stringify writes it: no whitespace, strings
 *   with only `"`, `\` and control characters escaped, `\uXXXX` in lowercase hex, other characters as
 *   themselves) of an array of values that depends on the format.
 *
 * Format 2, an array of exactly these 15 values, in this order:
 *     1  format         the number 2
 *     2  at             string, the store's time of the record in UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ" (always
 *                       milliseconds); never earlier than the previous record's (the store keeps the last
 *                       time in the chain head)
 *     3  requestId      string
 *     4  subject        string
 *     5  role           string
 *     6  callerAgency   string or null
 *     7  purpose        string or null
 *     8  caseReference  string or null
 *     9  agency         string
 *    10  action         "READ" | "WRITE" | "REFUSED"
 *    11  operation      string
 *    12  persons        array of strings of 12 digits, sorted by code unit, without duplicates (may be empty)
 *    13  classes        array of strings, sorted by code unit, without duplicates
 *    14  outcome        "OK" | "DENIED" | "ERROR"
 *    15  changeRef      string ("<agency>:<change-log id>") or null
 *   e.g. [2,"2026-12-01T08:30:00.000Z","r-1","clerk:7","CLERK","residents","SERVICE_COUNTER",null,"residents",
 *         "READ","citizen",["001200342514"],["BASIC_IDENTITY","RESIDENCE"],"OK",null]
 *
 * Format 1 (records written before format 2), an array of exactly these 13 values, in this order:
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
 *   (A format-1 record's `persons` column is not hashed: it must be [personalCode], or empty when that is null.)
 *
 * The sequence number is deliberately not hashed. The order of the records is what the links say: each
 * hash covers its predecessor's hash, hence the whole history before it. seq is only the position of a
 * record in that chain, which a verifier recomputes by walking it (record n must link to record n-1). So a
 * record's hash says *what* happened and the links say *in what order*, and a verifier can tell a changed
 * record (its hash does not match its content) from moved ones (contents intact, links broken) and from
 * deleted ones (a gap in seq, a link to nothing). A chain rewritten from some record on, every hash
 * recomputed, is caught against the signed checkpoints of the head kept outside the database
 * (lib/audit/checkpoint.ts).
 */
export const GENESIS_HASH = '0'.repeat(64);

/** The current format, the one audit_append writes. */
export const CHAIN_FORMAT = 2;

/** The hashed values of a format-2 record, as stored: persons and classes normalised, time set. */
export interface ChainedFields {
  at: Date;
  requestId: string;
  subject: string;
  role: string;
  callerAgency: string | null;
  purpose: string | null;
  caseReference: string | null;
  agency: string;
  action: string;
  operation: string;
  persons: readonly string[];
  classes: readonly string[];
  outcome: string;
  changeRef: string | null;
}

/** A record as stored in audit_log. personalCode and bulkCount are format 1's (null in format 2). */
export interface AuditRecord extends ChainedFields {
  seq: number;
  format: number;
  personalCode: string | null;
  bulkCount: number | null;
  prevHash: string;
  hash: string;
}

const time = (at: Date) => at.toISOString();

/** The canonical form of a record in its own format. */
export function canonicalForm(record: ChainedFields & { format?: number; personalCode?: string | null; bulkCount?: number | null }): string {
  if ((record.format ?? CHAIN_FORMAT) === 1) {
    return JSON.stringify([
      time(record.at),
      record.requestId,
      record.subject,
      record.role,
      record.callerAgency,
      record.purpose,
      record.agency,
      record.action,
      record.operation,
      record.personalCode ?? null,
      record.classes,
      record.outcome,
      record.bulkCount ?? null,
    ]);
  }
  // The time needs no escaping, so this is exactly JSON.stringify of the 15 values.
  return `[${CHAIN_FORMAT},"${time(record.at)}",${canonicalTail(record)}`;
}

/**
 * The format-2 canonical form after its first two values (the format and the time) and the comma that
 * follows them, up to the closing "]": what the writer sends with each entry, for the store to put the
 * time it grants in front (the audit_append function, prisma/audit/migrations/20261203000000_persons_format_2).
 */
export function canonicalTail(fields: Omit<ChainedFields, 'at'>): string {
  return JSON.stringify([
    fields.requestId,
    fields.subject,
    fields.role,
    fields.callerAgency,
    fields.purpose,
    fields.caseReference,
    fields.agency,
    fields.action,
    fields.operation,
    fields.persons,
    fields.classes,
    fields.outcome,
    fields.changeRef,
  ]).slice(1);
}

export function chainHash(prevHash: string, record: Parameters<typeof canonicalForm>[0]): string {
  return crypto.createHash('sha256').update(prevHash + canonicalForm(record), 'utf8').digest('hex');
}

const normalised = (values: readonly string[]) => [...new Set(values)].sort();

/** What an entry becomes once stored, but for the time (the store's): persons and classes sorted and unique. */
export function toChainedFields(entry: AuditEntry): Omit<ChainedFields, 'at'> {
  return {
    requestId: entry.requestId,
    subject: entry.subject,
    role: entry.role,
    callerAgency: entry.callerAgency,
    purpose: entry.purpose,
    caseReference: entry.caseReference ?? null,
    agency: entry.agency,
    action: entry.action,
    operation: entry.operation,
    persons: normalised(entry.persons),
    classes: normalised(entry.classes),
    outcome: entry.outcome,
    changeRef: entry.changeRef ?? null,
  };
}

/** Columns of audit_log for rowToRecord. seq stays bigint (node-postgres reads it as a string): an alias of a cast would make ORDER BY seq sort text. */
export const RECORD_COLUMNS = `seq, format, at, request_id, subject, role, caller_agency, purpose, case_reference, agency, action, operation,
  personal_code, persons, classes, outcome, bulk_count, change_ref, prev_hash, hash`;

export interface RecordRow {
  seq: string;
  format: number;
  at: Date;
  request_id: string;
  subject: string;
  role: string;
  caller_agency: string | null;
  purpose: string | null;
  case_reference: string | null;
  agency: string;
  action: string;
  operation: string;
  personal_code: string | null;
  persons: string[];
  classes: string[];
  outcome: string;
  bulk_count: number | null;
  change_ref: string | null;
  prev_hash: string;
  hash: string;
}

export function rowToRecord(row: RecordRow): AuditRecord {
  return {
    seq: Number(row.seq),
    format: row.format,
    at: row.at,
    requestId: row.request_id,
    subject: row.subject,
    role: row.role,
    callerAgency: row.caller_agency,
    purpose: row.purpose,
    caseReference: row.case_reference,
    agency: row.agency,
    action: row.action,
    operation: row.operation,
    personalCode: row.personal_code,
    persons: row.persons,
    classes: row.classes,
    outcome: row.outcome,
    bulkCount: row.bulk_count,
    changeRef: row.change_ref,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
