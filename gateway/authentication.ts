import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from '../lib/access/principal';
import { isPurpose } from '../lib/access/policy';
import { CASE_REFERENCE_PATTERN, ClaimsError, readTokenClaims, type TokenClaims } from './token-claims';
import type { RefusalLog } from '../lib/refusal-log';
import { message } from '../lib/i18n/messages';

/**
 * Bearer tokens (JWT), verified at the gateway with jose: the signature against the configured JWKS (a file,
 * or a URL inside the ministry's network), the issuer, the audience, expiry and not-before; then the claims
 * by type and value (gateway/token-claims.ts). Every refusal is HTTP 401 with UNAUTHENTICATED and a stable
 * reason; refusals are logged (gateway/refusal-log.ts), at most a few lines a second.
 *
 * The purpose of use is the token's. A token may list several purposes; the request then chooses one with
 * the x-purpose header, which can only narrow the token's list, never add to it. An investigator's case or
 * court order reference comes from the token's case_ref claim, or, if the token has none, from the
 * x-case-reference header; a header that contradicts the token is refused.
 */
export interface AuthenticationConfig {
  jwksFile: string | null;
  jwksUrl: string | null;
  issuer: string;
  audience: string;
  /** Seconds of clock difference tolerated for exp and nbf. */
  clockToleranceS: number;
  /** The longest lifetime (exp - iat) of a token accepted, in seconds. */
  maxTokenLifetimeS: number;
}

export const PURPOSE_HEADER = 'x-purpose';
export const CASE_REFERENCE_HEADER = 'x-case-reference';
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
/** The longest bearer token accepted: anything longer is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 8192;

export function unauthenticated(reason: string, text: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(text, {
    extensions: { code: 'UNAUTHENTICATED', reason, ...details, http: { status: 401, headers: new Map([['www-authenticate', 'Bearer']]) } },
  });
}

/** A request the policy must refuse (and audit) once the caller is known: the purpose or case reference asked for. */
export interface PurposeRefusal {
  reason: 'PURPOSE_NOT_IN_TOKEN' | 'CASE_REFERENCE_MISMATCH' | 'CASE_REFERENCE_INVALID';
  message: string;
}

export interface Authenticated {
  principal: Principal;
  purposeRefusal?: PurposeRefusal;
}

export type Authenticate = (req: IncomingMessage, requestId: string) => Promise<Authenticated>;

export function createAuthenticator(config: AuthenticationConfig, log: RefusalLog = () => undefined): Authenticate {
  const keys = config.jwksFile
    ? createLocalJWKSet(JSON.parse(fs.readFileSync(config.jwksFile, 'utf8')))
    : createRemoteJWKSet(new URL(config.jwksUrl!), { timeoutDuration: 2000, cooldownDuration: 30_000 });

  // Tokens already verified, until they expire: a frontend sends the same token with every request, and
  // checking a signature costs more than the rest of the gateway's own work on a request. Bounded. Only
  // tokens whose claims passed are kept, so a refused token is checked (and refused) again each time.
  const verified = new Map<string, { claims: TokenClaims; expiresAtMs: number }>();
  const CACHE_SIZE = 10_000;

  const verify = async (token: string): Promise<TokenClaims> => {
    const known = verified.get(token);
    if (known && known.expiresAtMs > Date.now()) return known.claims;
    if (known) verified.delete(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ALGORITHMS,
        clockTolerance: config.clockToleranceS,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      throw tokenRefusal(error);
    }
    let claims: TokenClaims;
    try {
      claims = readTokenClaims(payload, { maxLifetimeS: config.maxTokenLifetimeS });
    } catch (error) {
      if (error instanceof ClaimsError) throw unauthenticated('TOKEN_CLAIMS', error.message, { claim: error.claim });
      throw error;
    }
    if (verified.size >= CACHE_SIZE) verified.clear();
    verified.set(token, { claims, expiresAtMs: payload.exp! * 1000 });
    return claims;
  };

  return async (req, requestId) => {
    try {
      const header = req.headers.authorization;
      if (!header) throw unauthenticated('TOKEN_MISSING', message('TOKEN_MISSING'));
      const match = header.length <= MAX_TOKEN_LENGTH ? /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/.exec(header) : null;
      if (!match) throw unauthenticated('TOKEN_MALFORMED', message('TOKEN_MALFORMED'));
      return authenticated(await verify(match[1]), req, requestId);
    } catch (error) {
      if (error instanceof GraphQLError) log(String(error.extensions.reason), req);
      throw error;
    }
  };
}

function tokenRefusal(error: unknown): GraphQLError {
  if (error instanceof errors.JWTExpired) return unauthenticated('TOKEN_EXPIRED', message('TOKEN_EXPIRED'));
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reason = CLAIM_REFUSALS.get(error.claim) ?? 'TOKEN_CLAIMS';
    return unauthenticated(reason, message('TOKEN_CLAIM_REFUSED', { claim: error.claim.slice(0, 20) }), { claim: error.claim.slice(0, 20) });
  }
  if (error instanceof errors.JWKSTimeout) return unauthenticated('KEYS_UNAVAILABLE', message('KEYS_UNAVAILABLE'));
  return unauthenticated('TOKEN_INVALID', message('TOKEN_INVALID'));
}

const CLAIM_REFUSALS = new Map([
  ['aud', 'TOKEN_WRONG_AUDIENCE'],
  ['iss', 'TOKEN_WRONG_ISSUER'],
  ['nbf', 'TOKEN_NOT_YET_VALID'],
]);

/** A header's single value; a header sent twice (an array) counts as malformed and is ignored as absent. */
function headerValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function authenticated(claims: TokenClaims, req: IncomingMessage, requestId: string): Authenticated {
  const asked = headerValue(req, PURPOSE_HEADER);
  let purpose: string | null = claims.purposes.length === 1 ? claims.purposes[0] : null;
  let purposeRefusal: PurposeRefusal | undefined;
  if (asked !== null) {
    if ((claims.purposes as readonly string[]).includes(asked)) purpose = asked;
    else if (claims.purposes.length > 0 || isPurpose(asked)) {
      purposeRefusal = {
        reason: 'PURPOSE_NOT_IN_TOKEN',
        message: message('PURPOSE_NOT_IN_TOKEN', { purposes: claims.purposes.join(', '), asked: asked.slice(0, 40) }),
      };
    } else purpose = asked; // not a purpose at all: the policy says so (PURPOSE_UNKNOWN)
  }
  let caseReference = claims.caseReference;
  const caseHeader = headerValue(req, CASE_REFERENCE_HEADER);
  if (caseHeader !== null && !purposeRefusal) {
    if (caseReference !== null && caseHeader !== caseReference) {
      purposeRefusal = { reason: 'CASE_REFERENCE_MISMATCH', message: message('CASE_REFERENCE_MISMATCH') };
    } else if (!CASE_REFERENCE_PATTERN.test(caseHeader)) {
      purposeRefusal = { reason: 'CASE_REFERENCE_INVALID', message: message('CASE_REFERENCE_INVALID') };
    } else caseReference = caseHeader;
  }
  const principal: Principal = {
    subject: claims.subject,
    role: claims.role,
    agency: claims.agency,
    personalCode: claims.personalCode,
    purpose,
    caseReference,
    requestId,
  };
  return purposeRefusal ? { principal, purposeRefusal } : { principal };
}
