import type { AuditEntry } from '../access/audit-entry';

/** How many persons one request may touch before the rest are summarised (AUDIT_BULK_LIMIT elsewhere). */
export const DEFAULT_PER_REQUEST_LIMIT = 100;

/**
 * Bounds the audit records of one request: the entries of the first `perRequestLimit` distinct persons
 * (in the order given) are kept one by one; the entries of every further person are replaced by one
 * summary record per kind of access (agency, action, operation, outcome), with personalCode null,
 * bulkCount = the number of those further persons, and the union of their classes. A request that reads
 * 10,000 citizens from one agency thus writes 101 records, not 10,000: a bulk read stays visible as such
 * (who, when, how many, what kind of data) without the audit store growing with each analyst's query.
 *
 * Entries that name no person (refusals, earlier summaries) are kept as they are. The request-level values
 * (request id, subject, role, caller agency, purpose) of a summary are its first summarised entry's; so is
 * its time, when set.
 */
export function boundBulk(entries: readonly AuditEntry[], perRequestLimit = DEFAULT_PER_REQUEST_LIMIT): AuditEntry[] {
  if (!Number.isInteger(perRequestLimit) || perRequestLimit < 0) throw new RangeError(`perRequestLimit must be a whole number >= 0; got ${perRequestLimit}`);
  const kept: AuditEntry[] = [];
  const individual = new Set<string>();
  const summaries = new Map<string, { entry: AuditEntry; persons: Set<string>; classes: Set<string> }>();
  for (const entry of entries) {
    const code = entry.personalCode;
    if (code === null || individual.has(code)) {
      kept.push(entry);
      continue;
    }
    if (individual.size < perRequestLimit) {
      individual.add(code);
      kept.push(entry);
      continue;
    }
    const kind = JSON.stringify([entry.agency, entry.action, entry.operation, entry.outcome]);
    let summary = summaries.get(kind);
    if (!summary) {
      summary = { entry, persons: new Set(), classes: new Set() };
      summaries.set(kind, summary);
    }
    summary.persons.add(code);
    for (const c of entry.classes) summary.classes.add(c);
  }
  for (const { entry, persons, classes } of summaries.values()) {
    kept.push({ ...entry, personalCode: null, bulkCount: persons.size, classes: [...classes].sort() });
  }
  return kept;
}
