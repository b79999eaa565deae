import crypto from 'node:crypto';

/**
 * Credentials for calls to a subgraph: from the gateway (issuer "gateway", for the client request it serves)
 * and from one agency's service to another (the birth registry asking the Resident Information Center for a
 * personal code, the National ID Center asking whether a card holder is alive). Subgraphs answer nothing
 * without one (lib/access/subgraph-seal.ts).
 *
 * A token is `v1.<claims>.<signature>`: base64url JSON claims { iss, aud, iat, exp } and an HMAC-SHA256 of
 * them under the services' shared secret (SERVICE_TOKEN_SECRET). It lives a minute, names the caller (the
 * gateway or an agency) and the one subgraph it is for, carries the person the call is made for (`prn`:
 * subject, role, agency, own personal code, purpose, request id), and is sent as `Authorization: Service
 * <token>`. A subgraph accepts a service-only operation only with a valid token from an agency allowed to call it.
 */
export const SERVICE_SCHEME = 'Service';
const VERSION = 'v1';
const DEFAULT_TTL_SECONDS = 60;
/** Clocks of two servers differ a little; a token from a few seconds in the future is still accepted. */
const CLOCK_SKEW_SECONDS = 5;

/** The person a call is made for, as the gateway authenticated them (lib/access/principal.ts). */
export interface PrincipalClaims {
  sub: string;
  role: string;
  agency: string | null;
  pc: string | null;
  purpose: string | null;
  /** The case or court order reference (Principal.caseReference). */
  cr?: string | null;
  rid: string;
}

export interface ServiceClaims {
  /** The caller: "gateway", or the calling agency (subgraph name). */
  iss: string;
  /** The subgraph the token is for. */
  aud: string;
  iat: number;
  exp: number;
  prn?: PrincipalClaims;
  /**
   * "gateway": the gateway records this call's accesses in the audit store itself, with those of the other
   * subgraphs it calls for the same client request, before its response leaves; the subgraph returns them
   * in its response (extensions.accessRecord) instead of writing them. Honoured from the gateway only.
   */
  rec?: 'gateway';
}

export const GATEWAY_ISSUER = 'gateway';

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sign = (secret: string, payload: string) => crypto.createHmac('sha256', secret).update(`${VERSION}.${payload}`).digest('base64url');

export function signServiceToken(
  secret: string,
  issuer: string,
  audience: string,
  options: { now?: number; ttlSeconds?: number; principal?: PrincipalClaims; recordedByGateway?: boolean } = {},
): string {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: ServiceClaims = { iss: issuer, aud: audience, iat, exp: iat + (options.ttlSeconds ?? DEFAULT_TTL_SECONDS) };
  if (options.principal) claims.prn = options.principal;
  if (options.recordedByGateway) claims.rec = 'gateway';
  const payload = encode(claims);
  return `${VERSION}.${payload}.${sign(secret, payload)}`;
}

/** The claims of a valid token for `audience`, or why it is not valid. */
export function verifyServiceToken(
  secret: string,
  token: string,
  audience: string,
  now = Date.now(),
): { ok: true; claims: ServiceClaims } | { ok: false; problem: string } {
  const [version, payload, signature, ...rest] = token.split('.');
  if (version !== VERSION || !payload || !signature || rest.length > 0) return { ok: false, problem: 'malformed token' };
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return { ok: false, problem: 'bad signature' };
  let claims: ServiceClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ServiceClaims;
  } catch {
    return { ok: false, problem: 'malformed claims' };
  }
  const seconds = now / 1000;
  if (claims.aud !== audience) return { ok: false, problem: `token is for ${String(claims.aud)}` };
  if (typeof claims.exp !== 'number' || claims.exp < seconds) return { ok: false, problem: 'expired' };
  if (typeof claims.iat !== 'number' || claims.iat > seconds + CLOCK_SKEW_SECONDS) return { ok: false, problem: 'issued in the future' };
  if (typeof claims.iss !== 'string') return { ok: false, problem: 'no issuer' };
  return { ok: true, claims };
}
