import type { AuditEntry } from '../access/audit-entry';
import { isClassification } from '../access/classification';
import { isRole } from '../access/principal';

const ACTIONS = new Set(['READ', 'WRITE', 'REFUSED']);
const OUTCOMES = new Set(['OK', 'DENIED', 'ERROR']);

/** Text PostgreSQL refuses (NUL) or that is not valid Unicode (a lone surrogate cannot be encoded as UTF-8). */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export class InvalidAuditEntryError extends Error {
  name = 'InvalidAuditEntryError';
}

/**
 * Refuses an entry the store would refuse, before it joins a group commit: one caller's malformed entry
 * must fail that caller's record() alone, not the transaction it would share with other requests' entries.
 */
export function assertValidEntry(entry: AuditEntry): void {
  const problems: string[] = [];
  const text = (name: keyof AuditEntry, nullable: boolean) => {
    const value = entry[name];
    if (value === null && nullable) return;
    if (typeof value !== 'string' || value.length === 0) problems.push(`${name} must be a non-empty string${nullable ? ' or null' : ''}`);
    else if (UNSTORABLE.test(value)) problems.push(`${name} contains a NUL character or invalid Unicode`);
  };
  text('requestId', false);
  text('subject', false);
  text('agency', false);
  text('operation', false);
  text('callerAgency', true);
  text('purpose', true);
  if (!isRole(entry.role)) problems.push(`role ${JSON.stringify(entry.role)} is not a role`);
  if (!ACTIONS.has(entry.action)) problems.push(`action ${JSON.stringify(entry.action)} is not READ, WRITE or REFUSED`);
  if (!OUTCOMES.has(entry.outcome)) problems.push(`outcome ${JSON.stringify(entry.outcome)} is not OK, DENIED or ERROR`);
  if (entry.personalCode !== null && !(typeof entry.personalCode === 'string' && /^[0-9]{12}$/.test(entry.personalCode))) {
    problems.push(`personalCode must be 12 digits or null`);
  }
  if (!Array.isArray(entry.classes) || !entry.classes.every(isClassification)) problems.push(`classes must be classifications (lib/access/classification.ts)`);
  if (entry.bulkCount !== undefined) {
    if (!Number.isInteger(entry.bulkCount) || entry.bulkCount < 1 || entry.bulkCount > 2 ** 31 - 1) problems.push('bulkCount must be a positive whole number');
    if (entry.personalCode !== null) problems.push('a bulk summary (bulkCount) names no personalCode');
  }
  if (entry.at !== undefined && !(entry.at instanceof Date && !Number.isNaN(entry.at.getTime()))) problems.push('at must be a valid Date');
  if (problems.length > 0) throw new InvalidAuditEntryError(`Invalid audit entry (request ${String(entry.requestId)}): ${problems.join('; ')}.`);
}
