import crypto from 'node:crypto';
import { unauthenticatedCaller } from './graphql/errors';
import { GATEWAY_ISSUER, SERVICE_SCHEME, type CredentialRefusal, type CredentialVerifier, type IssuerPermissions } from './service-auth';
import { fromClaims, SUBJECT_PATTERN, type Principal } from './access/principal';

/**
 * Who is behind a request to a subgraph, from the headers the gateway (or a peer agency's service) sends:
 *   authorization  `Service <credential>` (lib/service-auth.ts), signed by the gateway for the client request
 *                  it serves, or by another agency's service, over this request's body; it names the person
 *                  the call is for (principal)
 *   x-request-id   the gateway's id for the client request; recorded, and logged with errors
 *   x-actor        only where subgraphs run unsealed (SUBGRAPH_SEALED=false, benchmarks): who acts
 * The actor recorded with every write is the principal's subject; a write without one is refused, so no
 * change is ever recorded as made by nobody.
 */
export const CALLER_HEADERS = { actor: 'x-actor', requestId: 'x-request-id', authorization: 'authorization' } as const;

export interface Caller {
  actor: string | null;
  requestId: string;
  /** The agency whose valid service credential came with the request; null for none or the gateway's. */
  service: string | null;
  /** The person the request is for, from a valid credential; null without one. */
  principal: Principal | null;
  /** Whether a valid credential (the gateway's or an agency's) for this subgraph came with the request. */
  credentialed: boolean;
  /** The gateway's credential says the gateway records this request's accesses (ServiceClaims.rec). */
  recordedByGateway: boolean;
  /**
   * What the credential's issuer may call here (its trust file entry): '*' (the gateway: anything but the
   * service-only operations) or the root fields listed ("Query.citizens"); null without a credential
   * (an unsealed subgraph, or a caller this process makes for its own service calls).
   */
  permissions: IssuerPermissions | null;
  /**
   * For a citizen's request through the gateway: their parents and children that an agency named earlier in the
   * same client request (ServiceClaims.rel). Citizen self-service lets this subgraph serve their names and codes.
   * Absent: none.
   */
  relatives?: ReadonlySet<string>;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** A request id a client or the gateway sent, if it is one (ids go into logs and records: no free text). */
export const isRequestId = (value: unknown): value is string => typeof value === 'string' && REQUEST_ID.test(value);

const header = (headers: Headers, name: string) => {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

/** The caller of a request without (or before checking) a credential: the x-actor and x-request-id headers only. */
export function callerFrom(headers: Headers): Caller {
  const requestId = header(headers, CALLER_HEADERS.requestId);
  return {
    actor: header(headers, CALLER_HEADERS.actor) ?? null,
    requestId: isRequestId(requestId) ? requestId : crypto.randomUUID(),
    service: null,
    principal: null,
    credentialed: false,
    recordedByGateway: false,
    permissions: null,
  };
}

/** The credential in the headers, if any: the token after `Service `. */
export function credentialOf(headers: Headers): string | undefined {
  const authorization = header(headers, CALLER_HEADERS.authorization);
  return authorization?.startsWith(`${SERVICE_SCHEME} `) ? authorization.slice(SERVICE_SCHEME.length + 1).trim() : undefined;
}

export type CallerResult = { ok: true; caller: Caller } | { ok: false; reason: CredentialRefusal; problem: string };

/**
 * The caller of a request, its credential verified against `body` (the exact bytes received). Without a
 * credential: an uncredentialed caller (the seal decides). With one that does not verify: why not.
 */
export async function verifyCaller(headers: Headers, body: Uint8Array | string, verifier: CredentialVerifier | null): Promise<CallerResult> {
  const caller = callerFrom(headers);
  const token = credentialOf(headers);
  if (token === undefined) return { ok: true, caller };
  if (!verifier) return { ok: false, reason: 'CREDENTIAL_UNTRUSTED', problem: 'this subgraph has no trust file' };
  const result = await verifier.verify(token, body);
  if (!result.ok) return result;
  const { claims, permissions, recordedByGateway, relatives } = result.credential;
  const principal = fromClaims(claims.prn);
  if (!principal) return { ok: false, reason: 'PRINCIPAL_REQUIRED', problem: 'names no valid principal' };
  return {
    ok: true,
    caller: {
      actor: principal.subject,
      requestId: principal.requestId,
      service: claims.iss === GATEWAY_ISSUER ? null : claims.iss,
      principal,
      credentialed: true,
      recordedByGateway,
      permissions,
      relatives: new Set(relatives),
    },
  };
}

/** The actor of a write; a write without one is refused before anything is read or written. */
export function requireActor(caller: Caller): string {
  if (caller.actor === null) {
    throw unauthenticatedCaller('ACTOR_REQUIRED', { header: CALLER_HEADERS.actor });
  }
  if (!SUBJECT_PATTERN.test(caller.actor)) {
    throw unauthenticatedCaller('ACTOR_INVALID', { header: CALLER_HEADERS.actor });
  }
  return caller.actor;
}

/** Operations only another agency's service may call (with a valid credential for this subgraph). */
export function requireService(caller: Caller, allowed: readonly string[]): string {
  if (caller.service === null || !allowed.includes(caller.service)) {
    throw unauthenticatedCaller('SERVICE_CREDENTIAL_REQUIRED', {});
  }
  return caller.service;
}
