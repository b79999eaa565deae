import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { Pool } from 'pg';
import { bodyHash, createCredentialSigner, CREDENTIAL_TYPE, type PrincipalClaims, type PrivateServiceJwk } from '../lib/service-auth';
import { ACCESS_RECORD_EXTENSION } from '../lib/access/subgraph-access';
import { startFederation, type TestFederation } from './support/federation';
import { householdOfSize, livingCardHoldersWithBirth, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';
import { postWithCredential, serviceCredential, serviceKeyOf } from './support/service-credentials';

/**
 * Service credentials over real HTTP, as an attacker on the network between the gateway and the subgraphs
 * (or holding an agency's key) would try them: forged, borrowed, replayed, moved onto another request, used
 * for an operation the issuer may not call. Each refused call answers 401 (or FORBIDDEN for an operation
 * outside the issuer's permissions) with no data.
 */
let federation: TestFederation;
let f: Fixtures;
let audit: Pool;
let recorder: RecordingProxy;
let subject: string;
let other: string;

/** Between the gateway and residents: keeps what the gateway sends (a captured credential and its body). */
interface RecordingProxy {
  url: string;
  seen: { authorization?: string; body: string }[];
  stop(): Promise<void>;
}

async function recordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  const seen: RecordingProxy['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ authorization: req.headers.authorization, body: body.toString('utf8') });
      const upstream = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: req.headers }, (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      });
      upstream.on('error', () => req.socket.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`,
    seen,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  federation = await startFederation({
    routeThrough: {
      residents: async (url) => {
        recorder = await recordingProxy(url);
        return recorder.url;
      },
    },
  });
  f = openFixtures();
  audit = new Pool({ connectionString: testDatabases().auditUrl, max: 2 });
  [subject, other] = await livingCardHoldersWithBirth(f, 'service-credentials', 2);
});

afterAll(async () => {
  await federation?.stop();
  await recorder?.stop();
  await f?.end();
  await audit?.end();
});

const NAME = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }`;
const CITIZENS = `query ($codes: [PersonalCode!]!) { citizens(personalCodes: $codes) { personalCode fullName dateOfBirth sex dateOfDeath } }`;
const CREATE = `mutation ($input: CitizenAtBirthInput!) { createCitizenAtBirth(input: $input) { personalCode } }`;
const registrar: PrincipalClaims = { sub: 'registrar:creds-test', role: 'REGISTRAR', agency: 'birth-registry', pc: null, purpose: 'CIVIL_REGISTRATION', rid: 'creds-test-rid' };
const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });

const expectRefused = (answer: { status: number; body: any }, reason?: string) => {
  expect(answer.status).toBe(401);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', ...(reason ? { reason } : {}) });
};

describe('a credential the gateway sent, captured on the wire', () => {
  let captured: { authorization: string; body: string };

  beforeAll(async () => {
    const before = recorder.seen.length;
    const answer = await federation.query<any>(NAME, { code: subject }, await bearer(PERSONAS.clerk));
    expect(answer.errors).toBeUndefined();
    expect(answer.data.citizen.fullName).toEqual(expect.any(String));
    const sent = recorder.seen.slice(before).find((r) => r.body.includes(subject) && r.authorization);
    captured = { authorization: sent!.authorization!, body: sent!.body };
    expect(captured.authorization).toMatch(/^Service ey/);
    // Signed over the exact bytes sent, for this subgraph alone, living seconds.
    const claims = JSON.parse(Buffer.from(captured.authorization.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ iss: 'gateway', aud: 'residents', bh: bodyHash(captured.body), prn: { sub: PERSONAS.clerk.sub, role: 'CLERK' } });
    expect(claims.exp - claims.iat).toBe(10);
    expect(claims.jti).toEqual(expect.any(String));
  });

  const replay = (sentBody: string) =>
    fetch(federation.subgraphUrls.residents, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: captured.authorization },
      body: sentBody,
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));

  it('is refused when replayed with the same body: 401, no data', async () => {
    expectRefused(await replay(captured.body), 'CREDENTIAL_REPLAYED');
  });

  it('is refused with another body (another person)', async () => {
    expectRefused(await replay(captured.body.replace(subject, other)), 'CREDENTIAL_BODY_MISMATCH');
    expectRefused(await replay(body(`{ household(number: "HK000000000001") { number } }`)), 'CREDENTIAL_BODY_MISMATCH');
  });

  it('each call of the gateway carries a fresh credential', async () => {
    const before = recorder.seen.length;
    for (let i = 0; i < 2; i += 1) expect((await federation.query<any>(NAME, { code: subject }, await bearer(PERSONAS.clerk))).errors).toBeUndefined();
    const jtis = recorder.seen.slice(before).map((r) => JSON.parse(Buffer.from(r.authorization!.split('.')[1], 'base64url').toString()).jti);
    expect(jtis).toHaveLength(2);
    expect(new Set(jtis).size).toBe(2);
  });
});

