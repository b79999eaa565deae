import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { isRole, type Principal } from '../lib/access/principal';
import { isPersonalCode } from '../lib/personal-code';

/**
 * Bearer tokens (JWT), verified at the gateway with jose: the signature against the configured JWKS (a file,
 * or a URL inside the ministry's network), the issuer, the audience, expiry and not-before. The token names
 * the person (sub), their role, the agency they work for (clerks, registrars, investigators), a citizen's own
 * personal code (role CITIZEN) and optionally the purpose of use; otherwise the purpose comes from the
 * x-purpose header. Every refusal is HTTP 401 with UNAUTHENTICATED and a stable reason.
 */
export interface AuthenticationConfig {
  jwksFile: string | null;
  jwksUrl: string | null;
  issuer: string;
  audience: string;
  /** Seconds of clock difference tolerated for exp and nbf. */
  clockToleranceS: number;
}

export const PURPOSE_HEADER = 'x-purpose';
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];

export function unauthenticated(reason: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', reason, http: { status: 401, headers: new Map([['www-authenticate', 'Bearer']]) } } });
}

export type Authenticate = (req: IncomingMessage, requestId: string) => Promise<Principal>;

export function createAuthenticator(config: AuthenticationConfig): Authenticate {
  const keys = config.jwksFile
    ? createLocalJWKSet(JSON.parse(fs.readFileSync(config.jwksFile, 'utf8')))
    : createRemoteJWKSet(new URL(config.jwksUrl!), { timeoutDuration: 2000, cooldownDuration: 30_000 });

  // Tokens already verified, until they expire: a frontend sends the same token with every request, and
  // checking a signature costs more than the rest of the gateway's own work on a request. Bounded.
  const verified = new Map<string, { payload: JWTPayload; expiresAtMs: number }>();
  const CACHE_SIZE = 10_000;

  return async (req, requestId) => {
    const header = req.headers.authorization;
    if (!header) throw unauthenticated('TOKEN_MISSING', 'A bearer token is required: send Authorization: Bearer <token>.');
    const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/.exec(header);
    if (!match) throw unauthenticated('TOKEN_MALFORMED', 'The Authorization header must be "Bearer" followed by a JWT.');
    let payload: JWTPayload;
    const known = verified.get(match[1]);
    if (known && known.expiresAtMs > Date.now()) {
      payload = known.payload;
    } else {
      if (known) verified.delete(match[1]);
      try {
        ({ payload } = await jwtVerify(match[1], keys, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: ALGORITHMS,
          clockTolerance: config.clockToleranceS,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch (error) {
        throw tokenRefusal(error);
      }
      if (verified.size >= CACHE_SIZE) verified.clear();
      verified.set(match[1], { payload, expiresAtMs: payload.exp! * 1000 });
    }
    const purposeHeader = req.headers[PURPOSE_HEADER];
    return principalOf(payload, requestId, typeof purposeHeader === 'string' ? purposeHeader.trim() : null);
  };
}

function tokenRefusal(error: unknown): GraphQLError {
  if (error instanceof errors.JWTExpired) return unauthenticated('TOKEN_EXPIRED', 'The token has expired; get a new one.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reasons: Record<string, string> = { aud: 'TOKEN_WRONG_AUDIENCE', iss: 'TOKEN_WRONG_ISSUER', nbf: 'TOKEN_NOT_YET_VALID' };
    return unauthenticated(reasons[error.claim] ?? 'TOKEN_CLAIMS', `The token's "${error.claim}" claim is not acceptable here.`);
  }
  if (error instanceof errors.JWKSTimeout) return unauthenticated('KEYS_UNAVAILABLE', 'The keys to verify tokens could not be fetched; retry later.');
  return unauthenticated('TOKEN_INVALID', 'The token is not valid (signature, algorithm or format).');
}

function principalOf(payload: JWTPayload, requestId: string, purposeHeader: string | null): Principal {
  const role = payload.role;
  if (!isRole(role)) throw unauthenticated('TOKEN_CLAIMS', 'The token has no known "role" claim.');
  const agency = typeof payload.agency === 'string' ? payload.agency : null;
  const personalCode = typeof payload.personal_code === 'string' ? payload.personal_code : null;
  if (role === 'CITIZEN' && !isPersonalCode(personalCode)) throw unauthenticated('TOKEN_CLAIMS', 'A citizen\'s token must carry their "personal_code".');
  if ((role === 'CLERK' || role === 'REGISTRAR' || role === 'INVESTIGATOR') && !agency) {
    throw unauthenticated('TOKEN_CLAIMS', `A ${role.toLowerCase()}'s token must name their "agency".`);
  }
  const tokenPurpose = typeof payload.purpose === 'string' ? payload.purpose : null;
  return {
    subject: payload.sub!,
    role,
    agency,
    personalCode: role === 'CITIZEN' ? personalCode : null,
    // A purpose fixed in the token wins; otherwise the request says it.
    purpose: tokenPurpose ?? (purposeHeader || null),
    caseReference: null,
    requestId,
  };
}
