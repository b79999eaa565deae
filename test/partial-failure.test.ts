import net from 'node:net';
import { startFederation, type TestFederation } from './support/federation';
import { citizenWithEverything, openFixtures, type Fixtures } from './support/fixtures';
import { UNIFIED_CITIZEN } from './support/queries';
import { eventually } from './support/eventually';
import { startTcpProxy, throughProxy, type TcpProxy } from './support/tcp-proxy';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';

/**
 * One agency down or too slow: the others' data is still returned, with an error that names what is
 * missing in plain words and nothing internal.
 */
let f: Fixtures;

beforeAll(() => {
  f = openFixtures();
});

afterAll(async () => {
  await f?.end();
});

describe('when the National ID Center is down', () => {
  let federation: TestFederation;

  beforeAll(async () => {
    federation = await startFederation();
    await federation.stopSubgraph('national-id');
  });

  afterAll(async () => {
    await federation?.stop();
  });

  it('still returns the residents and birth registry data (HTTP 200), with an error for each field left null, by path', async () => {
    const code = await citizenWithEverything(f);
    const response = await federation.query<any>(UNIFIED_CITIZEN, { code });
    expect(response.status).toBe(200);
    const citizen = response.data!.citizen;
    expect(citizen.personalCode).toBe(code);
    expect(typeof citizen.fullName).toBe('string');
    expect(citizen.permanentResidence.kind).toBe('PERMANENT');
    expect(citizen.birthRegistration.registrationNumber).toEqual(expect.any(String));
    expect(citizen.identityCard).toBeNull();
    expect(citizen.identityCards).toBeNull();

    // One error per field the agency left null, each with its path, as GraphQL reports any field error.
    expect(response.errors!.map((e) => e.path)).toEqual([
      ['citizen', 'identityCard'],
      ['citizen', 'identityCards'],
      ['citizen', 'legacyIdNumbers'],
    ]);
    for (const error of response.errors!) {
      expect(error.extensions).toEqual({ code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_UNREACHABLE', agency: 'National ID Center' });
      expect(error.message).toMatch(/National ID Center did not answer.*identity cards.*missing/);
    }
    expect(JSON.stringify(response)).not.toMatch(/127\.0\.0\.1|http:|ECONNREFUSED|national-id|serviceName/);
  });

  it('stays ready (its answers are partial, not wrong) and reports the agency unavailable under /health/dependencies', async () => {
    const live = await fetch(`${federation.gatewayBase}/health/live`);
    expect(live.status).toBe(200);
    // One agency down must not take every gateway replica out of its balancer (gateway/health.ts).
    const ready = await fetch(`${federation.gatewayBase}/health/ready`);
    expect(ready.status).toBe(200);
    const dependencies = await fetch(`${federation.gatewayBase}/health/dependencies`);
    expect(dependencies.status).toBe(503);
    const body = (await dependencies.json()) as any;
    expect(body.status).toBe('degraded');
    expect(body.subgraphs).toEqual(
      expect.arrayContaining([
        { subgraph: 'national-id', agency: 'National ID Center', status: 'unavailable' },
        { subgraph: 'residents', agency: 'Resident Information Center', status: 'ok' },
      ]),
    );
    expect(JSON.stringify(body)).not.toMatch(/http:/);
  });
});

describe('when the birth registry does not answer in time', () => {
  let federation: TestFederation;
  let silent: net.Server;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    // A real TCP peer that accepts the connection and never answers: the gateway's timeout must end the wait.
    // The timeout applies to every subgraph, so it leaves the real ones ample time on a loaded machine.
    silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    federation = await startFederation({
      gatewayEnv: { SUBGRAPH_BIRTH_REGISTRY_URL: `http://127.0.0.1:${port}/graphql`, SUBGRAPH_TIMEOUT_MS: '2000' },
    });
  });

  afterAll(async () => {
    await federation?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('times out the call and returns everything else', async () => {
    const code = await citizenWithEverything(f);
    const response = await federation.query<any>(UNIFIED_CITIZEN, { code });
    expect(response.data!.citizen.fullName).toEqual(expect.any(String));
    expect(response.data!.citizen.identityCard.status).toBe('VALID');
    expect(response.data!.citizen.birthRegistration).toBeNull();
    const unavailable = { code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_UNREACHABLE', agency: 'Birth registry' };
    expect(response.errors!.map((e) => [e.path, e.extensions])).toEqual([
      [['citizen', 'birthRegistration'], unavailable],
      [['citizen', 'parents'], unavailable],
      [['citizen', 'children'], unavailable],
    ]);
  });
});

describe("when the National ID Center's database is down", () => {
  let federation: TestFederation;
  let proxy: TcpProxy;

  beforeAll(async () => {
    // The national-id subgraph reaches its (real) PostgreSQL through a relay this test can take away.
    const url = new URL(testDatabases().serviceUrls['national-id'].database!);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    federation = await startFederation({ subgraphEnv: { NATIONAL_ID_DATABASE_URL: throughProxy(url.toString(), proxy) } });
  });

  afterAll(async () => {
    await federation?.stop();
    await proxy?.stop();
  });

  it('reports AGENCY_UNAVAILABLE (not an internal error) for each field left null, by path, and returns the rest', async () => {
    const code = await citizenWithEverything(f);
    const before = await federation.query<any>(UNIFIED_CITIZEN, { code });
    expect(before.errors).toBeUndefined();
    expect(before.data!.citizen.identityCard.status).toBe('VALID');

    // PostgreSQL ends the subgraph's sessions (as when it restarts), and its port now refuses connections.
    const ports = proxy.upstreamPorts();
    expect(ports.length).toBeGreaterThan(0);
    await proxy.stopListening();
    const { rows } = await f.nationalId.query<{ ended: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE client_port = ANY($1::int[])',
      [ports],
    );
    expect(rows.length).toBeGreaterThan(0);

    const response = await federation.query<any>(UNIFIED_CITIZEN, { code });
    expect(response.status).toBe(200);
    const citizen = response.data!.citizen;
    expect(typeof citizen.fullName).toBe('string');
    expect(citizen.birthRegistration.registrationNumber).toEqual(expect.any(String));
    expect(citizen.identityCard).toBeNull();
    expect(citizen.identityCards).toBeNull();
    expect(citizen.legacyIdNumbers).toBeNull();

    expect(response.errors!.map((e) => e.path)).toEqual([
      ['citizen', 'identityCard'],
      ['citizen', 'identityCards'],
      ['citizen', 'legacyIdNumbers'],
    ]);
    for (const error of response.errors!) {
      expect(error.extensions).toEqual({ code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_DATABASE_UNAVAILABLE', agency: 'National ID Center' });
      expect(error.message).toMatch(/National ID Center could not reach its database.*identity cards/);
    }
    expect(JSON.stringify(response)).not.toMatch(/ECONNREFUSED|terminat|127\.0\.0\.1|postgres|SELECT|prisma/i);
  });

  it('takes the subgraph out of rotation (not ready, database unreachable) while the gateway stays ready and names the agency', async () => {
    // The database is still away (the first test of this block took it).
    const base = federation.subgraphUrls['national-id'].replace(/\/graphql$/, '');
    const ready = await eventually(() => fetch(`${base}/health/ready`), (response) => response.status === 503);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', subgraph: 'national-id', reason: 'database unreachable' });
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${federation.gatewayBase}/health/ready`)).status).toBe(200);
    const dependencies = (await (await fetch(`${federation.gatewayBase}/health/dependencies`)).json()) as any;
    expect(dependencies.subgraphs).toContainEqual({ subgraph: 'national-id', agency: 'National ID Center', status: 'unavailable' });
  });

  it('says so in Vietnamese to a client that asks for it', async () => {
    const code = await citizenWithEverything(f);
    const response = await federation.query<any>(UNIFIED_CITIZEN, { code }, { ...(await bearer(PERSONAS.investigator)), 'accept-language': 'vi' });
    expect(response.errors!.length).toBeGreaterThan(0);
    for (const error of response.errors!) {
      expect(error.extensions).toMatchObject({ code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_DATABASE_UNAVAILABLE' });
      expect(error.message).toMatch(/^Trung tâm Căn cước quốc gia không truy cập được cơ sở dữ liệu/);
    }
  });
});
