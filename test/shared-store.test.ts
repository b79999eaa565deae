import crypto from 'node:crypto';
import Redis from 'ioredis';
import { createResidentsSubgraph } from '../subgraphs/residents/server';
import { readConfig as residentsConfig } from '../subgraphs/residents/config';
import type { RunningSubgraph } from '../lib/subgraph-server';
import { startFederation, type TestFederation } from './support/federation';
import { exited, startGatewayProcess, type ServiceProcess } from './support/service-process';
import { startTestRedis, type TestRedis } from './support/redis';
import { testDatabases } from './support/databases';
import { eventually } from './support/eventually';
import { bearer } from './support/tokens';
import { shownCitizen } from './support/fixtures';
import { CLERK_PRINCIPAL, postWithCredential, serviceCredential } from './support/service-credentials';

/**
 * What replicas share through Redis (REDIS_URL, lib/shared-store.ts), with a real redis-server of the test's own:
 * the subgraphs' memory of accepted credentials (a credential one replica accepted is refused by every other) and
 * the gateway's rate limits (a caller's limit holds whichever replica serves them). And what each does while Redis
 * is away: the replay cache refuses (fail closed), the rate limit falls back to each replica's memory.
 */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const NAME = 'query ($code: PersonalCode!) { citizen(personalCode: $code) { personalCode fullName } }';

