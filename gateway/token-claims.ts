import type { JWTPayload } from 'jose';
import { isPurpose, type Purpose } from '../lib/access/policy';
import { isRole, SUBJECT_PATTERN, type Principal } from '../lib/access/principal';
import { isPersonalCode } from '../lib/personal-code';
import { message } from '../lib/i18n/messages';

/**
 * The schema of a bearer token's claims, checked by type and value after its signature: anything a
 * trusted identity provider signed that is not exactly of the expected kind is refused (401, TOKEN_CLAIMS,
 * with `extensions.claim` naming it), never coerced or ignored. A `sub` that is a number, a `purpose`
 * that is an object, a citizen's token without their code: each would otherwise leave a principal that
 * the subgraphs cannot use, and "no principal" must never mean "no checks".
 *
 *   sub            1-100 letters, digits, spaces or . _ : @ / -, starting with a letter or digit
 *   role           one of lib/access/principal.ts' ROLES
 *   agency         required for CLERK, REGISTRAR, INVESTIGATOR: a lower-case agency id; absent for others
 *   personal_code  required for CITIZEN (a well-formed personal code); absent for others
 *   purpose        a purpose of use, or a list of them (the header x-purpose then chooses one); may be absent,
 *                  and the request is then refused by the policy as PURPOSE_REQUIRED (403, audited)
 *   case_ref       the case or court order an investigator acts under (optional; see authentication.ts)
 *   iat, exp       both present; exp - iat at most the configured maximum lifetime
 * The purpose is the token's: a header may only choose among the purposes the token lists, never add one.
 */
export class ClaimsError extends Error {
  constructor(
    readonly claim: string,
    text: string,
  ) {
    super(text);
    this.name = 'ClaimsError';
  }
}

const AGENCY = /^[a-z][a-z0-9-]{0,39}$/;
/** A case or court order reference as agencies write them: "VKS-HN/2026/0412", "123/2026/QĐ-TA". */
export const CASE_REFERENCE_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} _.:/-]{0,63}$/u;
const PURPOSES_PER_TOKEN = 7;

export interface TokenClaims {
  subject: string;
  role: Principal['role'];
  agency: string | null;
  personalCode: string | null;
  /** The purposes the token allows (one, several, or none). */
  purposes: readonly Purpose[];
  caseReference: string | null;
}

const fail = (claim: string, text: string): never => {
  throw new ClaimsError(claim, text);
};

const has = (payload: JWTPayload, claim: string) => Object.hasOwn(payload, claim) && payload[claim] !== undefined;

export function readTokenClaims(payload: JWTPayload, options: { maxLifetimeS: number }): TokenClaims {
  const { sub, role } = payload;
  if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub)) {
    fail('sub', message('CLAIM_SUB'));
  }
  if (!isRole(role)) fail('role', message('CLAIM_ROLE'));
  const validRole = role as Principal['role'];
  if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number') fail('iat', message('CLAIM_TIMES'));
  if (payload.exp! - payload.iat! > options.maxLifetimeS) {
    fail('exp', message('CLAIM_LIFETIME', { lifetime: payload.exp! - payload.iat!, maximum: options.maxLifetimeS }));
  }

  const needsAgency = validRole === 'CLERK' || validRole === 'REGISTRAR' || validRole === 'INVESTIGATOR';
  let agency: string | null = null;
  if (needsAgency) {
    if (typeof payload.agency !== 'string' || !AGENCY.test(payload.agency)) {
      fail('agency', message('CLAIM_AGENCY_REQUIRED', { role: validRole }));
    }
    agency = payload.agency as string;
  } else if (has(payload, 'agency')) {
    fail('agency', message('CLAIM_AGENCY_FORBIDDEN', { role: validRole }));
  }

  let personalCode: string | null = null;
  if (validRole === 'CITIZEN') {
    if (!isPersonalCode(payload.personal_code)) fail('personal_code', message('CLAIM_PERSONAL_CODE_REQUIRED'));
    personalCode = payload.personal_code as string;
  } else if (has(payload, 'personal_code')) {
    fail('personal_code', message('CLAIM_PERSONAL_CODE_FORBIDDEN'));
  }

  const purposes = readPurposes(payload.purpose);
  let caseReference: string | null = null;
  if (has(payload, 'case_ref')) {
    if (typeof payload.case_ref !== 'string' || !CASE_REFERENCE_PATTERN.test(payload.case_ref)) {
      fail('case_ref', message('CLAIM_CASE_REF'));
    }
    caseReference = payload.case_ref as string;
  }
  return { subject: sub as string, role: validRole, agency, personalCode, purposes, caseReference };
}

function readPurposes(claim: unknown): readonly Purpose[] {
  if (claim === undefined || claim === null) return [];
  const list = Array.isArray(claim) ? claim : [claim];
  if (list.length === 0 || list.length > PURPOSES_PER_TOKEN || !list.every(isPurpose)) {
    fail('purpose', message('CLAIM_PURPOSE'));
  }
  return [...new Set(list as Purpose[])];
}
