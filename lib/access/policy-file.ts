import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ROLES, type Role } from './principal';

/**
 * The access policy as data (access-policy.yaml beside this module): classifications, purposes, and the
 * role × purpose → classifications table, with the lists the policy code applies (case purposes, writers,
 * reserved root fields, citizen self-service). Read once when a process loads this module, and validated
 * whole: a name that is not defined where it is used, a role missing or unknown, a typo in a key — the
 * process refuses to start, naming the problem, rather than run with a policy that silently allows or refuses
 * something else than what was written.
 */
export interface AccessPolicy {
  /** Classification → what it covers. */
  classifications: Readonly<Record<string, string>>;
  /** Purpose of use → what it means. */
  purposes: Readonly<Record<string, string>>;
  /** Role → purpose → the classifications allowed. Every role of ROLES has an entry. */
  roles: Readonly<Record<Role, Readonly<Record<string, readonly string[]>>>>;
  caseReferencePurposes: readonly string[];
  adHocRoles: readonly Role[];
  writers: { roles: readonly Role[]; purposes: readonly string[] };
  citizenRootFields: readonly string[];
  rootFieldRoles: Readonly<Record<string, readonly Role[]>>;
  citizenSelfService: { relativeEdges: readonly string[]; relativeFields: readonly string[]; deniedFields: readonly string[] };
  /** Role → purposes under which aggregates may use SENSITIVE dimensions (subgraphs/statistics); absent: nobody. */
  sensitiveAggregates: Readonly<Partial<Record<Role, readonly string[]>>>;
}

export const ACCESS_POLICY_FILE = path.join(__dirname, 'access-policy.yaml');

/**
 * Classifications the code itself names (the classes recorded for each kind of write, lib/audit/outbox.ts):
 * a policy file without them is refused.
 */
export const CLASSIFICATIONS_THE_CODE_USES = ['REFERENCE', 'BASIC_IDENTITY', 'RESIDENCE', 'SENSITIVE', 'RELATIONSHIPS', 'AUDIT'] as const;

