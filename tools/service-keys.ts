import fs from 'node:fs';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { PrivateServiceJwk, TrustedIssuer, TrustFile } from '../lib/service-auth';
import { DEV_KEY_PREFIX, SERVICE_ISSUERS, SERVICE_PERMISSIONS, serviceKeyFile, serviceTrustFile, type ServiceIssuer } from '../lib/service-keys';

/**
 * Key making for service credentials (the running services only read keys: lib/service-keys.ts): an Ed25519
 * key pair per service and the trust file, for `npm start`, the tests and the bench.
 */
export interface ServiceKeyFiles {
  trustFile: string;
  keyFiles: Record<ServiceIssuer, string>;
}

/** Makes the key pairs and the trust file once (all again if any is missing); later calls keep them. */
export async function ensureServiceKeys(dir: string, options: { kidPrefix?: string } = {}): Promise<ServiceKeyFiles> {
  const keyFiles = Object.fromEntries(SERVICE_ISSUERS.map((issuer) => [issuer, serviceKeyFile(dir, issuer)])) as Record<ServiceIssuer, string>;
  const trustFile = serviceTrustFile(dir);
  if ([trustFile, ...Object.values(keyFiles)].every((file) => fs.existsSync(file))) return { trustFile, keyFiles };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const issuers: Record<string, TrustedIssuer> = {};
  const stamp = Date.now().toString(36);
  for (const issuer of SERVICE_ISSUERS) {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = `${options.kidPrefix ?? DEV_KEY_PREFIX}${issuer}-${stamp}`;
    const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    const privateJwk: PrivateServiceJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: 'EdDSA' };
    fs.writeFileSync(keyFiles[issuer], JSON.stringify(privateJwk), { mode: 0o600 });
    fs.chmodSync(keyFiles[issuer], 0o600);
    issuers[issuer] = { keys: [publicJwk], ...SERVICE_PERMISSIONS[issuer] };
  }
  const trust: TrustFile = { issuers };
  fs.writeFileSync(trustFile, JSON.stringify(trust, null, 2));
  return { trustFile, keyFiles };
}

