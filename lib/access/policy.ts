import { GraphQLError } from 'graphql';
import { message, type MessageKey, type MessageParams } from '../i18n/messages';
import type { Classification } from './classification';
import type { Principal, Role } from './principal';
import { ACCESS_POLICY, type AccessPolicy } from './policy-file';

/**
 * The access policy: for each role, the purposes of use it may act under, and for each of those the
 * classifications of data it may see. One table, read by the gateway (before any subgraph is called) and by
 * every subgraph again (field by field): the same rules in both places, from the same source, which is data
 * (lib/access/access-policy.yaml, validated by lib/access/policy-file.ts); this module applies it.
 *
 * A purpose is required for every operation: a missing, unknown or (for the role) unallowed purpose is refused.
 */
export type Purpose = string;

/** Purpose → what it means. */
export const PURPOSES: Readonly<Record<Purpose, string>> = ACCESS_POLICY.purposes;

export const POLICY: AccessPolicy['roles'] = ACCESS_POLICY.roles;

/**
 * Who may break aggregates down by SENSITIVE attributes (ethnicity, religion) in the statistics
 * (subgraphs/statistics), from access-policy.yaml (sensitiveAggregates): ANALYST for STATISTICS, since official statistics (the census) publish the population
 * by ethnic group and religion. Such tables get the stricter small-cell threshold (STATISTICS_SENSITIVE_THRESHOLD)
 * and their audit records carry SENSITIVE. The records themselves stay closed to analysts: POLICY gives them no
 * SENSITIVE field.
 */
export const SENSITIVE_AGGREGATE_PURPOSES: Readonly<Partial<Record<Role, readonly Purpose[]>>> = ACCESS_POLICY.sensitiveAggregates as Readonly<
  Partial<Record<Role, readonly Purpose[]>>
>;

/** Roles that may send free-form (ad hoc) documents instead of trusted document ids. */
export const AD_HOC_ROLES: readonly Role[] = ACCESS_POLICY.adHocRoles;
/** Roles that write, each in their own agency only, and the purposes a write may be made for. */
export const WRITER_ROLES: readonly Role[] = ACCESS_POLICY.writers.roles;
export const WRITE_PURPOSES: readonly Purpose[] = ACCESS_POLICY.writers.purposes;
/** Purposes that need the reference of the case or court order they serve (Principal.caseReference). */
export const CASE_PURPOSES: readonly Purpose[] = ACCESS_POLICY.caseReferencePurposes;
/**
 * Root fields a citizen may ask, each only for their own record (the gateway checks the argument, the
 * subgraphs the records they resolve, `_entities` included).
 */
export const CITIZEN_ROOT_FIELDS: readonly string[] = ACCESS_POLICY.citizenRootFields;
/**
 * Root fields only some roles may ask, whatever their classifications allow: a citizen's own access log is the
 * calling citizen's, the audit log is for auditors. The gateway refuses anyone else before any subgraph is called,
 * and the residents subgraph checks again; the published schema's classification lines say the same.
 */
export const ROOT_FIELD_ROLES: Readonly<Record<string, readonly Role[]>> = ACCESS_POLICY.rootFieldRoles;

/** Whether a role may ask a root field that ROOT_FIELD_ROLES reserves (any role may ask the others). */
export const mayAskRootField = (role: Role, field: string): boolean =>
  !Object.hasOwn(ROOT_FIELD_ROLES, field) || ROOT_FIELD_ROLES[field].includes(role);

/**
 * Citizen self-service (role CITIZEN, purpose OWN_DATA): what a citizen may read beyond their own record.
 * Their own record is theirs whole (sensitive fields, their residences, their household membership and its
 * address, their cards, their own birth registration). Their parents and children, the persons their birth
 * registration and their children's name them with, they see by name and personal code only: enough to
 * recognise them and to spot an error to report, nothing of the relatives' own data (dates, addresses, cards,
 * sensitive fields), and nothing onward from them (a parent's parents, a child's household). Other members of
 * their household are not their relatives in this sense: the household's head and member list are refused.
 * Every read of a relative's name is audited under the relative's code too, so it shows in their access log.
 *
 * As coordinates (Type.field) of the supergraph, read by the gateway (a whole-document check before any
 * subgraph is called, gateway/citizen-self-service.ts) and by each subgraph (field by field, person by person,
 * lib/access/subgraph-access.ts).
 */
export const CITIZEN_SELF_SERVICE: AccessPolicy['citizenSelfService'] = ACCESS_POLICY.citizenSelfService;

// Own keys only: a purpose named "constructor" or "__proto__" is no purpose.
export const isPurposeOf = (policy: AccessPolicy, value: unknown): value is Purpose => typeof value === 'string' && Object.hasOwn(policy.purposes, value);

/** One argument only, so that it can be given to every() and filter() as it is. */
export const isPurpose = (value: unknown): value is Purpose => isPurposeOf(ACCESS_POLICY, value);

/** A refusal by the policy: FORBIDDEN with a stable reason and a message already in the caller's language. */
export function forbiddenError(reason: string, text: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(text, { extensions: { code: 'FORBIDDEN', reason, ...details } });
}

/** The same with the message of `key` (lib/i18n/messages.ts); the reason is the key unless `details.reason` names another. */
export function forbidden<K extends MessageKey>(key: K, params: MessageParams<K>, details: Record<string, unknown> & { reason?: string } = {}): GraphQLError {
  const { reason = key, ...rest } = details;
  return forbiddenError(reason, message(key, params as never), rest);
}

const purposesOf = (role: Role, policy: AccessPolicy = ACCESS_POLICY) => Object.keys(policy.roles[role] ?? {}).join(', ');

/**
 * The classifications the principal may see under its purpose; throws FORBIDDEN for a purpose it may not
 * use, or a case purpose without its case reference.
 */
export function allowedClassifications(principal: Principal, policy: AccessPolicy = ACCESS_POLICY): ReadonlySet<Classification> {
  const { role, purpose } = principal;
  if (purpose === null) {
    throw forbidden('PURPOSE_REQUIRED', { purposes: purposesOf(role) });
  }
  if (!isPurposeOf(policy, purpose)) {
    throw forbidden('PURPOSE_UNKNOWN', { purpose: String(purpose).slice(0, 40), purposes: Object.keys(policy.purposes).join(', ') });
  }
  const grants = policy.roles[role];
  const allowed = grants && Object.hasOwn(grants, purpose) ? grants[purpose] : undefined;
  if (!allowed) {
    throw forbidden('PURPOSE_NOT_ALLOWED', { role, purpose, purposes: purposesOf(role, policy) });
  }
  if (policy.caseReferencePurposes.includes(purpose) && !principal.caseReference) {
    throw forbidden('CASE_REFERENCE_REQUIRED', { purpose });
  }
  return new Set(allowed);
}

/** Whether the principal may write in an agency: a registrar of that agency, for civil registration. */
export function mayWrite(principal: Principal, agency: string): boolean {
  return WRITER_ROLES.includes(principal.role) && principal.agency === agency && isPurpose(principal.purpose) && WRITE_PURPOSES.includes(principal.purpose);
}