export class AccessPolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(`The access policy is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'AccessPolicyError';
  }
}

const NAME = /^[A-Z][A-Z0-9_]{1,39}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]{0,63}\.[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const KEYS = ['classifications', 'purposes', 'roles', 'caseReferencePurposes', 'adHocRoles', 'writers', 'citizenRootFields', 'rootFieldRoles', 'citizenSelfService', 'sensitiveAggregates'];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses and validates a policy document (YAML text); throws AccessPolicyError listing every problem. */
export function readAccessPolicy(text: string): AccessPolicy {
  const problems: string[] = [];
  const document: unknown = YAML.parse(text);
  if (!isRecord(document)) throw new AccessPolicyError(['the document is not a mapping']);
  for (const key of Object.keys(document)) if (!KEYS.includes(key)) problems.push(`unknown key "${key}" (expected one of ${KEYS.join(', ')})`);

  /** A mapping of NAME → non-empty description. */
  const glossary = (key: string): Record<string, string> => {
    const value = document[key];
    if (!isRecord(value) || Object.keys(value).length === 0) {
      problems.push(`${key}: a mapping of names to descriptions is required`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [name, description] of Object.entries(value)) {
      if (!NAME.test(name)) problems.push(`${key}: "${name}" is not a name (capitals, digits and _)`);
      else if (typeof description !== 'string' || description.trim() === '') problems.push(`${key}: ${name} has no description`);
      else out[name] = description.trim();
    }
    return out;
  };
  const classifications = glossary('classifications');
  const purposes = glossary('purposes');

  /** A list whose every item passes `known`; names the first of `where` for each unknown item. */
  const list = (value: unknown, where: string, known: (item: string) => boolean, kind: string): string[] => {
    if (!Array.isArray(value)) {
      problems.push(`${where}: a list is required`);
      return [];
    }
    const items: string[] = [];
    for (const item of value) {
      if (typeof item !== 'string' || !known(item)) problems.push(`${where}: "${String(item)}" is not a ${kind}`);
      else items.push(item);
    }
    return [...new Set(items)];
  };
  const isRole = (item: string) => (ROLES as readonly string[]).includes(item);
  const isClass = (item: string) => Object.hasOwn(classifications, item);
  const isPurpose = (item: string) => Object.hasOwn(purposes, item);

  const roles = {} as Record<Role, Record<string, readonly string[]>>;
  const table = document.roles;
  if (!isRecord(table)) problems.push('roles: a mapping of role → purpose → classifications is required');
  else {
    for (const role of Object.keys(table)) if (!isRole(role)) problems.push(`roles: "${role}" is not a role (${ROLES.join(', ')})`);
    for (const role of ROLES) {
      const grants = table[role];
      if (!isRecord(grants)) {
        problems.push(`roles: ${role} has no entry (a role that may do nothing says so with an empty mapping: ${role}: {})`);
        continue;
      }
      roles[role] = {};
      for (const [purpose, classes] of Object.entries(grants)) {
        if (!isPurpose(purpose)) problems.push(`roles.${role}: "${purpose}" is not a purpose of "purposes"`);
        else roles[role][purpose] = Object.freeze(list(classes, `roles.${role}.${purpose}`, isClass, 'classification of "classifications"'));
      }
      Object.freeze(roles[role]);
    }
  }

  const writers = isRecord(document.writers) ? document.writers : {};
  if (!isRecord(document.writers)) problems.push('writers: a mapping with roles and purposes is required');
  const selfService = isRecord(document.citizenSelfService) ? document.citizenSelfService : {};
  if (!isRecord(document.citizenSelfService)) problems.push('citizenSelfService: a mapping with relativeEdges, relativeFields and deniedFields is required');
  const coordinates = (key: string) =>
    Object.freeze(list(selfService[key], `citizenSelfService.${key}`, (item) => COORDINATE.test(item), 'coordinate (Type.field)'));
  const rootFieldRoles: Record<string, readonly Role[]> = {};
  if (!isRecord(document.rootFieldRoles)) problems.push('rootFieldRoles: a mapping of root field → roles is required');
  else {
    for (const [field, allowed] of Object.entries(document.rootFieldRoles)) {
      if (!FIELD.test(field)) problems.push(`rootFieldRoles: "${field}" is not a field name`);
      else rootFieldRoles[field] = Object.freeze(list(allowed, `rootFieldRoles.${field}`, isRole, 'role') as Role[]);
    }
  }
  const sensitiveAggregates: Partial<Record<Role, readonly string[]>> = {};
  if (document.sensitiveAggregates !== undefined && !isRecord(document.sensitiveAggregates)) problems.push('sensitiveAggregates: a mapping of role → purposes is required');
  else {
    for (const [role, purposesOfRole] of Object.entries(document.sensitiveAggregates ?? {})) {
      if (!isRole(role)) problems.push(`sensitiveAggregates: "${role}" is not a role (${ROLES.join(', ')})`);
      else sensitiveAggregates[role as Role] = Object.freeze(list(purposesOfRole, `sensitiveAggregates.${role}`, isPurpose, 'purpose'));
    }
  }
  for (const name of CLASSIFICATIONS_THE_CODE_USES) {
    if (!isClass(name)) problems.push(`classifications: ${name} is missing (the code records it for some writes: lib/audit/outbox.ts)`);
  }

  const policy: AccessPolicy = {
    classifications: Object.freeze(classifications),
    purposes: Object.freeze(purposes),
    roles: Object.freeze(roles),
    caseReferencePurposes: Object.freeze(list(document.caseReferencePurposes, 'caseReferencePurposes', isPurpose, 'purpose')),
    adHocRoles: Object.freeze(list(document.adHocRoles, 'adHocRoles', isRole, 'role') as Role[]),
    writers: Object.freeze({
      roles: Object.freeze(list(writers.roles, 'writers.roles', isRole, 'role') as Role[]),
      purposes: Object.freeze(list(writers.purposes, 'writers.purposes', isPurpose, 'purpose')),
    }),
    citizenRootFields: Object.freeze(list(document.citizenRootFields, 'citizenRootFields', (item) => FIELD.test(item), 'field name')),
    rootFieldRoles: Object.freeze(rootFieldRoles),
    citizenSelfService: Object.freeze({
      relativeEdges: coordinates('relativeEdges'),
      relativeFields: coordinates('relativeFields'),
      deniedFields: coordinates('deniedFields'),
    }),
    sensitiveAggregates: Object.freeze(sensitiveAggregates),
  };
  if (problems.length > 0) throw new AccessPolicyError(problems);
  return policy;
}

/** The policy every process runs with: the file beside this module (copied into the build with it). */
export const ACCESS_POLICY: AccessPolicy = readAccessPolicy(fs.readFileSync(ACCESS_POLICY_FILE, 'utf8'));