describe('forged credentials', () => {
  const sent = () => body(NAME, { code: subject });

  it('signed by a key no one trusts, under an unknown issuer or the gateway name with its kid', async () => {
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = (await exportJWK(stranger.privateKey)) as PrivateServiceJwk;
    const payload = sent();
    for (const [issuer, kid] of [
      ['police', 'dev-police-1'],
      ['gateway', serviceKeyOf('gateway').kid],
      ['birth-registry', serviceKeyOf('birth-registry').kid],
    ]) {
      const token = await createCredentialSigner(issuer, { ...jwk, kid }).sign('residents', payload, { principal: registrar });
      expectRefused(await postWithCredential(federation.subgraphUrls.residents, payload, token), 'CREDENTIAL_UNTRUSTED');
    }
  });

  it('alg none, and HS256 keyed with the public key', async () => {
    const payload = sent();
    const genuine = await serviceCredential('gateway', 'residents', payload);
    const claims = Buffer.from(JSON.stringify(JSON.parse(Buffer.from(genuine.split('.')[1], 'base64url').toString()))).toString('base64url');
    const kid = serviceKeyOf('gateway').kid;
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: CREDENTIAL_TYPE, kid })).toString('base64url')}.${claims}.`;
    expectRefused(await postWithCredential(federation.subgraphUrls.residents, payload, none), 'CREDENTIAL_INVALID');
    const publicJwk = { ...serviceKeyOf('gateway') };
    delete publicJwk.d;
    const hs256 = await new SignJWT(JSON.parse(Buffer.from(claims, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256', typ: CREDENTIAL_TYPE, kid })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expectRefused(await postWithCredential(federation.subgraphUrls.residents, payload, hs256), 'CREDENTIAL_INVALID');
  });

  it('expired, for another subgraph, or naming no principal', async () => {
    const payload = sent();
    const expired = await serviceCredential('gateway', 'residents', payload, { now: Date.now() - 60_000 });
    expectRefused(await postWithCredential(federation.subgraphUrls.residents, payload, expired), 'CREDENTIAL_EXPIRED');
    const elsewhere = await serviceCredential('gateway', 'national-id', payload);
    expectRefused(await postWithCredential(federation.subgraphUrls.residents, payload, elsewhere), 'CREDENTIAL_INVALID');
    const now = Math.floor(Date.now() / 1000);
    const anonymous = await new SignJWT({ bh: bodyHash(payload) })
      .setProtectedHeader({ alg: 'EdDSA', kid: serviceKeyOf('gateway').kid, typ: CREDENTIAL_TYPE })
      .setIssuer('gateway').setAudience('residents').setIssuedAt(now).setExpirationTime(now + 10).setJti(`anonymous-${Date.now()}-credential`)
      .sign(await importJWK(serviceKeyOf('gateway'), 'EdDSA'));
    expectRefused(await postWithCredential(federation.subgraphUrls.residents, payload, anonymous), 'PRINCIPAL_REQUIRED');
  });

  it('a valid credential with no body to bind (GET) is refused', async () => {
    const response = await fetch(`${federation.subgraphUrls.residents}?query=${encodeURIComponent('{ _service { sdl } }')}`, {
      headers: { authorization: `Service ${await serviceCredential('gateway', 'residents', '')}`, 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(401);
  });
});

describe("what an agency's credential may do", () => {
  const residents = () => federation.subgraphUrls.residents;
  const as = async (issuer: 'birth-registry' | 'national-id', sentBody: string, options: { recordedByGateway?: boolean; principal?: PrincipalClaims } = {}) =>
    postWithCredential(residents(), sentBody, await serviceCredential(issuer, 'residents', sentBody, { principal: registrar, ...options }));
  const newborn = (n: string) => ({
    birthRegistrationNumber: `creds-${n}-${Date.now()}`,
    provinceCode: '001',
    fullName: 'Trẻ Thử',
    sex: 'FEMALE',
    dateOfBirth: '2026-11-01',
    ethnicity: 'Kinh',
    nationality: 'VN',
  });

  it('national-id may read citizens, and nothing else: not createCitizenAtBirth, not a citizen by code', async () => {
    const read = await as('national-id', body(CITIZENS, { codes: [subject] }), { principal: { ...registrar, agency: 'national-id' } });
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data.citizens[0].personalCode).toBe(subject);

    const input = newborn('nid');
    const create = await as('national-id', body(CREATE, { input }));
    expect(create.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_ALLOWED' });
    expect(create.body.data).toBeNull();
    const { rows } = await f.residents.query(`SELECT count(*)::int AS n FROM so_dinh_danh WHERE khoa_khai_sinh = $1`, [input.birthRegistrationNumber]);
    expect(rows[0].n).toBe(0);

    const one = await as('national-id', body(NAME, { code: subject }));
    expect(one.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_ALLOWED' });
    expect(one.body.data?.citizen ?? null).toBeNull();
  });

  it('birth-registry may create a citizen at birth and read citizens, but not read a household or resolve entities', async () => {
    const created = await as('birth-registry', body(CREATE, { input: newborn('br') }));
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data.createCitizenAtBirth.personalCode).toMatch(/^\d{12}$/);

    const { number } = await householdOfSize(f, 2);
    const household = await as('birth-registry', body(`query ($n: String!) { household(number: $n) { number } }`, { n: number }));
    expect(household.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_ALLOWED' });
    expect(household.body.data?.household ?? null).toBeNull();

    const entities = await as(
      'birth-registry',
      body(`query ($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { fullName } } }`, { r: [{ __typename: 'Citizen', personalCode: subject }] }),
    );
    expect(entities.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_ALLOWED' });
    expect(entities.body.data?._entities ?? [null]).toEqual([null]);
  });

  it('an agency cannot ask residents to hand its access record back (rec: "gateway"): residents records the access itself', async () => {
    const requestId = `creds-rec-${Date.now()}`;
    const answer = await as('birth-registry', body(CITIZENS, { codes: [subject] }), { recordedByGateway: true, principal: { ...registrar, rid: requestId } });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.extensions?.[ACCESS_RECORD_EXTENSION]).toBeUndefined();
    const { rows } = await audit.query(`SELECT agency, persons::text[] AS persons, subject FROM audit_log WHERE request_id = $1`, [requestId]);
    expect(rows).toEqual([{ agency: 'residents', persons: [subject], subject: registrar.sub }]);
  });
});
