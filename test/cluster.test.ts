import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { AGENCIES, agency } from '../lib/agencies';
import { SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { startCluster, type Cluster, type ClusterPorts, type Replica } from '../tools/cluster';
import type { ServiceId } from '../lib/database-roles';
import { testDatabases } from './support/databases';
import { eventually } from './support/eventually';
import { freePorts } from './support/ports';
import { startSteadyLoad, type Outcome, type SteadyLoad } from './support/steady-load';
import { mintToken, PERSONAS } from './support/tokens';
import { UNIFIED_CITIZEN } from './support/queries';
import { openFixtures } from './support/fixtures';
import { runAuditVerify } from './support/audit';

/**
 * The cluster of `npm run cluster` (tools/cluster.ts: HAProxy in front of two gateway replicas and of two replicas of
 * each subgraph, Redis, over the test run's PostgreSQL), under a steady load of authenticated unified views sent
 * through the gateway balancer by CLIENTS concurrent clients, while:
 *   (a) every replica is stopped (SIGTERM) and started again, one at a time: not one failed response;
 *   (b) one replica of each tier is killed (SIGKILL): failures at most the requests in flight on it, none once the
 *       balancer has noticed;
 *   (c) a recomposed supergraph file reaches every gateway replica, with no failed response meanwhile;
 *   (d) a caller's rate limit holds whichever replica serves them;
 *   (e) afterwards the audit chain both gateway replicas wrote (and checkpointed, each in its own file) is intact,
 *       and every request answered is in it.
 * A response fails when it is not HTTP 200 with the citizen's data and no error (a partial answer fails too).
 * Nothing here is timed: each step waits for a condition (a replica ready, HAProxy's view of it, traffic seen
 * after an event). The counts are printed at the end (and go in the closing note).
 *
 * The load: each client loops, one request at a time, so at most CLIENTS requests are in flight anywhere at any
 * instant. Each request goes as its own subject (a fresh token): the rate limit, strict here for (d), is per
 * caller, and the load must not be what it limits.
 */
const CLIENTS = 6;
/** For (d): five requests per caller every 250 s: nothing refills during the test, however slow the machine. */
const RATE_LIMIT = { RATE_LIMIT_PER_SECOND: '0.02', RATE_LIMIT_BURST: '5' };
const CITIZEN_DESCRIPTION = '"""One citizen by personal code; null when no citizen has this code."""';

let cluster: Cluster | null = null;
let load: SteadyLoad | null = null;
let dir: string;
let supergraphFile: string;
let codes: string[] = [];
const counts: { phase: string; sent: number; failed: number; note: string }[] = [];

const replicasOf = (service: ServiceId) => cluster!.replicas.filter((r) => r.service === service);
/** HAProxy's view of a replica; a statistics page slow to answer on a busy machine is a state like any other: not yet. */
const stateOf = (replica: Replica) => cluster!.balancerState(replica).catch((error: Error) => `statistics unreadable: ${error.message}`);
const tokenFor = (subject: string) => mintToken({ ...PERSONAS.investigator, sub: subject });
const logFile = (name: string) => path.join(dir, 'logs', `${name}.log`);

async function send(url: string, subject: string, body: object, requestId?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await tokenFor(subject)}`,
      ...(requestId ? { 'x-request-id': requestId } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), text: await response.text() };
}

/** One unified view of a seeded citizen through the gateway balancer: ok only if whole. */
async function unifiedView(_client: number, requestId: string): Promise<{ ok: boolean; detail?: string }> {
  const code = codes[crypto.randomInt(codes.length)];
  const { status, text } = await send(cluster!.gatewayUrl, `load:${requestId}`, { query: UNIFIED_CITIZEN, variables: { code } }, requestId);
  const body = status === 200 ? (JSON.parse(text) as { data?: { citizen?: { fullName?: string } | null }; errors?: unknown[] }) : null;
  if (status === 200 && !body?.errors && typeof body?.data?.citizen?.fullName === 'string') return { ok: true };
  return { ok: false, detail: `${status} ${text.slice(0, 300)}` };
}

/** Waits until HAProxy's health checks have found the replica ready and put it back in rotation. */
async function backInRotation(replica: Replica) {
  const state = await eventually(() => stateOf(replica), (s) => s === 'UP', { withinMs: 300_000, everyMs: 100 });
  expect(`${replica.name} ${state}`).toBe(`${replica.name} UP`);
}

/** Waits until every client has had requests answered that started after `time`: traffic flows past an event. */
async function trafficAfter(time: number) {
  const seen = await eventually(
    () => new Set(load!.startedSince(time).map((o) => o.client)).size,
    (clients) => clients === CLIENTS,
    { withinMs: 300_000, everyMs: 100 },
  );
  expect(seen).toBe(CLIENTS);
}

const failed = (outcomes: Outcome[]) => outcomes.filter((o) => !o.ok);
const endedBetween = (from: number, to: number) => load!.outcomes.filter((o) => o.endedAt >= from && o.endedAt < to);
const describeFailures = (outcomes: Outcome[]) => failed(outcomes).map((o) => `${o.requestId}: ${o.detail}`);

async function citizenDescriptionAt(replica: Replica): Promise<string | undefined> {
  const { text } = await send(`${replica.base}/graphql`, `test:introspection:${crypto.randomUUID()}`, { query: '{ __type(name: "Query") { fields { name description } } }' });
  const body = JSON.parse(text) as { data?: { __type?: { fields: { name: string; description: string }[] } } };
  return body.data?.__type?.fields.find((field) => field.name === 'citizen')?.description;
}

beforeAll(async () => {
  const fixtures = openFixtures();
  try {
    codes = (await fixtures.residents.query<{ code: string }>('SELECT so_dinh_danh AS code FROM cong_dan ORDER BY so_dinh_danh LIMIT 300')).rows.map((r) => r.code);
  } finally {
    await fixtures.end();
  }
  dir = path.resolve(__dirname, `../.data/test-cluster-${process.env.TEST_POSTGRES_PORT ?? 54330}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  supergraphFile = path.join(dir, 'supergraph.graphql');
  fs.copyFileSync(SUPERGRAPH_GRAPHQL, supergraphFile);

  const { serviceUrls, serviceKeys, jwksFile, checkpointKeyFile } = testDatabases();
  // The gateway's tier, each agency's tier, two replicas of the gateway and of each agency, Redis, HAProxy's statistics.
  const free = await freePorts(1 + AGENCIES.length + 2 * (1 + AGENCIES.length) + 2);
  const take = () => free.shift()!;
  const serviceEnv = (service: ServiceId): Record<string, string | undefined> => {
    // As npm start runs them (development), each service with its own role's URLs and key; generous timeouts,
    // as every test here has: a slow answer on a busy machine must not count as a failure.
    // Warnings and errors only in the replicas' logs (kept under .data/), not a line per request.
    const common = { ...process.env, NODE_ENV: 'development', SUBGRAPH_TIMEOUT_MS: '30000', REDIS_TIMEOUT_MS: '10000', LOG_LEVEL: 'warn' };
    if (service === 'gateway') {
      return {
        ...common,
        AUTH_JWKS_FILE: jwksFile,
        GATEWAY_SERVICE_KEY_FILE: serviceKeys.keyFiles.gateway,
        AUDIT_DATABASE_URL: serviceUrls.gateway.audit,
        AUDIT_CHECKPOINT_KEY_FILE: checkpointKeyFile,
        ...RATE_LIMIT,
      };
    }
    const prefix = agency(service).envPrefix;
    return {
      ...common,
      [`${prefix}_DATABASE_URL`]: serviceUrls[service].database!,
      [`${prefix}_SERVICE_KEY_FILE`]: serviceKeys.keyFiles[service],
      [`${prefix}_DB_STATEMENT_TIMEOUT_MS`]: '20000',
      AUDIT_DATABASE_URL: serviceUrls[service].audit,
      SERVICE_TRUST_FILE: serviceKeys.trustFile,
    };
  };
  cluster = await startCluster({
    ports: {
      gateway: take(),
      agencies: Object.fromEntries(AGENCIES.map((a) => [a.id, take()])) as ClusterPorts['agencies'],
      replicas: { gateway: [take(), take()], ...Object.fromEntries(AGENCIES.map((a) => [a.id, [take(), take()]])) } as ClusterPorts['replicas'],
      redis: take(),
      stats: take(),
    },
    serviceEnv,
    dir,
    supergraphPath: supergraphFile,
    log: (line) => fs.appendFileSync(logFile('cluster'), `${new Date().toISOString()} ${line}\n`),
    output: (replica, line) => fs.appendFileSync(logFile(replica), `${new Date().toISOString()} ${line}\n`),
  });
  load = startSteadyLoad({ clients: CLIENTS, send: unifiedView });
  await trafficAfter(Date.now());
  const warmUp = load.outcomes.slice();
  expect(describeFailures(warmUp)).toEqual([]);
}, 900_000);

