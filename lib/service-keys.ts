import fs from 'node:fs';
import path from 'node:path';
import { AGENCIES, type Agency } from './agencies';
import { isInside, REPOSITORY_ROOT, type EnvReader } from './env';
import type { PrivateServiceJwk, TrustedIssuer, TrustFile } from './service-auth';

/**
 * The keys of service credentials (lib/service-auth.ts), made per installation: nothing secret is in the
 * source. `npm start` (and the test run, and the bench) calls ensureServiceKeys (tools/service-keys.ts) once: an Ed25519 key pair
 * per service (gateway, residents, national-id, birth-registry), the private halves in
 * `<issuer>.private.jwk.json` (mode 0600), and `trust.json`, the trust file every subgraph reads: each
 * issuer's public keys and what it may do. Keys made here have a kid starting "dev-": production refuses them.
 *
 * Each process reads its own private key (SERVICE_KEY_FILE, or <PREFIX>_SERVICE_KEY_FILE: GATEWAY_,
 * RESIDENTS_, NATIONAL_ID_, BIRTH_REGISTRY_) and the trust file (SERVICE_TRUST_FILE); in development both
 * default to the files under .data/service-keys, in production they are required, must be outside the
 * repository folder and must not be development keys.
 */
export type ServiceIssuer = 'gateway' | Agency['id'];
/** The gateway and every agency of lib/agencies.ts. */
export const SERVICE_ISSUERS: readonly ServiceIssuer[] = ['gateway', ...AGENCIES.map((a) => a.id)];
export const DEV_KEY_PREFIX = 'dev-';
/** Where `npm start` keeps the services' keys. */
export const DEV_SERVICE_KEYS_DIR = path.join(REPOSITORY_ROOT, '.data/service-keys');

/** Calls agencies make to other agencies' services: exactly these root fields (service-only mutations included). */
const AGENCY_CALLS: Partial<Record<Agency['id'], TrustedIssuer['calls']>> = {
  'birth-registry': { residents: ['Mutation.createCitizenAtBirth', 'Query.citizens'] },
  'national-id': { residents: ['Query.citizens'] },
};

/** What each issuer may do: the gateway anything but service-only operations; an agency only what it needs (none unless listed above). */
export const SERVICE_PERMISSIONS: Record<ServiceIssuer, Omit<TrustedIssuer, 'keys'>> = {
  gateway: { calls: '*', recordsAccesses: true },
  ...(Object.fromEntries(AGENCIES.map((a) => [a.id, { calls: AGENCY_CALLS[a.id] ?? {} }])) as Record<Agency['id'], Omit<TrustedIssuer, 'keys'>>),
};

export const serviceKeyFile = (dir: string, issuer: string) => path.join(dir, `${issuer}.private.jwk.json`);
export const serviceTrustFile = (dir: string) => path.join(dir, 'trust.json');

/**
 * The process's own signing key, from `variable` (default: the development file of `issuer`). Null in
 * development when the default file does not exist (nothing is signed; a sealed subgraph refuses the calls).
 * In production: required, outside the repository, readable by its owner only, not a development key.
 */
export function readServiceKey(read: EnvReader, variable: string, issuer: string): PrivateServiceJwk | null {
  const explicit = read.optionalString(variable);
  const file = read.string(variable, serviceKeyFile(DEV_SERVICE_KEYS_DIR, issuer));
  if (!file) return null;
  if (!fs.existsSync(file)) {
    if (explicit || read.production) read.problem(`${variable}: no key file at ${file}.`);
    return null;
  }
  if (read.production && isInside(file, REPOSITORY_ROOT)) read.problem(`${variable}: the private key ${file} must not be kept inside the repository folder.`);
  if (read.production && (fs.statSync(file).mode & 0o077) !== 0) read.problem(`${variable}: the private key ${file} must be readable by its owner only (chmod 600).`);
  let jwk: PrivateServiceJwk;
  try {
    jwk = JSON.parse(fs.readFileSync(file, 'utf8')) as PrivateServiceJwk;
  } catch {
    read.problem(`${variable}: ${file} is not a JSON Web Key.`);
    return null;
  }
  if (typeof jwk.kid !== 'string' || !jwk.kid || typeof jwk.d !== 'string') {
    read.problem(`${variable}: ${file} must be a private JWK with a kid.`);
    return null;
  }
  if (!((jwk.kty === 'OKP' && jwk.crv === 'Ed25519') || (jwk.kty === 'EC' && jwk.crv === 'P-256'))) {
    read.problem(`${variable}: ${file} must be an Ed25519 or P-256 key.`);
    return null;
  }
  if (read.production && jwk.kid.startsWith(DEV_KEY_PREFIX)) {
    read.problem(`${variable}: ${file} is a development key (kid ${jwk.kid}); production needs a key of its own.`);
  }
  return jwk;
}

/**
 * The trust file (SERVICE_TRUST_FILE; default .data/service-keys/trust.json in development). Null in
 * development when the default file does not exist: every credential is then refused.
 */
export function readTrustFile(read: EnvReader, variable = 'SERVICE_TRUST_FILE'): TrustFile | null {
  const explicit = read.optionalString(variable);
  const file = read.string(variable, serviceTrustFile(DEV_SERVICE_KEYS_DIR));
  if (!file) return null;
  if (!fs.existsSync(file)) {
    if (explicit || read.production) read.problem(`${variable}: no trust file at ${file}.`);
    return null;
  }
  let trust: TrustFile;
  try {
    trust = JSON.parse(fs.readFileSync(file, 'utf8')) as TrustFile;
  } catch {
    read.problem(`${variable}: ${file} is not JSON.`);
    return null;
  }
  if (!trust || typeof trust.issuers !== 'object' || trust.issuers === null) {
    read.problem(`${variable}: ${file} must be { "issuers": { "<issuer>": { "keys": [...], "calls": ... } } }.`);
    return null;
  }
  for (const [name, issuer] of Object.entries(trust.issuers)) {
    const calls = issuer?.calls;
    const callsValid =
      calls === '*' ||
      (typeof calls === 'object' && calls !== null && Object.values(calls).every((list) => Array.isArray(list) && list.every((f) => typeof f === 'string')));
    if (!Array.isArray(issuer?.keys) || issuer.keys.some((k) => typeof k?.kid !== 'string') || !callsValid) {
      read.problem(`${variable}: issuer "${name}" needs "keys" (public JWKs with a kid) and "calls" ("*" or { "<subgraph>": ["Query.field", ...] }).`);
      continue;
    }
    if (issuer.keys.some((k) => typeof (k as { d?: unknown }).d === 'string')) read.problem(`${variable}: issuer "${name}" lists a private key; the trust file holds public keys only.`);
    if (read.production && issuer.keys.some((k) => k.kid!.startsWith(DEV_KEY_PREFIX))) {
      read.problem(`${variable}: issuer "${name}" lists a development key; production trusts keys of its own only.`);
    }
  }
  return trust;
}