describe("the subgraphs' replay cache, shared by two replicas of residents", () => {
  const replicas: { close(): Promise<void>; running: RunningSubgraph }[] = [];
  let code: string;

  beforeAll(async () => {
    ({ code } = await shownCitizen());
    const { serviceUrls, serviceKeys } = testDatabases();
    for (let i = 0; i < 2; i += 1) {
      const subgraph = await createResidentsSubgraph(
        residentsConfig({
          RESIDENTS_DATABASE_URL: serviceUrls.residents.database!,
          AUDIT_DATABASE_URL: serviceUrls.residents.audit,
          AUDIT_OUTBOX_INTERVAL_MS: '0',
          SERVICE_TRUST_FILE: serviceKeys.trustFile,
          SERVICE_KEY_FILE: serviceKeys.keyFiles.residents,
          REDIS_URL: redis.url,
        }),
      );
      replicas.push({ close: () => subgraph.close(), running: await subgraph.server.listen(0) });
    }
  });
  afterAll(async () => {
    for (const replica of replicas) {
      await replica.running.stop();
      await replica.close();
    }
  });

  const call = async (replica: number, body: string, credential: string) => postWithCredential(replicas[replica].running.url, body, credential);
  const ready = (replica: number) => fetch(replicas[replica].running.url.replace(/\/graphql$/, '/health/ready')).then((r) => r.status);
  const fresh = async () => {
    const body = JSON.stringify({ query: NAME, variables: { code } });
    return { body, credential: await serviceCredential('gateway', 'residents', body, { principal: CLERK_PRINCIPAL }) };
  };

  it('a credential one replica accepted is refused by the other, and by itself', async () => {
    const { body, credential } = await fresh();
    const first = await call(0, body, credential);
    expect(first.status).toBe(200);
    expect(first.body.data.citizen.personalCode).toBe(code);
    for (const replica of [1, 0]) {
      const again = await call(replica, body, credential);
      expect(again.status).toBe(401);
      expect(again.body.data).toBeUndefined();
      expect(again.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'CREDENTIAL_REPLAYED' });
    }
    // Another credential for the same call is a new call: the other replica answers it.
    const other = await fresh();
    expect((await call(1, other.body, other.credential)).status).toBe(200);
  });

  it('remembers a credential in Redis no longer than it could be accepted (its life and the clock tolerance)', async () => {
    const jti = crypto.randomBytes(16).toString('base64url');
    const body = JSON.stringify({ query: NAME, variables: { code } });
    const credential = await serviceCredential('gateway', 'residents', body, { principal: CLERK_PRINCIPAL, jti, ttlSeconds: 10 });
    expect((await call(1, body, credential)).status).toBe(200);
    const client = new Redis(redis.url);
    try {
      const ttl = await client.pttl(`cg:replay:residents:gateway ${jti}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual((10 + 5) * 1000);
    } finally {
      client.disconnect();
    }
  });

  it('while Redis is down: not ready, and every credential refused with 503 (fail closed); serving again once it is back', async () => {
    await redis.stop();
    try {
      for (const replica of [0, 1]) expect(await eventually(() => ready(replica), (status) => status === 503)).toBe(503);
      const { body, credential } = await fresh();
      const refused = await call(0, body, credential);
      expect(refused.status).toBe(503);
      expect(refused.body.data).toBeUndefined();
      expect(refused.body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'REPLAY_CACHE_UNAVAILABLE' });
      expect(JSON.stringify(refused.body)).not.toMatch(/redis|6379|127\.0\.0\.1|ECONN/i);
    } finally {
      await redis.restart();
    }
    for (const replica of [0, 1]) expect(await eventually(() => ready(replica), (status) => status === 200)).toBe(200);
    const { body, credential } = await fresh();
    expect((await call(1, body, credential)).status).toBe(200);
    expect((await call(0, body, credential)).status).toBe(401);
  }, 120_000);
});

describe("a caller's rate limit, shared by two gateway replicas", () => {
  let federation: TestFederation;
  let second: ServiceProcess;
  let code: string;
  // Three requests, then one back every 100 s: nothing refills during the test, however slow the machine.
  const LIMIT = { RATE_LIMIT_PER_SECOND: '0.01', RATE_LIMIT_BURST: '3' };

  beforeAll(async () => {
    ({ code } = await shownCitizen());
    federation = await startFederation({ gatewayEnv: { ...LIMIT, REDIS_URL: redis.url } });
    second = await startGatewayProcess(federation, { ...LIMIT, REDIS_URL: redis.url });
  }, 120_000);
  afterAll(async () => {
    if (second) {
      const ended = exited(second.child);
      second.child.kill('SIGTERM');
      await ended;
    }
    await federation?.stop();
  });

  const gateways = () => [federation.gatewayUrl, second.url];
  const ask = async (gateway: number, subject: string) => {
    const response = await fetch(gateways()[gateway], {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer({ sub: subject, role: 'CLERK', agency: 'residents', purpose: 'SERVICE_COUNTER' })) },
      body: JSON.stringify({ query: NAME, variables: { code } }),
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
  };

  it('holds across replicas: three answers in all, then 429 from either', async () => {
    const subject = `test:rate:${crypto.randomUUID()}`;
    for (const gateway of [0, 1, 0]) {
      const answer = await ask(gateway, subject);
      expect(answer.status).toBe(200);
      expect(answer.body.data.citizen.personalCode).toBe(code);
    }
    for (const gateway of [1, 0]) {
      const refused = await ask(gateway, subject);
      expect(refused.status).toBe(429);
      expect(refused.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: Number(refused.retryAfter) });
      expect(Number(refused.retryAfter)).toBeGreaterThan(90);
    }
    // Another caller has a limit of their own.
    expect((await ask(1, `test:rate:${crypto.randomUUID()}`)).status).toBe(200);
  });

  it('while Redis is down each replica limits in its own memory (the limit per replica), refusing nobody for it', async () => {
    await redis.stop();
    try {
      const subject = `test:rate:${crypto.randomUUID()}`;
      for (const gateway of [0, 1]) {
        for (let i = 0; i < 3; i += 1) expect((await ask(gateway, subject)).status).toBe(200);
        expect((await ask(gateway, subject)).status).toBe(429);
      }
    } finally {
      await redis.restart();
    }
    // Back on the shared limit once each replica is connected again (Redis came back empty).
    for (const base of gateways().map((url) => url.replace(/\/graphql$/, ''))) {
      const store = () => fetch(`${base}/health/dependencies`).then(async (r) => ((await r.json()) as { sharedStore: string }).sharedStore);
      expect(await eventually(store, (state) => state === 'ok')).toBe('ok');
    }
    const subject = `test:rate:${crypto.randomUUID()}`;
    const statuses: number[] = [];
    for (const gateway of [0, 1, 0, 1]) statuses.push((await ask(gateway, subject)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  }, 120_000);
});
