import crypto from 'node:crypto';
import { DomainError } from './graphql/errors';
import { SERVICE_SCHEME, verifyServiceToken } from './service-auth';

/**
 * Who is behind a request to a subgraph, from the headers the gateway (or a peer agency's service) sends:
 *   x-actor        the person or system acting (e.g. "registrar:hn-tp-001"); recorded with every write
 *   x-request-id   the gateway's id for the client request; recorded too, and logged with errors
 *   authorization  `Service <token>` when another agency's service calls (lib/service-auth.ts)
 * Until tokens are verified at the gateway, x-actor is what the caller says it is; every write refuses
 * to run without one, so no change is ever recorded as made by nobody.
 */
export const CALLER_HEADERS = { actor: 'x-actor', requestId: 'x-request-id', authorization: 'authorization' } as const;

export interface Caller {
  actor: string | null;
  requestId: string;
  /** The agency whose valid service credential came with the request; null for none. */
  service: string | null;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const ACTOR = /^[\p{L}\p{N}][\p{L}\p{N} _.:@/-]{0,99}$/u;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** A request id a client or the gateway sent, if it is one (ids go into logs and records: no free text). */
export const isRequestId = (value: unknown): value is string => typeof value === 'string' && REQUEST_ID.test(value);

const header = (headers: Headers, name: string) => {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

export function callerFrom(headers: Headers, verify: { secret: string; audience: string }): Caller {
  const requestId = header(headers, CALLER_HEADERS.requestId);
  const authorization = header(headers, CALLER_HEADERS.authorization);
  let service: string | null = null;
  if (authorization?.startsWith(`${SERVICE_SCHEME} `)) {
    const result = verifyServiceToken(verify.secret, authorization.slice(SERVICE_SCHEME.length + 1).trim(), verify.audience);
    if (result.ok) service = result.claims.iss;
  }
  return {
    actor: header(headers, CALLER_HEADERS.actor) ?? null,
    requestId: isRequestId(requestId) ? requestId : crypto.randomUUID(),
    service,
  };
}

/** The actor of a write; a write without one is refused before anything is read or written. */
export function requireActor(caller: Caller): string {
  if (caller.actor === null) {
    throw new DomainError('UNAUTHENTICATED', 'ACTOR_REQUIRED', `Writes must say who makes them: send the ${CALLER_HEADERS.actor} header.`);
  }
  if (!ACTOR.test(caller.actor)) {
    throw new DomainError(
      'UNAUTHENTICATED',
      'ACTOR_INVALID',
      `The ${CALLER_HEADERS.actor} header must be 1 to 100 letters, digits, spaces or . _ : @ / -, starting with a letter or digit.`,
    );
  }
  return caller.actor;
}

/** Operations only another agency's service may call (with a valid credential for this subgraph). */
export function requireService(caller: Caller, allowed: readonly string[]): string {
  if (caller.service === null || !allowed.includes(caller.service)) {
    throw new DomainError('UNAUTHENTICATED', 'SERVICE_CREDENTIAL_REQUIRED', 'This operation is only for the services of other agencies.');
  }
  return caller.service;
}
