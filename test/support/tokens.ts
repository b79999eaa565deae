import { mintDevToken, type MintOptions, type TokenClaims } from '../../tools/dev-keys';
import { testDatabases } from './databases';

/**
 * Bearer tokens for tests, signed with the run's own keys (test/global-setup.ts), as an identity provider
 * would sign them. Personas name the callers tests act as.
 */
export const mintToken = (claims: TokenClaims, options?: MintOptions) => mintDevToken(testDatabases().keysDir, claims, options);

export const bearer = async (claims: TokenClaims, options?: MintOptions) => ({ authorization: `Bearer ${await mintToken(claims, options)}` });

export const PERSONAS = {
  /** Reads everything a person's record holds (a court order): the default reader of the read-path tests. */
  investigator: { sub: 'test:investigator', role: 'INVESTIGATOR', agency: 'court', purpose: 'COURT_ORDER', case_ref: 'TA-HN/2026/0412' },
  clerk: { sub: 'test:clerk', role: 'CLERK', agency: 'residents', purpose: 'SERVICE_COUNTER' },
  analyst: { sub: 'test:analyst', role: 'ANALYST', purpose: 'STATISTICS' },
  auditor: { sub: 'test:auditor', role: 'AUDITOR', purpose: 'AUDIT' },
  registrar: (agency: string, sub = `test:registrar:${agency}`) => ({ sub, role: 'REGISTRAR', agency, purpose: 'CIVIL_REGISTRATION' }),
  citizen: (personalCode: string) => ({ sub: `citizen:${personalCode}`, role: 'CITIZEN', personal_code: personalCode, purpose: 'OWN_DATA' }),
} as const;
