import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { startFederation, type TestFederation } from './support/federation';
import { livingCardHoldersWithBirth, openFixtures, type Fixtures } from './support/fixtures';
import { bearer, PERSONAS } from './support/tokens';
import { serviceCredential } from './support/service-credentials';

/**
 * Mutual TLS (SUBGRAPH_TLS_* on the subgraphs, SERVICE_TLS_* on their clients): the subgraphs listen on
 * HTTPS and let through only clients with a certificate of the federation's CA; the gateway and the agencies'
 * service calls present theirs. A CA and certificates are made for the test with openssl.
 */
let dir: string;
let federation: TestFederation;
let f: Fixtures;
let subject: string;

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const file = (name: string) => path.join(dir, name);

function makeCa(name: string) {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`);
}

function makeCertificate(name: string, ca: string) {
  fs.writeFileSync(file(`${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
}

const tlsEnv = (prefix: string, name: string) => ({
  [`${prefix}_CERT_FILE`]: file(`${name}.crt`),
  [`${prefix}_KEY_FILE`]: file(`${name}.key`),
  [`${prefix}_CA_FILE`]: file('federation-ca.crt'),
});

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-mtls-'));
  makeCa('federation-ca');
  makeCertificate('subgraphs', 'federation-ca');
  makeCertificate('gateway', 'federation-ca');
  makeCa('rogue-ca');
  makeCertificate('rogue', 'rogue-ca');
  federation = await startFederation({
    // Each subgraph serves with its certificate and presents it on its own service calls (to residents).
    subgraphEnv: { ...tlsEnv('SUBGRAPH_TLS', 'subgraphs'), ...tlsEnv('SERVICE_TLS', 'subgraphs') },
    gatewayEnv: tlsEnv('SERVICE_TLS', 'gateway'),
  });
  f = openFixtures();
  [subject] = await livingCardHoldersWithBirth(f, 'mutual-tls', 1);
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A POST to a subgraph over HTTPS, presenting `client` (a certificate name) or no certificate. */
function post(url: string, body: string, client: string | null, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        ca: fs.readFileSync(file('federation-ca.crt')),
        ...(client ? { cert: fs.readFileSync(file(`${client}.crt`)), key: fs.readFileSync(file(`${client}.key`)) } : {}),
        headers: { 'content-type': 'application/json', ...headers },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const NAME = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName identityCard { number } birthRegistration { registrationNumber } } }`;

describe('mutual TLS between the gateway and the subgraphs, and between agencies', () => {
  it('the subgraphs listen on HTTPS, and the gateway reaches all three with its client certificate', async () => {
    for (const url of [...Object.values(federation.subgraphUrls), federation.statisticsUrl]) expect(url).toMatch(/^https:\/\//);
    const answer = await federation.query<any>(NAME, { code: subject }, await bearer(PERSONAS.clerk));
    expect(answer.errors).toBeUndefined();
    expect(answer.data.citizen).toMatchObject({ fullName: expect.any(String), identityCard: { number: expect.any(String) }, birthRegistration: { registrationNumber: expect.any(String) } });
    // The gateway's checks of the agencies present its client certificate too.
    const dependencies = await fetch(`${federation.gatewayBase}/health/dependencies`);
    expect(dependencies.status).toBe(200);
  });

  it('an agency service call (birth registry to residents) presents the agency certificate', async () => {
    const answer = await federation.query<any>(
      `mutation ($input: RegisterBirthInput!) { registerBirth(input: $input) { status registration { child { personalCode } } } }`,
      {
        input: {
          idempotencyKey: crypto.randomUUID(),
          registrationProvinceCode: '031',
          registeringAuthority: 'UBND phường Lê Chân',
          placeOfBirth: 'Bệnh viện Phụ sản Hải Phòng',
          childName: `Nguyễn Thị Mtls ${crypto.randomBytes(3).toString('hex')}`,
          childSex: 'FEMALE',
          childDateOfBirth: '2026-11-20',
          ethnicity: 'Kinh',
          mother: { name: `Lê Thị Mtls ${crypto.randomBytes(3).toString('hex')}`, nationality: 'VN' },
        },
      },
      { 'x-actor': 'registrar:mtls-test' },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data.registerBirth.status).toBe('REGISTERED');
    expect(answer.data.registerBirth.registration.child.personalCode).toMatch(/^\d{12}$/);
  });

  it('refuses a client without a certificate, or with one of another CA, before any HTTP', async () => {
    const body = JSON.stringify({ query: '{ _service { sdl } }' });
    await expect(post(federation.subgraphUrls.residents, body, null)).rejects.toThrow();
    await expect(post(federation.subgraphUrls.residents, body, 'rogue')).rejects.toThrow();
  });

  it('a certificate of the CA is not enough: the credential is still required', async () => {
    const body = JSON.stringify({ query: '{ _service { sdl } }', variables: {} });
    const bare = await post(federation.subgraphUrls.residents, body, 'gateway');
    expect(bare.status).toBe(401);
    expect(bare.body.data).toBeUndefined();
    const credentialed = await post(federation.subgraphUrls.residents, body, 'gateway', { authorization: `Service ${await serviceCredential('gateway', 'residents', body)}` });
    expect(credentialed.status).toBe(200);
    expect(credentialed.body.data._service.sdl).toMatch(/type Citizen/);
  });
});
