import { fromClaims } from './access/principal';
import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JWK, type JWTPayload } from 'jose';

/**
 * Credentials for calls to a subgraph: from the gateway (issuer "gateway", for the client request it serves)
 * and from one agency's service to another (the birth registry asking the Resident Information Center for a
 * personal code, the National ID Center asking whether a card holder is alive). Subgraphs answer nothing
 * without one (sealMiddleware in lib/access/subgraph-access.ts).
 *
 * A credential is a JWT (typ `cg-service+jwt`) signed with the issuer's own private key (EdDSA over Ed25519;
 * ES256 is accepted too), sent as `Authorization: Service <jwt>`. Each subgraph verifies it against the
 * public keys its trust file (lib/service-keys.ts) lists for that issuer, never against a key the token
 * names or carries. Its claims bind it to one call:
 *   iss   the caller: "gateway" or the calling agency          aud  the one subgraph it is for
 *   iat, exp  it lives seconds (10 by default, 60 at most)      jti  unique: a subgraph accepts it once
 *   bh    base64url SHA-256 of the exact HTTP request body bytes: it cannot be used for another operation
 *   prn   the person the call is made for (required)            rec  "gateway": the gateway records the
 *         accesses (honoured only from an issuer the trust file allows it, i.e. the gateway)
 *   rel   a citizen's parents and children that an agency named earlier in the same client request (citizen
 *         self-service, lib/access/policy.ts): persons whose names and codes this call may serve the citizen
 *         (honoured from the gateway only)
 * What an issuer may call is the trust file's too: the gateway any operation but the service-only ones,
 * an agency only the root fields listed for it (checked by guardSchema as each root field resolves).
 */
export const SERVICE_SCHEME = 'Service';
export const GATEWAY_ISSUER = 'gateway';
export const CREDENTIAL_TYPE = 'cg-service+jwt';
/** The algorithms a credential may be signed with; anything else (none, HS256, RS256...) is refused. */
export const CREDENTIAL_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export const DEFAULT_TTL_SECONDS = 10;
/** A credential living longer than this is refused, whoever signed it. */
export const MAX_TTL_SECONDS = 60;
/** Clocks of two servers differ a little; a credential a few seconds off is still accepted. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
export const DEFAULT_REPLAY_CACHE_SIZE = 100_000;

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
  /** The subgraph the credential is for. */
  aud: string;
  iat: number;
  exp: number;
  /** Unique per credential: each is accepted once. */
  jti: string;
  /** base64url SHA-256 of the request body the credential was signed for. */
  bh: string;
  prn: PrincipalClaims;
  /**
   * "gateway": the gateway records this call's accesses in the audit store itself, with those of the other
   * subgraphs it calls for the same client request, before its response leaves; the subgraph returns them
   * in its response (extensions.accessRecord) instead of writing them. Honoured from the gateway only.
   */
  rec?: 'gateway';
  /**
   * For a citizen's request: the personal codes of their parents and children that a subgraph reported earlier in
   * the same client request (extensions.relatives), so that another subgraph may serve their names and codes.
   * Honoured from the gateway only.
   */
  rel?: string[];
}

/** The most relatives a credential may name (parents and children: a handful; the bound keeps credentials small). */
export const MAX_RELATIVES = 200;

/** base64url SHA-256 of the exact bytes of a request body (a string is taken as its UTF-8 bytes). */
export function bodyHash(body: string | Uint8Array): string {
  return crypto.createHash('sha256').update(body).digest('base64url');
}

/** An issuer's private signing key, as lib/service-keys.ts writes it: a private JWK with its kid. */
export type PrivateServiceJwk = JWK & { kid: string };

export interface SignOptions {
  principal: PrincipalClaims;
  recordedByGateway?: boolean;
  /** ServiceClaims.rel: the citizen's relatives named earlier in the request. */
  relatives?: readonly string[];
  ttlSeconds?: number;
  /** Milliseconds; for tests. */
  now?: number;
  /** For tests only: a chosen jti (the default is 128 random bits). */
  jti?: string;
}

