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
  if (!Array.isArray(entry.persons) || !entry.persons.every((code) => typeof code === 'string' && /^[0-9]{12}$/.test(code))) {
    problems.push('persons must be a list of 12-digit codes');
  }
  if (!Array.isArray(entry.classes) || !entry.classes.every(isClassification)) problems.push(`classes must be classifications (lib/access/classification.ts)`);
  if (entry.caseReference !== null && (typeof entry.caseReference !== 'string' || entry.caseReference.length === 0 || UNSTORABLE.test(entry.caseReference))) {
    problems.push('caseReference must be a non-empty string or null');
  }
  if (entry.changeRef !== undefined && entry.changeRef !== null && !(typeof entry.changeRef === 'string' && /^[a-z][a-z0-9-]*:[0-9]+$/.test(entry.changeRef))) {
    problems.push('changeRef must be "<agency>:<change-log id>" or null');
  }
  if (entry.changeRef != null && entry.action !== 'WRITE') problems.push('only a WRITE has a changeRef');
  if (problems.length > 0) throw new InvalidAuditEntryError(`Invalid audit entry (request ${String(entry.requestId)}): ${problems.join('; ')}.`);
}
