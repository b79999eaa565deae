import { ensureDevKeys, mintDevToken, type TokenClaims } from '../lib/dev-keys';
import { toClaims } from '../lib/access/principal';
import { GATEWAY_ISSUER, SERVICE_SCHEME, signServiceToken } from '../lib/service-auth';
import { DEV_SERVICE_SECRET } from '../lib/subgraph-config';
import type { Agency } from '../lib/agencies';
import { BENCH_KEYS_DIR } from './services';

/**
 * Who the bench's load goes as. With access control on: a bearer token per persona for the gateway, and for
 * the subgraph-alone measurements the credential the gateway would sign for that subgraph. With it off:
 * no credentials, the registrar named by x-actor for writes. Tokens last the whole run.
 */
export const PERSONAS = {
  /** W1–W4: the whole record (sensitive fields included) under a court order. */
  reader: { sub: 'bench:investigator', role: 'INVESTIGATOR', agency: 'court', purpose: 'COURT_ORDER', case_ref: 'TA-HN/2026/0412' },
  /** W5. */
  analyst: { sub: 'bench:analyst', role: 'ANALYST', purpose: 'STATISTICS' },
} satisfies Record<string, TokenClaims>;

export const registrarOf = (agency: Agency['id'], sub: string): TokenClaims => ({ sub, role: 'REGISTRAR', agency, purpose: 'CIVIL_REGISTRATION' });

const RUN_SECONDS = 12 * 3600;

export interface Credentials {
  gateway(persona: TokenClaims): Promise<Record<string, string>>;
  subgraph(persona: TokenClaims, agency: Agency['id']): Record<string, string>;
}

export async function benchCredentials(security: boolean): Promise<Credentials> {
  if (!security) {
    const actor = (persona: TokenClaims): Record<string, string> => (persona.role === 'REGISTRAR' ? { 'x-actor': persona.sub } : {});
    return { gateway: async (persona) => actor(persona), subgraph: (persona) => actor(persona) };
  }
  await ensureDevKeys(BENCH_KEYS_DIR);
  const secret = process.env.SERVICE_TOKEN_SECRET?.trim() || DEV_SERVICE_SECRET;
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
      return { authorization: `${SERVICE_SCHEME} ${signServiceToken(secret, GATEWAY_ISSUER, agency, { principal, ttlSeconds: RUN_SECONDS })}` };
    },
  };
}
