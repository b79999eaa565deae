import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER } from '../gateway/config';

export { DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER };

/**
 * Development signing keys for bearer tokens: `npm start` makes an ES256 key pair under .data/keys (the
 * gateway reads jwks.json, the public half) and `npm run token` signs demo tokens with the private half.
 * In production the ministry's identity provider signs tokens and the gateway reads its JWKS instead.
 */
const ALGORITHM = 'ES256';

const files = (dir: string) => ({ privateKey: path.join(dir, 'private.jwk.json'), jwks: path.join(dir, 'jwks.json') });

/** Makes the key pair once; later calls keep it (tokens minted earlier stay valid). */
export async function ensureDevKeys(dir: string): Promise<{ jwksFile: string }> {
  const { privateKey, jwks } = files(dir);
  if (!fs.existsSync(privateKey) || !fs.existsSync(jwks)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = await generateKeyPair(ALGORITHM, { extractable: true });
    const kid = `dev-${Date.now().toString(36)}`;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: ALGORITHM, use: 'sig' };
    fs.writeFileSync(privateKey, JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid, alg: ALGORITHM }), { mode: 0o600 });
    fs.writeFileSync(jwks, JSON.stringify({ keys: [publicJwk] }, null, 2));
  }
  return { jwksFile: jwks };
}

export interface TokenClaims {
  sub: string;
  role: string;
  agency?: string;
  personal_code?: string;
  /** One purpose of use, or several for the x-purpose header to choose from. */
  purpose?: string | string[];
  /** The case or court order an investigator acts under. */
  case_ref?: string;
}

export interface MintOptions {
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative makes an expired token. */
  expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  notBefore?: number;
}

export async function mintDevToken(dir: string, claims: TokenClaims, options: MintOptions = {}): Promise<string> {
  const jwk = JSON.parse(fs.readFileSync(files(dir).privateKey, 'utf8')) as JWK & { kid: string };
  const key = await importJWK(jwk, ALGORITHM);
  const now = Math.floor(Date.now() / 1000);
  const token = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: ALGORITHM, kid: jwk.kid })
    .setIssuer(options.issuer ?? DEV_TOKEN_ISSUER)
    .setAudience(options.audience ?? DEV_TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.notBefore) token.setNotBefore(now + options.notBefore);
  return token.sign(key);
}
