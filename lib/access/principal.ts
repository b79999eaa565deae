import type { PrincipalClaims } from '../service-auth';

/**
 * Who is asking, as every part of Citizen Graph sees it once the gateway has authenticated the caller:
 * from the bearer token (JWT) at the gateway, then from the gateway's signed credential in each subgraph.
 *
 * Roles (what a person does), purposes of use (why this request), and the agency a clerk or registrar
 * works for. The access policy (lib/access/policy.ts) maps role and purpose to the classifications of
 * data allowed.
 */
export const ROLES = [
  /** A service-counter clerk of an agency: reads the unified view to serve a citizen. */
  'CLERK',
  /** An agency registrar: writes in their own agency only (and reads as a clerk does). */
  'REGISTRAR',
  /** Police or court staff acting on a case or an order: may read sensitive data for it. */
  'INVESTIGATOR',
  /** Aggregates and pseudonymised lists; never names, codes or addresses of individuals. Free-form queries allowed. */
  'ANALYST',
  /** Reads the audit log. */
  'AUDITOR',
  /** A citizen: their own record and their own access log, nothing else. */
  'CITIZEN',
] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The token's subject: the person (or system) acting. */
  subject: string;
  role: Role;
  /** The agency a clerk, registrar or investigator works for (e.g. "residents", "police"); null for others. */
  agency: string | null;
  /** A citizen's own personal code (role CITIZEN); null for other roles. */
  personalCode: string | null;
  /** The purpose of use of this request (e.g. SERVICE_COUNTER), bound to the token (gateway/authentication.ts). */
  purpose: string | null;
  /** The case or court order an investigator acts under (POLICE_CASE, COURT_ORDER): recorded with every access. */
  caseReference: string | null;
  /** The gateway's id of the client request: every log line and audit record of the request carries it. */
  requestId: string;
}

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/**
 * Who a subject (a token's `sub`, the actor recorded with every write) may be: 1 to 100 letters, digits,
 * spaces or . _ : @ / -, starting with a letter or digit. One pattern for the gateway's token check and the
 * subgraphs' actor check, so that whatever the gateway lets through a subgraph can record.
 */
export const SUBJECT_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} _.:@/-]{0,99}$/u;


/** The principal as a credential carries it to a subgraph. */
export function toClaims(principal: Principal): PrincipalClaims {
  return {
    sub: principal.subject,
    role: principal.role,
    agency: principal.agency,
    pc: principal.personalCode,
    purpose: principal.purpose,
    cr: principal.caseReference,
    rid: principal.requestId,
  };
}

/** The principal a valid credential names; null when its claims are not a principal's. */
export function fromClaims(claims: PrincipalClaims | undefined): Principal | null {
  // Checked by type and value like a bearer token's claims (gateway/token-claims.ts): a signed credential
  // whose principal is malformed names no one, and a call for no one is refused (lib/access/subgraph-access.ts).
  if (!claims || typeof claims !== 'object') return null;
  const optional = (value: unknown) => value === undefined || value === null || typeof value === 'string';
  if (typeof claims.sub !== 'string' || !SUBJECT_PATTERN.test(claims.sub) || !isRole(claims.role)) return null;
  if (typeof claims.rid !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(claims.rid)) return null;
  if (!optional(claims.agency) || !optional(claims.purpose) || !optional(claims.cr)) return null;
  if (!(claims.pc === undefined || claims.pc === null || (typeof claims.pc === 'string' && /^\d{12}$/.test(claims.pc)))) return null;
  if (claims.role === 'CITIZEN' && !claims.pc) return null;
  return {
    subject: claims.sub,
    role: claims.role,
    agency: claims.agency ?? null,
    personalCode: claims.pc ?? null,
    purpose: claims.purpose ?? null,
    caseReference: claims.cr ?? null,
    requestId: claims.rid,
  };
}