afterAll(async () => {
  await load?.stop();
  await cluster?.stop();
  if (load) {
    counts.push({ phase: 'whole run', sent: load.outcomes.length, failed: failed([...load.outcomes]).length, note: `${CLIENTS} concurrent clients` });
  }
  // The figures for the closing note, and where the processes' logs are kept.
  process.stdout.write(
    `\ncluster under load (${CLIENTS} clients, unified views through the gateway balancer); logs in ${dir}/logs\n` +
      counts.map((c) => `  ${c.phase.padEnd(52)} sent ${String(c.sent).padStart(6)}   failed ${String(c.failed).padStart(3)}   ${c.note}`).join('\n') +
      '\n',
  );
}, 300_000);

it('(a) a rolling restart of every replica, one at a time, loses no request', async () => {
  const from = Date.now();
  // The subgraphs first, the clients' tier last: what a deployment of a new version does.
  const order = [...AGENCIES.flatMap((a) => replicasOf(a.id)), ...replicasOf('gateway')];
  for (const replica of order) {
    // SIGTERM: not ready at once, a grace while HAProxy notices, then it drains and exits 0 by itself.
    await expect(replica.stop()).resolves.toEqual({ code: 0, signal: null });
    await replica.start();
    await backInRotation(replica);
  }
  await trafficAfter(Date.now());
  const outcomes = endedBetween(from, Date.now());
  counts.push({ phase: `(a) rolling restart of ${order.length} replicas`, sent: outcomes.length, failed: failed(outcomes).length, note: 'asserted: 0 failed' });
  expect(outcomes.length).toBeGreaterThan(0);
  expect(describeFailures(outcomes)).toEqual([]);
}, 1_800_000);