export interface CredentialSigner {
  readonly issuer: string;
  readonly kid: string;
  /** A credential for one call to `audience` with exactly this request body. */
  sign(audience: string, body: string | Uint8Array, options: SignOptions): Promise<string>;
  /** The same, at once (a load generator prepares its requests synchronously). */
  signNow(audience: string, body: string | Uint8Array, options: SignOptions): string;
}

const algorithmOf = (jwk: JWK): (typeof CREDENTIAL_ALGORITHMS)[number] => {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error(`A service key must be an Ed25519 or P-256 key; got kty ${String(jwk.kty)} crv ${String(jwk.crv)}.`);
};

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs credentials as compact JWS (RFC 7515) with node:crypto directly. Why not jose's SignJWT, as everywhere
 * else: the gateway signs one credential per subgraph call, on every request's path, and SignJWT spends about
 * 100 µs of CPU around a 45 µs Ed25519 signature (measured on this project's machine). What is signed is a
 * plain JWT (header alg/kid/typ, claims iss aud iat exp jti bh prn rec); every check of one, the side that
 * decides, is jose's jwtVerify (createCredentialVerifier below), and a test verifies these with it.
 */
export function createCredentialSigner(issuer: string, jwk: PrivateServiceJwk, defaults: { ttlSeconds?: number } = {}): CredentialSigner {
  const alg = algorithmOf(jwk);
  if (!jwk.d) throw new Error(`The signing key of ${issuer} (${jwk.kid}) is not a private key.`);
  const key = crypto.createPrivateKey({ key: jwk as unknown as crypto.JsonWebKey, format: 'jwk' });
  const header = base64url({ alg, kid: jwk.kid, typ: CREDENTIAL_TYPE });
  const signNow = (audience: string, body: string | Uint8Array, options: SignOptions): string => {
    const iat = Math.floor((options.now ?? Date.now()) / 1000);
    const ttl = Math.min(options.ttlSeconds ?? defaults.ttlSeconds ?? DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS);
    const claims: Record<string, unknown> = { bh: bodyHash(body), prn: options.principal };
    if (options.recordedByGateway) claims.rec = 'gateway';
    if (options.relatives && options.relatives.length > 0) claims.rel = options.relatives;
    Object.assign(claims, { iss: issuer, aud: audience, iat, exp: iat + ttl, jti: options.jti ?? crypto.randomBytes(16).toString('base64url') });
    const input = `${header}.${base64url(claims)}`;
    const signature = alg === 'EdDSA' ? crypto.sign(null, Buffer.from(input), key) : crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  };
  return { issuer, kid: jwk.kid, signNow, sign: async (audience, body, options) => signNow(audience, body, options) };
}

/**
 * The trust file: per issuer, its public keys and what it may do.
 *   calls            "*": any operation except the service-only ones (the gateway); else, per target subgraph,
 *                    the root fields ("Query.citizens", "Mutation.createCitizenAtBirth") it may call
 *   recordsAccesses  it may ask the subgraph to hand its access record back (rec: "gateway")
 */
export interface TrustedIssuer {
  keys: JWK[];
  calls: '*' | Record<string, string[]>;
  recordsAccesses?: boolean;
}

export interface TrustFile {
  issuers: Record<string, TrustedIssuer>;
}

/** What a subgraph may do for a verified caller: '*' (the gateway's) or the root fields listed. */
export type IssuerPermissions = '*' | readonly string[];

export interface VerifiedCredential {
  claims: ServiceClaims;
  permissions: IssuerPermissions;
  /** The issuer asked for, and may ask for, the gateway to record the accesses. */
  recordedByGateway: boolean;
  /** ServiceClaims.rel from the gateway; empty from anyone else. */
  relatives: readonly string[];
}

export type CredentialRefusal =
  | 'CREDENTIAL_INVALID'
  | 'CREDENTIAL_UNTRUSTED'
  | 'CREDENTIAL_EXPIRED'
  | 'CREDENTIAL_BODY_MISMATCH'
  | 'CREDENTIAL_REPLAYED'
  | 'PRINCIPAL_REQUIRED'
  | 'REPLAY_CACHE_FULL'
  | 'REPLAY_CACHE_UNAVAILABLE';

export type VerifyResult = { ok: true; credential: VerifiedCredential } | { ok: false; reason: CredentialRefusal; problem: string };

export interface CredentialVerifier {
  readonly audience: string;
  verify(token: string, body: Uint8Array | string): Promise<VerifyResult>;
}

export interface VerifierOptions {
  clockToleranceSeconds?: number;
  /** Most credentials remembered at once (against replay); when full of unexpired ones, credentials are refused. */
  replayCacheSize?: number;
  /** Where accepted credentials are remembered: this process's memory (a ReplayCache of replayCacheSize) unless given. */
  replays?: ReplayStore;
  /** Milliseconds; for tests. */
  now?: () => number;
}

/**
 * Where a subgraph remembers each accepted credential (issuer and jti) until it can no longer be accepted
 * (exp + clock tolerance), so that it is accepted once. `remember` answers:
 *   ok           first use, now remembered             replayed     seen before: refuse it
 *   full         no room left: refuse (fail closed)     unavailable  the store cannot say: refuse (fail closed)
 */
export type Remembered = 'ok' | 'replayed' | 'full' | 'unavailable';

export interface ReplayStore {
  /** `until` and `now` in seconds. */
  remember(key: string, until: number, now: number): Promise<Remembered>;
}

/**
 * The replay store in this process's memory: enough for one replica of a subgraph. Several replicas would each
 * accept a credential once; they share a SharedReplayCache instead (REDIS_URL). Bounded: full of live entries,
 * it refuses (fail closed) rather than forget.
 */
export class ReplayCache implements ReplayStore {
  private readonly seen = new Map<string, number>();

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.seen.size;
  }

  /** 'ok' (first use, now remembered), 'replayed', or 'full'. `until` and `now` in seconds. */
  add(jti: string, until: number, now: number): 'ok' | 'replayed' | 'full' {
    const known = this.seen.get(jti);
    if (known !== undefined && known >= now) return 'replayed';
    // Entries come in roughly in expiry order: drop expired ones from the front as we go.
    for (const [oldJti, oldUntil] of this.seen) {
      if (oldUntil >= now) break;
      this.seen.delete(oldJti);
    }
    if (this.seen.size >= this.maxEntries) {
      for (const [oldJti, oldUntil] of this.seen) if (oldUntil < now) this.seen.delete(oldJti);
      if (this.seen.size >= this.maxEntries) return 'full';
    }
    this.seen.set(jti, until);
    return 'ok';
  }

  async remember(key: string, until: number, now: number): Promise<Remembered> {
    return this.add(key, until, now);
  }
}

