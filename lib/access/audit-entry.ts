import type { Role } from './principal';

/**
 * One audit record: an access to persons' data (or a refused attempt) by one request, in one agency, of one
 * kind, written to the append-only, hash-chained audit store before the response that carries the data
 * leaves. A request that touches many persons writes one record naming all of them (never an anonymous
 * summary): each person's access log, and an auditor's search by personal code, finds it.
 * The time is not the client's to give: the store dates every record with its own clock (lib/audit/chain.ts).
 */
export interface AuditEntry {
  /** The gateway's request id. */
  requestId: string;
  subject: string;
  role: Role;
  /** The caller's agency (clerk, registrar, investigator), if any. */
  callerAgency: string | null;
  purpose: string | null;
  /** The case or court order reference an investigator acted under (POLICE_CASE, COURT_ORDER); null otherwise. */
  caseReference: string | null;
  /** The agency (subgraph) whose data was accessed, or "gateway" for a refusal there. */
  agency: string;
  /** READ or WRITE of persons' data, or REFUSED (an attempt that was turned down). */
  action: 'READ' | 'WRITE' | 'REFUSED';
  /** What was asked: the root field or mutation, or "_entities". */
  operation: string;
  /** Every person whose data this record covers: 12-digit codes, unique (the writer sorts them); empty for a refusal that names no one. */
  persons: readonly string[];
  /** Classifications of the data accessed (lib/access/classification.ts). */
  classes: readonly string[];
  outcome: 'OK' | 'DENIED' | 'ERROR';
  /** A WRITE shipped from an agency's change log (outbox): "<agency>:<change-log id>"; absent/null otherwise. */
  changeRef?: string | null;
}

/** Where audit entries go. `record` resolves only once the entries are durable (committed). */
export interface AuditSink {
  record(entries: readonly AuditEntry[]): Promise<void>;
  close(): Promise<void>;
}