it.each(['gateway', ...AGENCIES.map((a) => a.id)] as ServiceId[])(
  '(b) kill -9 of one %s replica: at most the requests in flight fail, none once the balancer has noticed',
  async (service) => {
    const victim = replicasOf(service)[0];
    const killedAt = Date.now();
    await expect(victim.kill()).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    // HAProxy's checks find it gone (two failed checks).
    const state = await eventually(() => stateOf(victim), (s) => s?.startsWith('DOWN') === true, { withinMs: 300_000, everyMs: 50 });
    expect(state).toMatch(/^DOWN/);
    const noticedAt = Date.now();
    await trafficAfter(noticedAt);
    const window = load!.outcomes.filter((o) => o.endedAt >= killedAt && o.startedAt < noticedAt);
    const afterNoticed = load!.startedSince(noticedAt);
    counts.push({
      phase: `(b) kill -9 ${victim.name}: until noticed`,
      sent: window.length,
      failed: failed(window).length,
      note: `asserted: at most ${CLIENTS} (each client has one request in flight)`,
    });
    counts.push({ phase: `(b) kill -9 ${victim.name}: once noticed`, sent: afterNoticed.length, failed: failed(afterNoticed).length, note: 'asserted: 0 failed' });
    // The bound: every client has at most one request in flight, so at most CLIENTS were on the killed replica. A
    // request sent to it after it died is not among them: its connection is refused, and HAProxy sends it to the
    // other replica (retry-on conn-failure, redispatch).
    expect(failed(window).length).toBeLessThanOrEqual(CLIENTS);
    expect(describeFailures(afterNoticed)).toEqual([]);
    await victim.start();
    await backInRotation(victim);
  },
  900_000,
);

