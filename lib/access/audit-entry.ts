import type { Role } from './principal';

/**
 * One audit record: an access to a person's data (or a refused attempt), written to the append-only,
 * hash-chained audit store before the response that carries the data leaves.
 */
export interface AuditEntry {
  /** The gateway's request id. */
  requestId: string;
  subject: string;
  role: Role;
  /** The caller's agency (clerk, registrar, investigator), if any. */
  callerAgency: string | null;
  purpose: string | null;
  /** The agency (subgraph) whose data was accessed, or "gateway" for a refusal there. */
  agency: string;
  /** READ or WRITE of a person's data, or REFUSED (an attempt that was turned down). */
  action: 'READ' | 'WRITE' | 'REFUSED';
  /** What was asked: the root field or mutation, or "_entities". */
  operation: string;
  /** The citizen whose data it is; null for a refusal that names none, or a bulk summary record. */
  personalCode: string | null;
  /** Classifications of the data accessed (lib/access/classification.ts), sorted. */
  classes: string[];
  outcome: 'OK' | 'DENIED' | 'ERROR';
  /** For a bulk read beyond the per-person bound: how many persons this one record stands for. */
  bulkCount?: number;
  /** When the access happened; the store's own clock if absent. */
  at?: Date;
}

/** Where audit entries go. `record` resolves only once the entries are durable (committed). */
export interface AuditSink {
  record(entries: readonly AuditEntry[]): Promise<void>;
  close(): Promise<void>;
}
