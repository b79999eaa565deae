import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { AGENCIES, type Agency } from '../lib/agencies';
import { readMetrics, sampleSum, type Sample } from '../bench/prometheus-text';
import { startGatewayProcess, startSubgraphProcess, type ServiceProcess } from './support/service-process';
import { testDatabases } from './support/databases';
import { eventually } from './support/eventually';
import { shownCitizen } from './support/fixtures';
import { bearer, PERSONAS } from './support/tokens';
import { REGISTER_BIRTH, UNIFIED_CITIZEN } from './support/queries';

/**
 * Observability of the real processes, each started as production runs it (gateway and three subgraphs,
 * sealed, recording): the request id and the W3C trace of a client request in every process's log lines and
 * in every audit record of it, writes' outbox records and agency-to-agency calls included; an attacker's
 * traceparent replaced, never echoed; and each process's Prometheus metrics, on a listener of their own,
 * moving with the right, bounded labels.
 */
let subgraphs: Record<Agency['id'], ServiceProcess>;
/**
 * The agencies the unified view (operations/UnifiedCitizen.graphql) reads from, each called once per request: an
 * agency added later (npm run agency:new) has no field in it, and its subgraph sees none of these requests.
 */
const UNIFIED_VIEW_AGENCIES = AGENCIES.filter((agency) => ['residents', 'national-id', 'birth-registry'].includes(agency.id));
let gateway: ServiceProcess;
let audit: Pool;
let citizen: string;
const processes = () => [gateway, ...Object.values(subgraphs)];

beforeAll(async () => {
  // No outbox timer: the agencies' change logs are shared with the other test files running beside this one, and
  // a shipper on a timer would ship their entries to this run's store (each ships right after its own writes).
  const quiet = { AUDIT_OUTBOX_INTERVAL_MS: '0' };
  const residents = await startSubgraphProcess('residents', quiet);
  // Ample for a busy machine, as the gateway's (test/support/service-process.ts): a slow first answer must not
  // leave a birth pending.
  const env = { ...quiet, RESIDENTS_SERVICE_URL: residents.url, SERVICE_TIMEOUT_MS: '30000' };
  const others = AGENCIES.filter((a) => a.id !== 'residents');
  const started = await Promise.all(others.map((a) => startSubgraphProcess(a.id, env)));
  subgraphs = { residents, ...Object.fromEntries(others.map((a, i) => [a.id, started[i]])) } as Record<Agency['id'], ServiceProcess>;
  gateway = await startGatewayProcess({ subgraphUrls: Object.fromEntries(AGENCIES.map((a) => [a.id, subgraphs[a.id].url])) as Record<Agency['id'], string> });
  audit = new Pool({ connectionString: testDatabases().auditUrl, max: 2 });
  citizen = (await shownCitizen()).code;
  // Four processes started through tsx, one after another where they depend on each other: slow on a busy machine.
}, 240_000);

afterAll(async () => {
  // (A process still starting when a timed-out beforeAll gave up dies with the worker: test/support/service-process.ts.)
  for (const service of [gateway, ...Object.values(subgraphs ?? {})]) service?.child.kill('SIGKILL');
  await audit?.end();
});

// ------------------------------------------------------------------------------------------------ helpers

const newTrace = () => ({ traceId: crypto.randomBytes(16).toString('hex'), parentId: crypto.randomBytes(8).toString('hex') });
const newRequestId = (what: string) => `obs-${what}-${crypto.randomUUID()}`;

async function post(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await bearer(PERSONAS.investigator)), ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: { extensions?: Record<string, unknown> }[] } };
}

type LogLine = Record<string, any>;

