import crypto from 'node:crypto';
import { AGENCIES } from '../lib/agencies';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import {
  bodyHash,
  createCredentialSigner,
  createCredentialVerifier,
  CREDENTIAL_TYPE,
  ReplayCache,
  type PrincipalClaims,
  type PrivateServiceJwk,
  type TrustFile,
} from '../lib/service-auth';
import { readServiceKey, readTrustFile, type ServiceIssuer } from '../lib/service-keys';
import { ensureServiceKeys, type ServiceKeyFiles } from '../tools/service-keys';
import { callerFrom, verifyCaller } from '../lib/caller';
import { EnvReader } from '../lib/env';
import { readConfig as readGatewayConfig } from '../gateway/config';
import { readConfig as readResidentsConfig } from '../subgraphs/residents/config';

/**
 * Service credentials (lib/service-auth.ts): signed by each service's own key, checked against the trust file,
 * bound to one audience, one body, one use, seconds of life and a principal. Each refusal is tried the way an
 * attacker would.
 */
let keys: ServiceKeyFiles;
let trust: TrustFile;
const key = (issuer: ServiceIssuer) => JSON.parse(fs.readFileSync(keys.keyFiles[issuer], 'utf8')) as PrivateServiceJwk;
const principal: PrincipalClaims = { sub: 'test:registrar', role: 'REGISTRAR', agency: 'birth-registry', pc: null, purpose: 'CIVIL_REGISTRATION', rid: 'rid-1' };
const BODY = JSON.stringify({ query: '{ citizens(personalCodes: ["001200342514"]) { fullName } }', variables: {} });
const now = Date.UTC(2026, 10, 27, 12, 0, 0);
const clock = () => now;

