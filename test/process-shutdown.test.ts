import { Pool } from 'pg';
import crypto from 'node:crypto';
import { AGENCIES, agency } from '../lib/agencies';
import { startFederation, type TestFederation } from './support/federation';
import { exited, startGatewayProcess, startSubgraphProcess, type ServiceProcess } from './support/service-process';
import { startTcpProxy, throughProxy, type TcpProxy } from './support/tcp-proxy';
import { eventually } from './support/eventually';
import { bearer, PERSONAS } from './support/tokens';
import { UNIFIED_CITIZEN } from './support/queries';
import { shownCitizen } from './support/fixtures';
import { testDatabases } from './support/databases';
import { CLERK_PRINCIPAL, postWithCredential, serviceCredential } from './support/service-credentials';

/**
 * SIGTERM (what npm start's Ctrl-C, a rolling restart and Kubernetes send) stops a process through its own
 * shutdown (lib/shutdown.ts): not ready at once, serving for SHUTDOWN_GRACE_MS so a balancer notices, then it
 * stops accepting, finishes what is in flight (the gateway's audit writes included), closes its pools and exits
 * 0 by itself; or, past SHUTDOWN_TIMEOUT_MS, exits 1 saying what was left.
 *
 * Run as development, not test: Apollo Server installs its own signal handlers outside NODE_ENV=test, and
 * with them a subgraph never finished stopping (its second stop() waited forever) until it was SIGKILLed,
 * its audit writer and pools never closed.
 */
const DEVELOPMENT = { NODE_ENV: 'development' };
/**
 * The tests that look inside the grace make it endless (ten minutes) and end it themselves with a second SIGTERM
 * (lib/shutdown.ts) once they have seen what they came for: nothing depends on how fast the machine is.
 */
const ENDLESS_GRACE = { SHUTDOWN_GRACE_MS: '600000', SHUTDOWN_TIMEOUT_MS: '1200000' };

const started: ServiceProcess[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  // One that did not stop (the test failed) is not left running.
  for (const service of started.splice(0)) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  for (const proxy of proxies.splice(0)) await proxy.stop();
});

async function terminate(service: ServiceProcess) {
  started.push(service);
  const ended = exited(service.child);
  service.child.kill('SIGTERM');
  // No deadline of our own: jest's test timeout bounds the wait, and a process that does not stop hangs here.
  return ended;
}

const baseOf = (service: ServiceProcess) => service.url.replace(/\/graphql$/, '');
const statusOf = (url: string) => fetch(url).then((response) => response.status);

async function proxyTo(url: string): Promise<TcpProxy> {
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  proxies.push(proxy);
  return proxy;
}