function logLines(service: ServiceProcess): LogLine[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** The lines a process wrote for one request id, once its "request" line (written when the answer is done) is there. */
async function linesOf(service: ServiceProcess, requestId: string): Promise<LogLine[]> {
  const lines = await eventually(
    () => logLines(service).filter((line) => line.requestId === requestId),
    (found) => found.some((line) => line.msg === 'request'),
  );
  expect(lines.some((line) => line.msg === 'request')).toBe(true);
  return lines;
}

const requestLine = async (service: ServiceProcess, requestId: string) => (await linesOf(service, requestId)).find((line) => line.msg === 'request')!;

const auditRecords = (requestId: string) =>
  audit.query<{ agency: string; action: string }>('SELECT agency, action FROM audit_log WHERE request_id = $1 ORDER BY agency, action', [requestId]).then((r) => r.rows);

const publicBase = (service: ServiceProcess) => service.url.replace(/\/graphql$/, '');

// -------------------------------------------------------------------------------------------------- tests

describe('one request, one trace: the request id and trace id in every process and every audit record', () => {
  it('a read through the gateway: the client trace continues in the gateway and in each subgraph, each with its own span', async () => {
    const { traceId, parentId } = newTrace();
    const requestId = newRequestId('read');
    const response = await post(gateway.url, { query: UNIFIED_CITIZEN, variables: { code: citizen } }, { traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': requestId });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.headers.get('x-request-id')).toBe(requestId);
    // The trace is not echoed to the client (nor is any other trace header).
    expect(response.headers.get('traceparent')).toBeNull();

    const atGateway = await requestLine(gateway, requestId);
    expect(atGateway).toMatchObject({ service: 'gateway', level: 'info', traceId, parentSpanId: parentId, operation: 'UnifiedCitizen', result: 'ok', status: 200 });
    expect(atGateway.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof atGateway.durationMs).toBe('number');

    const spans = new Set([parentId, atGateway.spanId]);
    for (const agency of UNIFIED_VIEW_AGENCIES) {
      const lines = await linesOf(subgraphs[agency.id], requestId);
      for (const line of lines) expect(line).toMatchObject({ service: agency.id, requestId, traceId });
      const served = lines.find((line) => line.msg === 'request')!;
      expect(served).toMatchObject({ result: 'ok', status: 200 });
      expect(served.operation).toMatch(/^Query\.[_A-Za-z]+$/);
      // Called by the gateway with a span id of that call's own, and serving it in a span of its own.
      expect(served.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
      expect(spans.has(served.parentSpanId)).toBe(false);
      expect(spans.has(served.spanId)).toBe(false);
      spans.add(served.parentSpanId).add(served.spanId);
    }

    const records = await eventually(() => auditRecords(requestId), (rows) => rows.length >= 3);
    expect([...new Set(records.map((r) => r.agency))]).toEqual(['birth-registry', 'national-id', 'residents']);
    expect(records.every((r) => r.action === 'READ')).toBe(true);
  });

  it("a write: the agency's call to another agency carries the trace on, and the WRITE records of both agencies' outboxes carry the request id", async () => {
    const { traceId, parentId } = newTrace();
    const requestId = newRequestId('write');
    const input = {
      idempotencyKey: crypto.randomUUID(),
      registrationProvinceCode: '031',
      registeringAuthority: 'UBND phường Lê Chân, Hải Phòng',
      placeOfBirth: 'Bệnh viện Phụ sản Hải Phòng',
      childName: `Nguyễn Thị Quan Sát ${crypto.randomBytes(3).toString('hex')}`,
      childSex: 'FEMALE',
      childDateOfBirth: '2026-10-15',
      ethnicity: 'Kinh',
      mother: { name: 'Lê Thị Mẹ', nationality: 'VN' },
    };
    const response = await post(
      gateway.url,
      { query: REGISTER_BIRTH, variables: { input } },
      { ...(await bearer(PERSONAS.registrar('birth-registry'))), traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': requestId },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.registerBirth.status).toBe('REGISTERED');

    expect(await requestLine(gateway, requestId)).toMatchObject({ traceId, operation: 'RegisterBirth', result: 'ok' });
    const atBirthRegistry = await requestLine(subgraphs['birth-registry'], requestId);
    expect(atBirthRegistry).toMatchObject({ traceId, operation: 'Mutation.registerBirth', result: 'ok' });
    // Residents was called by the birth registry (not the gateway) for the child's code: same trace, same request id.
    const atResidents = await requestLine(subgraphs.residents, requestId);
    expect(atResidents).toMatchObject({ traceId, operation: 'Mutation.createCitizenAtBirth', result: 'ok' });
    expect(atResidents.parentSpanId).not.toBe(atBirthRegistry.spanId);
    expect(atResidents.parentSpanId).not.toBe(parentId);

    const records = await eventually(
      () => auditRecords(requestId),
      (rows) => ['birth-registry', 'residents'].every((agency) => rows.some((r) => r.agency === agency && r.action === 'WRITE')),
    );
    expect(records.filter((r) => r.action === 'WRITE').map((r) => r.agency)).toEqual(expect.arrayContaining(['birth-registry', 'residents']));
  });

  it.each([
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['upper case', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['unicode', '00-4bf92f3577b34da6a3ce929d0e0e47ｚｚ-00f067aa0ba902b7-01-ĐăngBảo'],
    ['a huge value', `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-${'zz'.repeat(4000)}`],
    ['JSON to forge a log line', '00-x","traceId":"forged","level":"fatal'],
  ])('a traceparent with %s is replaced by a new trace, never echoed, and the request is served', async (_what, traceparent) => {
    const requestId = newRequestId('bad-trace');
    const before = processes().map((service) => service.output().length);
    // fetch refuses to send some of these as a header: Node's own client sends them, UTF-8 bytes and all.
    const status = await rawPost(gateway.url, { query: UNIFIED_CITIZEN, variables: { code: citizen } }, { traceparent, 'x-request-id': requestId });
    expect(status).toBe(200);
    const atGateway = await requestLine(gateway, requestId);
    expect(atGateway.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(atGateway.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(atGateway).not.toHaveProperty('parentSpanId');
    for (const agency of UNIFIED_VIEW_AGENCIES) expect(await requestLine(subgraphs[agency.id], requestId)).toMatchObject({ traceId: atGateway.traceId });
    // Nothing of the header reached any log.
    processes().forEach((service, i) => {
      const written = service.output().slice(before[i]);
      expect(written).not.toContain('00f067aa0ba902b7');
      expect(written).not.toContain('forged');
      expect(written).not.toContain('zzzz');
    });
  });

  it('a header too large for any server is refused by Node (431) and the gateway goes on serving', async () => {
    const status = await rawPost(gateway.url, { query: '{ __typename }' }, { traceparent: `00-${'a'.repeat(20_000)}` });
    expect(status).toBe(431);
    const requestId = newRequestId('after-huge');
    expect(await rawPost(gateway.url, { query: UNIFIED_CITIZEN, variables: { code: citizen } }, { 'x-request-id': requestId })).toBe(200);
  });
});

/**
 * POST with Node's own client, which sends header bytes fetch refuses (huge values; non-ASCII ones as their UTF-8
 * bytes, as a client would send them). Resolves with the status.
 */
async function rawPost(url: string, body: Record<string, unknown>, given: Record<string, string>): Promise<number> {
  const payload = JSON.stringify(body);
  const auth = await bearer(PERSONAS.investigator);
  const headers = Object.fromEntries(Object.entries(given).map(([name, value]) => [name, Buffer.from(value, 'utf8').toString('latin1')]));
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

describe('metrics', () => {
  const metricsOf = (service: ServiceProcess) => readMetrics(service.metricsUrl);
  const REQUESTS = 'citizen_graph_graphql_request_duration_seconds_count';

  it('are served on a listener of their own, never on the public port (the subgraphs\' JSON /metrics is gone)', async () => {
    for (const service of processes()) {
      expect(new URL(service.metricsUrl).port).not.toBe(new URL(service.url).port);
      expect((await fetch(`${publicBase(service)}/metrics`)).status).toBe(404);
      const response = await fetch(service.metricsUrl);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      // Only GET /metrics there: not the GraphQL endpoint, nor anything else.
      expect((await fetch(service.metricsUrl.replace(/\/metrics$/, '/graphql'), { method: 'POST' })).status).toBe(404);
    }
  });

  it('move with every request: latency by trusted operation and result, subgraph calls, SQL statements, audit commits, pools', async () => {
    const before = await Promise.all(processes().map(metricsOf));
    for (let i = 0; i < 3; i += 1) {
      const response = await post(gateway.url, { query: UNIFIED_CITIZEN, variables: { code: citizen } });
      expect(response.body.errors).toBeUndefined();
    }
    const moved = (samples: Sample[], old: Sample[], name: string, labels: Record<string, string>) => sampleSum(samples, name, labels) - sampleSum(old, name, labels);
    const settled = await eventually(
      () => Promise.all(processes().map(metricsOf)),
      ([atGateway]) => moved(atGateway, before[0], REQUESTS, { operation: 'UnifiedCitizen', result: 'ok' }) === 3,
    );
    const [atGateway, residents, nationalId, birthRegistry] = settled;
    expect(moved(atGateway, before[0], REQUESTS, { service: 'gateway', operation: 'UnifiedCitizen', result: 'ok' })).toBe(3);
    // A histogram: the buckets moved too, the +Inf one by every request.
    expect(moved(atGateway, before[0], 'citizen_graph_graphql_request_duration_seconds_bucket', { operation: 'UnifiedCitizen', result: 'ok', le: '+Inf' })).toBe(3);
    for (const subgraph of UNIFIED_VIEW_AGENCIES.map((a) => a.id)) {
      expect(moved(atGateway, before[0], 'citizen_graph_subgraph_request_duration_seconds_count', { subgraph, result: 'ok' })).toBeGreaterThanOrEqual(3);
      expect(sampleSum(atGateway, 'citizen_graph_subgraph_breaker_state', { subgraph })).toBe(0);
    }
    expect(moved(atGateway, before[0], 'citizen_graph_audit_commit_duration_seconds_count', { result: 'committed' })).toBeGreaterThanOrEqual(1);
    expect(moved(atGateway, before[0], 'citizen_graph_audit_records_total', { result: 'committed' })).toBeGreaterThanOrEqual(9);
    expect(sampleSum(atGateway, 'citizen_graph_audit_queue_records', { writer: 'gateway' })).toBe(0);
    expect(sampleSum(atGateway, 'citizen_graph_db_pool_max_connections', { pool: 'audit-writer' })).toBe(2);
    expect(sampleSum(atGateway, 'process_cpu_user_seconds_total', { service: 'gateway' })).toBeGreaterThan(0);

    for (const [samples, old, agency] of [[residents, before[1], 'residents'], [nationalId, before[2], 'national-id'], [birthRegistry, before[3], 'birth-registry']] as const) {
      expect(moved(samples, old, REQUESTS, { service: agency, result: 'ok' })).toBeGreaterThanOrEqual(3);
      // One SQL statement per request in each agency database (README: the unified view's cost).
      expect(moved(samples, old, 'citizen_graph_db_statements_total', { pool: agency })).toBeGreaterThanOrEqual(3);
      expect(sampleSum(samples, 'citizen_graph_db_pool_max_connections', { pool: agency })).toBe(10);
      expect(sampleSum(samples, 'citizen_graph_db_pool_connections', { pool: agency })).toBeGreaterThan(0);
    }
    expect(moved(residents, before[1], REQUESTS, { operation: 'Query.citizen', result: 'ok' })).toBe(3);
  });

  it("never make a client's operation name a label, not even the name of a trusted document it imitates", async () => {
    const name = `ClientChose${crypto.randomBytes(4).toString('hex')}`;
    const before = await metricsOf(gateway);
    const freeForm = [
      { query: `query ${name}($code: PersonalCode!) { citizen(personalCode: $code) { fullName identityCard { number } } }`, operationName: name, variables: { code: citizen } },
      // Named like a trusted document, but not its text: free-form.
      { query: 'query UnifiedCitizen($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }', variables: { code: citizen } },
    ];
    for (const body of freeForm) expect((await post(gateway.url, body)).body.errors).toBeUndefined();
    const after = await eventually(
      () => metricsOf(gateway),
      (samples) => sampleSum(samples, REQUESTS, { operation: 'other', result: 'ok' }) - sampleSum(before, REQUESTS, { operation: 'other', result: 'ok' }) === 2,
    );
    expect(sampleSum(after, REQUESTS, { operation: 'other', result: 'ok' }) - sampleSum(before, REQUESTS, { operation: 'other', result: 'ok' })).toBe(2);
    expect(sampleSum(after, REQUESTS, { operation: 'UnifiedCitizen' })).toBe(sampleSum(before, REQUESTS, { operation: 'UnifiedCitizen' }));
    // Nor in any subgraph, to which the gateway names its calls after the client's operation.
    for (const service of processes()) expect(await (await fetch(service.metricsUrl)).text()).not.toContain(name);
  });

  it('label refusals and bad requests by their code', async () => {
    const before = await metricsOf(gateway);
    expect((await post(gateway.url, { query: UNIFIED_CITIZEN, variables: { code: '123' } })).status).toBe(400);
    expect((await post(gateway.url, { query: UNIFIED_CITIZEN, variables: { code: citizen } }, { authorization: 'Bearer forged' })).status).toBe(401);
    const after = await eventually(
      () => metricsOf(gateway),
      (samples) => sampleSum(samples, REQUESTS, { result: 'UNAUTHENTICATED' }) > sampleSum(before, REQUESTS, { result: 'UNAUTHENTICATED' }),
    );
    expect(sampleSum(after, REQUESTS, { operation: 'UnifiedCitizen', result: 'BAD_USER_INPUT' }) - sampleSum(before, REQUESTS, { operation: 'UnifiedCitizen', result: 'BAD_USER_INPUT' })).toBe(1);
    expect(sampleSum(after, REQUESTS, { result: 'UNAUTHENTICATED' }) - sampleSum(before, REQUESTS, { result: 'UNAUTHENTICATED' })).toBe(1);
  });
});

describe('a subgraph that hangs and one that is down', () => {
  let hanging: http.Server;
  let degraded: ServiceProcess;

  beforeAll(async () => {
    // Accepts every request and never answers.
    hanging = http.createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    // A port nothing listens on any more.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    degraded = await startGatewayProcess(
      {
        // Every agency as it runs, but national-id hung and the birth registry gone.
        subgraphUrls: {
          ...(Object.fromEntries(AGENCIES.map((a) => [a.id, subgraphs[a.id].url])) as Record<Agency['id'], string>),
          'national-id': `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/graphql`,
          'birth-registry': `http://127.0.0.1:${closedPort}/graphql`,
        },
      },
      { SUBGRAPH_TIMEOUT_MS: '1000' },
    );
  }, 120_000);

  afterAll(async () => {
    degraded?.child.kill('SIGKILL');
    hanging?.closeAllConnections();
    await new Promise((resolve) => hanging?.close(resolve));
  });

  it('are counted as a timeout and as unreachable, logged with the request id, and the answer as partial', async () => {
    const requestId = newRequestId('degraded');
    const response = await post(degraded.url, { query: UNIFIED_CITIZEN, variables: { code: citizen } }, { 'x-request-id': requestId });
    expect(response.status).toBe(200);
    expect(response.body.data.citizen.fullName).toBeTruthy();
    expect(response.body.errors?.map((e) => e.extensions?.code)).toContain('AGENCY_UNAVAILABLE');

    const lines = await linesOf(degraded, requestId);
    expect(lines.find((line) => line.msg === 'request')).toMatchObject({ result: 'AGENCY_UNAVAILABLE', status: 200 });
    expect(lines.find((line) => line.subgraph === 'national-id')).toMatchObject({ level: 'warn', errorKind: 'timeout' });
    expect(lines.find((line) => line.subgraph === 'birth-registry')).toMatchObject({ level: 'warn', errorKind: 'unreachable' });

    const samples = await readMetrics(degraded.metricsUrl);
    const calls = 'citizen_graph_subgraph_request_duration_seconds_count';
    expect(sampleSum(samples, calls, { subgraph: 'national-id', result: 'timeout' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, calls, { subgraph: 'birth-registry', result: 'unreachable' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, calls, { subgraph: 'residents', result: 'ok' })).toBeGreaterThanOrEqual(1);
    // The timed-out call took the timeout: it lies above the 0.5 s bucket.
    expect(sampleSum(samples, 'citizen_graph_subgraph_request_duration_seconds_bucket', { subgraph: 'national-id', result: 'timeout', le: '0.5' })).toBe(0);
    expect(sampleSum(samples, 'citizen_graph_graphql_request_duration_seconds_count', { operation: 'UnifiedCitizen', result: 'AGENCY_UNAVAILABLE' })).toBe(1);
  });
});