/**
 * The replay store the replicas of one subgraph share, in Redis (lib/shared-store.ts): a credential one replica
 * accepted is refused by every other. One atomic SET NX with the credential's remaining life as expiry: the first
 * replica to set the key accepts, any later one finds it. Redis forgets it when it could no longer be accepted
 * anyway. Decided: when Redis does not answer (down, unreachable, slower than its command timeout), the credential
 * is refused (REPLAY_CACHE_UNAVAILABLE, HTTP 503): accepting it could accept a replay, so the subgraph fails closed,
 * and its readiness turns 503 meanwhile (lib/subgraph-server.ts). Keys are namespaced by the subgraph (audience).
 */
export class SharedReplayCache implements ReplayStore {
  constructor(
    private readonly client: Pick<Redis, 'set'>,
    private readonly audience: string,
  ) {}

  async remember(key: string, until: number, now: number): Promise<Remembered> {
    const ttlMs = Math.max(1, Math.ceil((until - now) * 1000));
    try {
      const set = await this.client.set(`cg:replay:${this.audience}:${key}`, '1', 'PX', ttlMs, 'NX');
      return set === 'OK' ? 'ok' : 'replayed';
    } catch {
      return 'unavailable';
    }
  }
}

const JTI = /^[A-Za-z0-9_-]{16,128}$/;
const BODY_HASH = /^[A-Za-z0-9_-]{43}$/;

const validRelatives = (rel: unknown): rel is string[] =>
  Array.isArray(rel) && rel.length <= MAX_RELATIVES && rel.every((code) => typeof code === 'string' && /^\d{12}$/.test(code));