it('(c) a recomposed supergraph reaches every gateway replica, no request failing meanwhile', async () => {
  const from = Date.now();
  const marker = `recomposed ${crypto.randomUUID()}`;
  const committed = fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8');
  expect(committed).toContain(CITIZEN_DESCRIPTION);
  // A harmless difference every replica can show: the description of Query.citizen. Replaced whole (a rename).
  const next = `${supergraphFile}.next`;
  const recomposed = committed.replace(CITIZEN_DESCRIPTION, `"""One citizen by personal code; null when no citizen has this code. (${marker})"""`);
  fs.writeFileSync(next, recomposed);
  fs.renameSync(next, supergraphFile);
  const id = crypto.createHash('sha256').update(recomposed).digest('hex').slice(0, 16);
  for (const replica of replicasOf('gateway')) {
    const description = await eventually(() => citizenDescriptionAt(replica), (d) => d?.includes(marker) === true, { withinMs: 120_000 });
    expect(`${replica.name}: ${description}`).toContain(marker);
    // And says so: the id of the supergraph it serves is the new file's.
    const status = (await (await fetch(`${replica.base}/health/dependencies`)).json()) as { supergraph: { id: string } };
    expect(`${replica.name}: ${status.supergraph.id}`).toBe(`${replica.name}: ${id}`);
  }
  await trafficAfter(Date.now());
  const outcomes = endedBetween(from, Date.now());
  counts.push({ phase: '(c) supergraph reloaded by both gateway replicas', sent: outcomes.length, failed: failed(outcomes).length, note: 'asserted: 0 failed' });
  expect(describeFailures(outcomes)).toEqual([]);
}, 600_000);

it("(d) a caller's rate limit holds whichever replica serves them (shared through Redis)", async () => {
  const subject = `test:rate:${crypto.randomUUID()}`;
  const [one, two] = replicasOf('gateway').map((r) => `${r.base}/graphql`);
  const ask = (url: string) => send(url, subject, { query: '{ __typename }' });
  // RATE_LIMIT_BURST is 5: five answers in all, from both replicas and the balancer, then 429 from every one.
  for (const url of [one, two, cluster!.gatewayUrl, two, one]) expect((await ask(url)).status).toBe(200);
  for (const url of [two, one, cluster!.gatewayUrl]) {
    const refused = await ask(url);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(60);
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('RATE_LIMITED');
  }
}, 120_000);

it('(e) afterwards the audit chain both gateway replicas wrote is intact, checkpointed by each, and holds every answered request', async () => {
  await load!.stop();
  const answered = load!.outcomes.filter((o) => o.ok).map((o) => o.requestId);
  // Stopped gracefully: each gateway replica writes its last checkpoint.
  await cluster!.stop();
  cluster = null;
  const { auditUrl, auditVerifierUrl, checkpointJwksFile } = testDatabases();
  const files = fs.readdirSync(path.join(dir, 'audit-checkpoints')).map((file) => path.join(dir, 'audit-checkpoints', file));
  expect(files.map((file) => path.basename(file)).sort()).toEqual(['gateway-1.jsonl', 'gateway-2.jsonl']);
  for (const file of files) expect(fs.readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThan(0);
  const verified = await runAuditVerify(auditVerifierUrl, [...files.flatMap((file) => ['--checkpoints', file]), '--key', checkpointJwksFile]);
  expect(verified.stdout).toMatch(/^audit chain intact: \d+ records; last #\d+ [0-9a-f]{64}; \d+ checkpoint\(s\) verified/);
  expect(verified.code).toBe(0);
  const audit = new Pool({ connectionString: auditUrl, max: 1 });
  try {
    const { rows } = await audit.query<{ request_id: string }>("SELECT DISTINCT request_id FROM audit_log WHERE request_id LIKE 'cluster-load-%'");
    const audited = new Set(rows.map((row) => row.request_id));
    const missing = answered.filter((id) => !audited.has(id));
    counts.push({ phase: '(e) answered requests missing from the audit chain', sent: answered.length, failed: missing.length, note: 'asserted: none' });
    expect(missing).toEqual([]);
  } finally {
    await audit.end();
  }
}, 600_000);