beforeAll(async () => {
  keys = await ensureServiceKeys(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-service-auth-')));
  trust = JSON.parse(fs.readFileSync(keys.trustFile, 'utf8')) as TrustFile;
});

const sign = (issuer: ServiceIssuer, audience = 'residents', body = BODY, options: Record<string, unknown> = {}) =>
  createCredentialSigner(issuer, key(issuer)).sign(audience, body, { principal, now, ...options });
const verifier = (audience = 'residents', options = {}) => createCredentialVerifier(trust, audience, { now: clock, ...options });

/** A token with any header and payload, signed by `signature` (empty: none). */
const raw = (header: object, payload: object, signature = '') =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe('service credentials', () => {
  it('the trust file lists each issuer with its public key only and what it may do', () => {
    expect(Object.keys(trust.issuers).sort()).toEqual(['gateway', ...AGENCIES.map((a) => a.id)].sort());
    expect(trust.issuers.gateway).toMatchObject({ calls: '*', recordsAccesses: true });
    expect(trust.issuers['birth-registry'].calls).toEqual({ residents: ['Mutation.createCitizenAtBirth', 'Query.citizens'] });
    expect(trust.issuers['national-id'].calls).toEqual({ residents: ['Query.citizens'] });
    for (const issuer of Object.values(trust.issuers)) for (const k of issuer.keys) expect(k).not.toHaveProperty('d');
    expect(fs.statSync(keys.keyFiles.gateway).mode & 0o777).toBe(0o600);
    expect(key('gateway').kid).toMatch(/^dev-gateway-/);
  });

  it('accepts a fresh credential for its audience and body, once, with the issuer, principal and permissions', async () => {
    const token = await sign('birth-registry');
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'EdDSA', kid: key('birth-registry').kid, typ: CREDENTIAL_TYPE });
    const result = await verifier().verify(token, Buffer.from(BODY));
    expect(result).toEqual({
      ok: true,
      credential: {
        claims: { iss: 'birth-registry', aud: 'residents', iat: now / 1000, exp: now / 1000 + 10, jti: expect.stringMatching(/^[\w-]{22}$/), bh: bodyHash(BODY), prn: principal },
        permissions: ['Mutation.createCitizenAtBirth', 'Query.citizens'],
        recordedByGateway: false,
        relatives: [],
      },
    });
    const gateway = await verifier().verify(await sign('gateway', 'residents', BODY, { recordedByGateway: true }), BODY);
    expect(gateway).toMatchObject({ ok: true, credential: { permissions: '*', recordedByGateway: true } });
    // A citizen's relatives (citizen self-service) are honoured when the gateway names them, ignored from an agency.
    const relatives = ['001200342514', '080074895486'];
    expect(await verifier().verify(await sign('gateway', 'residents', BODY, { relatives }), BODY)).toMatchObject({ ok: true, credential: { relatives } });
    expect(await verifier().verify(await sign('birth-registry', 'residents', BODY, { relatives }), BODY)).toMatchObject({ ok: true, credential: { relatives: [] } });
    const tooMany = Array.from({ length: 201 }, (_, i) => `0012${String(i).padStart(8, '0')}`);
    expect(await verifier().verify(await sign('gateway', 'residents', BODY, { relatives: tooMany }), BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_INVALID' });
  });

  it('refuses an issuer the trust file does not name, and a key it does not list for the issuer (same kid)', async () => {
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const strangerJwk = { ...(await exportJWK(stranger.privateKey)), kid: 'dev-police-1' } as PrivateServiceJwk;
    const unknown = await createCredentialSigner('police', strangerJwk).sign('residents', BODY, { principal, now });
    expect(await verifier().verify(unknown, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_UNTRUSTED' });
    // The gateway's name and kid, another key: the local key set picks the listed key by kid, the signature fails.
    const forged = await createCredentialSigner('gateway', { ...strangerJwk, kid: key('gateway').kid }).sign('residents', BODY, { principal, now });
    expect(await verifier().verify(forged, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_UNTRUSTED' });
    // Another listed issuer's key under the gateway's name.
    const borrowed = await createCredentialSigner('gateway', key('national-id')).sign('residents', BODY, { principal, now });
    expect(await verifier().verify(borrowed, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_UNTRUSTED' });
    // A key embedded in the header (jwk) is never used.
    const embedded = await new SignJWT({ bh: bodyHash(BODY), prn: principal })
      .setProtectedHeader({ alg: 'EdDSA', typ: CREDENTIAL_TYPE, jwk: await exportJWK(stranger.publicKey) })
      .setIssuer('gateway').setAudience('residents').setIssuedAt(now / 1000).setExpirationTime(now / 1000 + 10).setJti('embedded-key-jti-0001')
      .sign(stranger.privateKey);
    expect(await verifier().verify(embedded, BODY)).toMatchObject({ ok: false });
  });

  it('refuses alg none and HS256 with the public key as the HMAC secret', async () => {
    const payload = claimsOf(await sign('gateway'));
    const none = raw({ alg: 'none', typ: CREDENTIAL_TYPE, kid: key('gateway').kid }, payload);
    expect(await verifier().verify(none, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_INVALID' });
    const publicJwk = trust.issuers.gateway.keys[0];
    const publicPem = await exportSPKI((await importJWK(publicJwk, 'EdDSA')) as never);
    for (const secret of [Buffer.from(publicJwk.x!, 'base64url'), Buffer.from(publicPem), Buffer.from(JSON.stringify(publicJwk)), Buffer.from(publicJwk.x!)]) {
      const header = { alg: 'HS256', typ: CREDENTIAL_TYPE, kid: publicJwk.kid };
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      const token = `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
      expect(await verifier().verify(token, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_INVALID' });
    }
  });

  it('refuses an expired credential, one for another audience, one issued in the future, one living too long, and garbage', async () => {
    const token = await sign('gateway');
    expect(await verifier('residents', { now: () => now + 16_000 }).verify(token, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_EXPIRED' });
    expect(await verifier('national-id').verify(token, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_INVALID' });
    expect(await verifier('residents', { now: () => now - 60_000 }).verify(token, BODY)).toMatchObject({ ok: false });
    const long = await new SignJWT({ bh: bodyHash(BODY), prn: principal })
      .setProtectedHeader({ alg: 'EdDSA', kid: key('gateway').kid, typ: CREDENTIAL_TYPE })
      .setIssuer('gateway').setAudience('residents').setIssuedAt(now / 1000).setExpirationTime(now / 1000 + 3600).setJti('long-lived-jti-000001')
      .sign(await importJWK(key('gateway'), 'EdDSA'));
    expect(await verifier().verify(long, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_INVALID', problem: expect.stringMatching(/lives more than/) });
    expect(await verifier().verify('not-a-token', BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_INVALID' });
    // A tampered payload (another issuer's name) breaks the signature.
    const [h, , s] = token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(token), aud: 'national-id' })).toString('base64url')}.${s}`;
    expect(await verifier('national-id').verify(tampered, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_UNTRUSTED' });
  });

  it('is bound to the exact body and accepted once', async () => {
    const token = await sign('gateway');
    const v = verifier();
    expect(await v.verify(token, BODY.replace('001200342514', '001200342515'))).toMatchObject({ ok: false, reason: 'CREDENTIAL_BODY_MISMATCH' });
    expect(await v.verify(token, `${BODY} `)).toMatchObject({ ok: false, reason: 'CREDENTIAL_BODY_MISMATCH' });
    expect(await v.verify(token, BODY)).toMatchObject({ ok: true });
    expect(await v.verify(token, BODY)).toMatchObject({ ok: false, reason: 'CREDENTIAL_REPLAYED' });
  });

  it('requires a principal', async () => {
    const token = await new SignJWT({ bh: bodyHash(BODY) })
      .setProtectedHeader({ alg: 'EdDSA', kid: key('gateway').kid, typ: CREDENTIAL_TYPE })
      .setIssuer('gateway').setAudience('residents').setIssuedAt(now / 1000).setExpirationTime(now / 1000 + 10).setJti('no-principal-jti-0001')
      .sign(await importJWK(key('gateway'), 'EdDSA'));
    expect(await verifier().verify(token, BODY)).toMatchObject({ ok: false, reason: 'PRINCIPAL_REQUIRED' });
    const badRole = await sign('gateway', 'residents', BODY, { principal: { ...principal, role: 'ROOT' } });
    expect(await verifyCaller({ authorization: `Service ${badRole}` }, BODY, verifier())).toMatchObject({ ok: false, reason: 'PRINCIPAL_REQUIRED' });
  });

  it('honours rec: "gateway" from the gateway only', async () => {
    const fromAgency = await sign('birth-registry', 'residents', BODY, { recordedByGateway: true });
    expect(claimsOf(fromAgency).rec).toBe('gateway');
    const result = await verifyCaller({ authorization: `Service ${fromAgency}` }, BODY, verifier());
    expect(result).toMatchObject({ ok: true, caller: { service: 'birth-registry', recordedByGateway: false } });
  });

  it('remembers used credentials in a bounded cache that refuses when full of live ones', () => {
    const cache = new ReplayCache(2);
    expect(cache.add('a', 100, 50)).toBe('ok');
    expect(cache.add('a', 100, 60)).toBe('replayed');
    expect(cache.add('b', 100, 50)).toBe('ok');
    expect(cache.add('c', 100, 50)).toBe('full');
    expect(cache.add('c', 200, 101)).toBe('ok'); // a and b have expired: dropped
    expect(cache.size).toBe(1);
  });

  it('fails closed when too many live credentials are remembered', async () => {
    let time = now;
    const v = verifier('residents', { replayCacheSize: 1, now: () => time });
    expect(await v.verify(await sign('gateway'), BODY)).toMatchObject({ ok: true });
    expect(await v.verify(await sign('gateway'), BODY)).toMatchObject({ ok: false, reason: 'REPLAY_CACHE_FULL' });
    // Once the first can no longer be accepted (exp + tolerance), there is room again.
    time = now + 16_000;
    expect(await v.verify(await sign('gateway', 'residents', BODY, { now: time }), BODY)).toMatchObject({ ok: true });
  });

  it('a request carries a caller only with a valid credential', async () => {
    const valid = await sign('birth-registry');
    const v = verifier();
    expect(await verifyCaller({ authorization: `Service ${valid}`, 'x-actor': 'someone-else' }, BODY, v)).toMatchObject({
      ok: true,
      caller: { service: 'birth-registry', actor: 'test:registrar', requestId: 'rid-1', credentialed: true, permissions: ['Mutation.createCitizenAtBirth', 'Query.citizens'] },
    });
    expect(await verifyCaller({ authorization: `Service ${valid}x` }, BODY, v)).toMatchObject({ ok: false });
    expect(await verifyCaller({ authorization: `Bearer ${valid}` }, BODY, v)).toMatchObject({ ok: true, caller: { credentialed: false, service: null, principal: null } });
    expect(await verifyCaller({ authorization: `Service ${await sign('gateway')}` }, BODY, null)).toMatchObject({ ok: false, reason: 'CREDENTIAL_UNTRUSTED' });
    expect(callerFrom({ 'x-request-id': 'drop table;' }).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(callerFrom({ 'x-request-id': 'req-42' }).requestId).toBe('req-42');
  });
});

describe('service key configuration', () => {
  it('uses the files named, and refuses in production a missing key, a development key, a key inside the repository', async () => {
    const dev = readResidentsConfig({ SERVICE_KEY_FILE: keys.keyFiles.residents, SERVICE_TRUST_FILE: keys.trustFile });
    expect(dev.serviceKey?.kid).toBe(key('residents').kid);
    expect(dev.serviceTrust?.issuers.gateway.calls).toBe('*');
    expect(readResidentsConfig({ RESIDENTS_SERVICE_KEY_FILE: keys.keyFiles.residents, SERVICE_KEY_FILE: '/nowhere' }).serviceKey?.kid).toBe(key('residents').kid);
    expect(() => readResidentsConfig({ SERVICE_KEY_FILE: '/nowhere/key.json' })).toThrow(/SERVICE_KEY_FILE: no key file at \/nowhere\/key.json/);

    const production = { NODE_ENV: 'production', RESIDENTS_DATABASE_URL: 'postgres://u:p@db/residents', AUDIT_DATABASE_URL: 'postgres://u:p@db/audit', RESIDENTS_SERVICE_URL: 'http://residents/graphql' };
    expect(() => readResidentsConfig(production)).toThrow(/SERVICE_KEY_FILE is required in production[\s\S]*SERVICE_TRUST_FILE is required in production/);
    // The test keys: development keys (dev- kid) in a temporary folder.
    expect(() => readResidentsConfig({ ...production, SERVICE_KEY_FILE: keys.keyFiles.residents, SERVICE_TRUST_FILE: keys.trustFile })).toThrow(
      /SERVICE_KEY_FILE: .* is a development key[\s\S]*SERVICE_TRUST_FILE: issuer "gateway" lists a development key/,
    );
    const inRepo = path.resolve(__dirname, '../.data/test-keys/prod-in-repo');
    const repoKeys = await ensureServiceKeys(inRepo, { kidPrefix: 'prod-' });
    expect(() => readGatewayConfig({ NODE_ENV: 'production', GATEWAY_SERVICE_KEY_FILE: repoKeys.keyFiles.gateway })).toThrow(
      /GATEWAY_SERVICE_KEY_FILE: the private key .* must not be kept inside the repository folder/,
    );
    const outside = await ensureServiceKeys(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-prod-keys-')), { kidPrefix: 'prod-' });
    const read = new EnvReader({ NODE_ENV: 'production', SERVICE_KEY_FILE: outside.keyFiles.gateway, SERVICE_TRUST_FILE: outside.trustFile });
    expect(readServiceKey(read, 'SERVICE_KEY_FILE', 'gateway')?.kid).toMatch(/^prod-gateway-/);
    expect(readTrustFile(read)?.issuers.gateway.keys[0].kid).toMatch(/^prod-gateway-/);
    fs.chmodSync(outside.keyFiles.gateway, 0o644);
    const loose = new EnvReader({ NODE_ENV: 'production', SERVICE_KEY_FILE: outside.keyFiles.gateway });
    readServiceKey(loose, 'SERVICE_KEY_FILE', 'gateway');
    expect(() => loose.done()).toThrow(/readable by its owner only/);
    expect(() => read.done()).not.toThrow();
  });
});