describe('a process stops on SIGTERM by itself, exit code 0', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    federation = await startFederation();
  });
  afterAll(async () => {
    await federation?.stop();
  });

  it.each(AGENCIES.map((agency) => agency.id))('the %s subgraph', async (id) => {
    const subgraph = await startSubgraphProcess(id, DEVELOPMENT);
    for (const path of ['/health', '/health/ready', '/health/live']) expect(await statusOf(`${baseOf(subgraph)}${path}`)).toBe(200);
    await expect(terminate(subgraph)).resolves.toEqual({ code: 0, signal: null });
  }, 180_000);

  it('the gateway', async () => {
    const gateway = await startGatewayProcess(federation, DEVELOPMENT);
    expect(await statusOf(`${baseOf(gateway)}/health/ready`)).toBe(200);
    await expect(terminate(gateway)).resolves.toEqual({ code: 0, signal: null });
  }, 180_000);

  it('the gateway: a request in flight when SIGTERM arrives completes, audited; readiness turns 503 while the listener still serves', async () => {
    const { code } = await shownCitizen();
    // The National ID Center's answer is held between the gateway and the subgraph: the request stays in flight.
    const nationalId = await proxyTo(federation.subgraphUrls['national-id']);
    const gateway = await startGatewayProcess(federation, {
      ...DEVELOPMENT,
      ...ENDLESS_GRACE,
      SUBGRAPH_NATIONAL_ID_URL: throughProxy(federation.subgraphUrls['national-id'], nationalId),
    });
    nationalId.hold();
    const requestId = `shutdown-${crypto.randomUUID()}`;
    const inFlight = fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...(await bearer(PERSONAS.investigator)) },
      body: JSON.stringify({ query: UNIFIED_CITIZEN, variables: { code } }),
    });
    expect(await eventually(() => nationalId.heldBytes(), (bytes) => bytes > 0)).toBeGreaterThan(0);

    const ended = terminate(gateway);
    // Not ready at once, while the process still accepts new connections and answers them.
    expect(await eventually(() => statusOf(`${baseOf(gateway)}/health/ready`), (status) => status === 503)).toBe(503);
    expect(await statusOf(`${baseOf(gateway)}/health/live`)).toBe(200);
    const during = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer(PERSONAS.investigator)) },
      body: JSON.stringify({ query: 'query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }', variables: { code } }),
    });
    expect(during.status).toBe(200);
    // A second SIGTERM ends the grace: the process stops accepting (its listener closes) and waits for the request in flight.
    gateway.child.kill('SIGTERM');
    expect(await eventually(() => statusOf(`${baseOf(gateway)}/health/live`).catch(() => 'closed'), (status) => status === 'closed', { withinMs: 120_000 })).toBe('closed');

    nationalId.release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as any;
    expect(body.errors).toBeUndefined();
    expect(body.data.citizen.identityCard.number).toEqual(expect.any(String));
    await expect(ended).resolves.toEqual({ code: 0, signal: null });
    // Its audit records were written before its answer left, and the last checkpoint after them.
    const audit = new Pool({ connectionString: testDatabases().auditUrl, max: 1 });
    try {
      const { rows } = await audit.query<{ agency: string }>('SELECT DISTINCT agency FROM audit_log WHERE request_id = $1 ORDER BY agency', [requestId]);
      expect(rows.map((row) => row.agency)).toEqual(['birth-registry', 'national-id', 'residents']);
    } finally {
      await audit.end();
    }
  }, 180_000);

  it('the gateway: past SHUTDOWN_TIMEOUT_MS it exits 1, saying what was left', async () => {
    const { code } = await shownCitizen();
    const nationalId = await proxyTo(federation.subgraphUrls['national-id']);
    const gateway = await startGatewayProcess(federation, {
      ...DEVELOPMENT,
      SHUTDOWN_GRACE_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '2000',
      SUBGRAPH_NATIONAL_ID_URL: throughProxy(federation.subgraphUrls['national-id'], nationalId),
    });
    nationalId.hold();
    const stuck = fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer(PERSONAS.investigator)) },
      body: JSON.stringify({ query: UNIFIED_CITIZEN, variables: { code } }),
    }).catch((error: unknown) => error);
    expect(await eventually(() => nationalId.heldBytes(), (bytes) => bytes > 0)).toBeGreaterThan(0);
    // The held request never finishes (the proxy keeps it): the process must not wait for it for ever.
    await expect(terminate(gateway)).resolves.toEqual({ code: 1, signal: null });
    expect(gateway.output()).toMatch(/not stopped 2000 ms after the signal \(SHUTDOWN_TIMEOUT_MS\), while finishing requests in flight, 1 request\(s\) in flight/);
    await stuck;
  }, 120_000);
});

describe('a subgraph stopped under a request', () => {
  it('answers the request in flight when SIGTERM arrived, turns not ready at once, and exits 0', async () => {
    const { code } = await shownCitizen();
    const { serviceUrls } = testDatabases();
    const prefix = agency('residents').envPrefix;
    // Its database is reached through a relay that can hold what the subgraph sends: its query stays in flight.
    const database = new URL(serviceUrls.residents.database!);
    const relay = await proxyTo(`http://${database.host}`);
    const residents = await startSubgraphProcess('residents', {
      ...DEVELOPMENT,
      ...ENDLESS_GRACE,
      [`${prefix}_DATABASE_URL`]: throughProxy(serviceUrls.residents.database!, relay),
    });
    started.push(residents);
    relay.hold();
    const body = JSON.stringify({ query: 'query ($code: PersonalCode!) { citizen(personalCode: $code) { personalCode fullName } }', variables: { code } });
    const inFlight = postWithCredential(residents.url, body, await serviceCredential('gateway', 'residents', body, { principal: CLERK_PRINCIPAL }));
    expect(await eventually(() => relay.heldBytes(), (bytes) => bytes > 0)).toBeGreaterThan(0);

    const ended = terminate(residents);
    // Draining answers before asking the database (which is held here): a balancer's check never waits on it.
    expect(await eventually(() => statusOf(`${baseOf(residents)}/health/ready`), (status) => status === 503)).toBe(503);
    expect(await statusOf(`${baseOf(residents)}/health`)).toBe(503);
    expect(await statusOf(`${baseOf(residents)}/health/live`)).toBe(200);
    residents.child.kill('SIGTERM'); // the grace ends
    expect(await eventually(() => statusOf(`${baseOf(residents)}/health/live`).catch(() => 'closed'), (status) => status === 'closed', { withinMs: 120_000 })).toBe('closed');

    relay.release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.citizen).toEqual({ personalCode: code, fullName: expect.any(String) });
    await expect(ended).resolves.toEqual({ code: 0, signal: null });
  }, 180_000);
});