/** A principal of the right kind and form (lib/access/principal.ts fromClaims: each claim checked by type and value). */
const validPrincipal = (prn: unknown): prn is PrincipalClaims => fromClaims(prn as PrincipalClaims) !== null;

export function createCredentialVerifier(trust: TrustFile, audience: string, options: VerifierOptions = {}): CredentialVerifier {
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const now = options.now ?? Date.now;
  const replays = options.replays ?? new ReplayCache(options.replayCacheSize ?? DEFAULT_REPLAY_CACHE_SIZE);
  const issuers = new Map(
    Object.entries(trust.issuers).map(([name, issuer]) => [
      name,
      {
        keySet: createLocalJWKSet({ keys: issuer.keys.map(({ d: _private, ...publicPart }) => publicPart) }),
        permissions: (issuer.calls === '*' ? '*' : Object.freeze([...(issuer.calls[audience] ?? [])])) as IssuerPermissions,
        recordsAccesses: issuer.recordsAccesses === true,
      },
    ]),
  );
  const refuse = (reason: CredentialRefusal, problem: string): VerifyResult => ({ ok: false, reason, problem });
  return {
    audience,
    async verify(token, body) {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        return refuse('CREDENTIAL_INVALID', 'malformed credential');
      }
      const issuer = typeof unverified.iss === 'string' ? issuers.get(unverified.iss) : undefined;
      if (!issuer) return refuse('CREDENTIAL_UNTRUSTED', `issuer ${String(unverified.iss)} is not trusted`);
      const currentMs = now();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, issuer.keySet, {
          algorithms: [...CREDENTIAL_ALGORITHMS],
          issuer: unverified.iss,
          audience,
          typ: CREDENTIAL_TYPE,
          clockTolerance: tolerance,
          requiredClaims: ['iat', 'exp', 'jti'],
          currentDate: new Date(currentMs),
        }));
      } catch (error) {
        if (error instanceof errors.JWTExpired) return refuse('CREDENTIAL_EXPIRED', 'expired');
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
          return refuse('CREDENTIAL_UNTRUSTED', 'not signed by a key trusted for its issuer');
        }
        return refuse('CREDENTIAL_INVALID', error instanceof Error ? error.message : String(error));
      }
      const claims = payload as unknown as ServiceClaims;
      const seconds = currentMs / 1000;
      if (claims.exp - claims.iat > MAX_TTL_SECONDS) return refuse('CREDENTIAL_INVALID', `lives more than ${MAX_TTL_SECONDS} s`);
      if (claims.iat > seconds + tolerance) return refuse('CREDENTIAL_INVALID', 'issued in the future');
      if (typeof claims.jti !== 'string' || !JTI.test(claims.jti)) return refuse('CREDENTIAL_INVALID', 'no valid jti');
      if (typeof claims.bh !== 'string' || !BODY_HASH.test(claims.bh)) return refuse('CREDENTIAL_INVALID', 'no body hash');
      if (claims.bh !== bodyHash(body)) return refuse('CREDENTIAL_BODY_MISMATCH', 'signed for another request body');
      if (!validPrincipal(claims.prn)) return refuse('PRINCIPAL_REQUIRED', 'names no principal');
      if (claims.rel !== undefined && !validRelatives(claims.rel)) return refuse('CREDENTIAL_INVALID', `rel is not a list of at most ${MAX_RELATIVES} personal codes`);
      const remembered = await replays.remember(`${claims.iss} ${claims.jti}`, claims.exp + tolerance, seconds);
      if (remembered === 'replayed') return refuse('CREDENTIAL_REPLAYED', 'already used');
      if (remembered === 'full') return refuse('REPLAY_CACHE_FULL', 'too many credentials in flight');
      if (remembered === 'unavailable') return refuse('REPLAY_CACHE_UNAVAILABLE', 'the shared replay cache did not answer');
      return {
        ok: true,
        credential: {
          claims,
          permissions: issuer.permissions,
          recordedByGateway: issuer.recordsAccesses && claims.rec === 'gateway',
          relatives: claims.iss === GATEWAY_ISSUER && claims.rel ? Object.freeze([...claims.rel]) : [],
        },
      };
    },
  };
}
