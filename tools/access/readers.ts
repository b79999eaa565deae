import type { Classification } from '../../lib/access/classification';
import { CASE_PURPOSES, CITIZEN_ROOT_FIELDS, CITIZEN_SELF_SERVICE, mayAskRootField, POLICY, WRITE_PURPOSES, WRITER_ROLES, type Purpose } from '../../lib/access/policy';
import { ROLES, type Role } from '../../lib/access/principal';
import { ACCESS_POLICY, type AccessPolicy } from '../../lib/access/policy-file';

/**
 * Who may read (or, for a mutation, make) a field, worked out from the access policy (policy.ts) so that
 * what the published schema tells frontend developers is what the gateway and the subgraphs enforce.
 * The API schema drops custom directives, so `npm run schema` writes this into each field's description as
 * its last line (tools/api-schema.ts), in a fixed form a program can read back (parseClassificationLine).
 */
export interface Reader {
  role: Role;
  /** The purposes of use under which the role may see the field, in the policy's order. */
  purposes: Purpose[];
  /** For a mutation: the agency whose registrars may make it. */
  agency?: string;
}

export type FieldPosition = { kind: 'query'; rootField: string } | { kind: 'mutation'; owner: string | undefined } | { kind: 'nested'; coordinate: string };

/** Every role with the purposes whose classifications include this one. */
export function readersOf(classification: Classification, policy: AccessPolicy = ACCESS_POLICY): Reader[] {
  return ROLES.flatMap((role) => {
    const grants = policy.roles[role] ?? {};
    const purposes = (Object.keys(grants) as Purpose[]).filter((purpose) => grants[purpose]!.includes(classification));
    return purposes.length > 0 ? [{ role, purposes }] : [];
  });
}

/** Who may ask for a field where it sits: root fields add the citizen's and the reserved fields' rules, writes the registrars'. */
export function readersAt(classification: Classification, position: FieldPosition): Reader[] {
  if (position.kind === 'mutation') {
    const owner = position.owner;
    if (owner === undefined) return [];
    return WRITER_ROLES.flatMap((role) => {
      const purposes = WRITE_PURPOSES.filter((purpose) => POLICY[role][purpose]?.includes(classification));
      return purposes.length > 0 ? [{ role, purposes, agency: owner }] : [];
    });
  }
  const readers = readersOf(classification);
  // A citizen's self-service refuses some fields even on their own record (they lead to non-relatives).
  const denied: readonly string[] = CITIZEN_SELF_SERVICE.deniedFields;
  if (position.kind === 'nested') return readers.filter((reader) => reader.role !== 'CITIZEN' || !denied.includes(position.coordinate));
  const field = position.rootField;
  return readers.filter((reader) => (reader.role !== 'CITIZEN' || CITIZEN_ROOT_FIELDS.includes(field)) && mayAskRootField(reader.role, field));
}

const PREFIX = 'Classification: ';
const CASE_NOTE = ' (with a case reference)';

/**
 * The line, e.g. `Classification: SENSITIVE — readable by REGISTRAR for CIVIL_REGISTRATION; INVESTIGATOR for
 * POLICE_CASE or COURT_ORDER (with a case reference); CITIZEN for OWN_DATA.` and, for a write,
 * `Classification: RESIDENCE — writable by REGISTRAR of residents for CIVIL_REGISTRATION.`
 */
export function classificationLine(classification: Classification, position: FieldPosition): string {
  const readers = readersAt(classification, position);
  const verb = position.kind === 'mutation' ? 'writable' : 'readable';
  if (readers.length === 0) return `${PREFIX}${classification} — ${verb} by no role.`;
  const who = readers.map((reader) => {
    const needsCase = reader.purposes.some((purpose) => CASE_PURPOSES.includes(purpose));
    return `${reader.role}${reader.agency ? ` of ${reader.agency}` : ''} for ${reader.purposes.join(' or ')}${needsCase ? CASE_NOTE : ''}`;
  });
  return `${PREFIX}${classification} — ${verb} by ${who.join('; ')}.`;
}

export interface ParsedClassificationLine {
  classification: string;
  verb: 'readable' | 'writable';
  readers: Reader[];
}

const LINE = /^Classification: ([A-Z_]+) — (readable|writable) by (.+)\.$/;
const READER = /^([A-Z_]+)(?: of ([a-z0-9-]+))? for ([A-Z_]+(?: or [A-Z_]+)*)(?: \(with a case reference\))?$/;

/** Reads the last line of a description back; null when the description does not end with one. */
export function parseClassificationLine(description: string | null | undefined): ParsedClassificationLine | null {
  const match = LINE.exec(description?.split('\n').at(-1) ?? '');
  if (!match) return null;
  const [, classification, verb, who] = match;
  if (who === 'no role') return { classification, verb: verb as 'readable' | 'writable', readers: [] };
  const readers: Reader[] = [];
  for (const part of who.split('; ')) {
    const reader = READER.exec(part);
    if (!reader) return null;
    readers.push({ role: reader[1] as Role, purposes: reader[3].split(' or ') as Purpose[], ...(reader[2] ? { agency: reader[2] } : {}) });
  }
  return { classification, verb: verb as 'readable' | 'writable', readers };
}
