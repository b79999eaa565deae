import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCredentialSigner, type PrincipalClaims, type PrivateServiceJwk, type SignOptions } from '../../lib/service-auth';
import { type ServiceIssuer } from '../../lib/service-keys';
import { ensureServiceKeys, type ServiceKeyFiles } from '../../tools/service-keys';
import { testDatabases } from './databases';
import { DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER } from '../../tools/dev-keys';

/** Service credentials as the test run's services sign them (keys made by test/global-setup.ts). */
export const serviceKeyOf = (issuer: ServiceIssuer, keys: ServiceKeyFiles = testDatabases().serviceKeys): PrivateServiceJwk =>
  JSON.parse(fs.readFileSync(keys.keyFiles[issuer], 'utf8')) as PrivateServiceJwk;

export const CLERK_PRINCIPAL: PrincipalClaims = { sub: 'test:clerk', role: 'CLERK', agency: 'residents', pc: null, purpose: 'SERVICE_COUNTER', rid: 'creds-test-1' };

/** A credential of `issuer` for one call to `audience` with exactly `body`. */
export function serviceCredential(
  issuer: ServiceIssuer,
  audience: string,
  body: string,
  options: Partial<SignOptions> = {},
): Promise<string> {
  return createCredentialSigner(issuer, serviceKeyOf(issuer)).sign(audience, body, { principal: CLERK_PRINCIPAL, ...options });
}

/** POSTs `body` (a GraphQL request) to `url` with `authorization: Service <credential>` if given. */
export async function postWithCredential(url: string, body: string, credential?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Service ${credential}` } : {}) },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

/**
 * A key set as production must have it: outside the repository, kid not "dev-", private keys 0600.
 * One per test process, in the OS's temporary folder.
 */
export async function productionServiceKeys(): Promise<ServiceKeyFiles> {
  const dir = path.join(os.tmpdir(), `citizen-graph-service-keys-${process.pid}`);
  return ensureServiceKeys(dir, { kidPrefix: 'prod-' });
}

/**
 * A complete, secure production configuration of the gateway (and nothing more), over the run's databases
 * as the gateway's own role, with keys made as production's are (`serviceKeys`: the federation that runs
 * it must trust them).
 */
export async function productionGateway(): Promise<{ env: Record<string, string>; serviceKeys: ServiceKeyFiles }> {
  const serviceKeys = await productionServiceKeys();
  const { jwksFile, serviceUrls, checkpointKeyFile, checkpointFile } = testDatabases();
  const env = {
    NODE_ENV: 'production',
    GATEWAY_HOST: '127.0.0.1',
    REQUEST_BODY_LIMIT: '256kb',
    AUTH_ISSUER: DEV_TOKEN_ISSUER,
    AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
    AUTH_JWKS_FILE: jwksFile,
    GATEWAY_SERVICE_KEY_FILE: serviceKeys.keyFiles.gateway,
    AUDIT_DATABASE_URL: serviceUrls.gateway.audit, // production refuses the superuser
    AUDIT_CHECKPOINT_KEY_FILE: checkpointKeyFile,
    AUDIT_CHECKPOINT_FILE: checkpointFile,
  };
  return { env, serviceKeys };
}
