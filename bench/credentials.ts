import { ensureDevKeys, mintDevToken, type TokenClaims } from '../tools/dev-keys';
import { toClaims } from '../lib/access/principal';
import fs from 'node:fs';
import { createCredentialSigner, GATEWAY_ISSUER, SERVICE_SCHEME, type PrivateServiceJwk } from '../lib/service-auth';
import { ensureServiceKeys } from '../tools/service-keys';
import type { Agency } from '../lib/agencies';
import { BENCH_KEYS_DIR, BENCH_SERVICE_KEYS_DIR } from './services';

/**
 * Who the bench's load goes as. With access control on: a bearer token per persona for the gateway, and for
 * the subgraph-alone measurements the credential the gateway would sign for that subgraph: one per request,
 * over its body (a credential is accepted once), signed with the gateway's key from the bench's key folder.
 * With it off: no credentials, the registrar named by x-actor for writes. Bearer tokens last the whole run.
 */
export const PERSONAS = {
  /** W1–W4: the whole record (sensitive fields included) under a court order. */
  reader: { sub: 'bench:investigator', role: 'INVESTIGATOR', agency: 'court', purpose: 'COURT_ORDER', case_ref: 'TA-HN/2026/0412' },
  /** W7: a service counter searching by name. */
  clerk: { sub: 'bench:clerk', role: 'CLERK', agency: 'residents', purpose: 'SERVICE_COUNTER' },
  /** W5. */
  analyst: { sub: 'bench:analyst', role: 'ANALYST', purpose: 'STATISTICS' },
} satisfies Record<string, TokenClaims>;

export const registrarOf = (agency: Agency['id'], sub: string): TokenClaims => ({ sub, role: 'REGISTRAR', agency, purpose: 'CIVIL_REGISTRATION' });

const RUN_SECONDS = 12 * 3600;

/** The headers of one request with this body (a subgraph credential covers the exact body). */
export type HeadersFor = (body: string) => Record<string, string>;

export interface Credentials {
  gateway(persona: TokenClaims): Promise<Record<string, string>>;
  subgraph(persona: TokenClaims, agency: Agency['id']): HeadersFor;
}

export async function benchCredentials(security: boolean): Promise<Credentials> {
  if (!security) {
    const actor = (persona: TokenClaims): Record<string, string> => (persona.role === 'REGISTRAR' ? { 'x-actor': persona.sub } : {});
    return { gateway: async (persona) => actor(persona), subgraph: (persona) => () => actor(persona) };
  }
  await ensureDevKeys(BENCH_KEYS_DIR);
  const { keyFiles } = await ensureServiceKeys(BENCH_SERVICE_KEYS_DIR);
  const signer = createCredentialSigner(GATEWAY_ISSUER, JSON.parse(fs.readFileSync(keyFiles.gateway, 'utf8')) as PrivateServiceJwk);
  return {
    gateway: async (persona) => ({ authorization: `Bearer ${await mintDevToken(BENCH_KEYS_DIR, persona, { expiresIn: RUN_SECONDS })}` }),
    subgraph: (persona, agency) => {
      const principal = toClaims({
        subject: persona.sub,
        role: persona.role as never,
        agency: persona.agency ?? null,
        personalCode: persona.personal_code ?? null,
        purpose: typeof persona.purpose === 'string' ? persona.purpose : null,
        caseReference: persona.case_ref ?? null,
        requestId: `bench-${Date.now().toString(36)}`,
      });
      return (body) => ({ authorization: `${SERVICE_SCHEME} ${signer.signNow(agency, body, { principal })}` });
    },
  };
}
