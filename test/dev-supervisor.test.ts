import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AGENCIES } from '../lib/agencies';
import { backoffMs } from '../tools/supervisor';
import { eventually } from './support/eventually';
import { freePorts } from './support/ports';

/**
 * `npm start` itself (scripts/start.ts, as `npm start` runs it), on ports of its own given by the documented
 * overrides, with its own embedded PostgreSQL and a small population: what it prints answers, a subgraph killed
 * with SIGKILL comes back while the rest keeps answering, a port someone else holds is refused, a subgraph that
 * cannot start is given up on, and SIGINT leaves no process behind.
 */
const root = path.resolve(__dirname, '..');
const DATA_DIR = path.join(root, `.data/test-supervisor-${process.pid}`);
jest.setTimeout(300_000);

interface Stack {
  child: ChildProcess;
  output(): string;
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  // A test that failed half-way must not leave a federation running: the supervisor's whole process group.
  for (const child of started) if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
});

/** Ports for every service and the environment npm start reads them from (every agency of lib/agencies.ts). */
async function overrides() {
  const ports = await freePorts(2 * (AGENCIES.length + 2) + 1);
  const next = () => ports.pop()!;
  const env: Record<string, string> = { POSTGRES_PORT: String(next()), GATEWAY_PORT: String(next()), GATEWAY_METRICS_PORT: String(next()) };
  for (const a of AGENCIES) {
    env[`${a.envPrefix}_PORT`] = String(next());
    env[`${a.envPrefix}_METRICS_PORT`] = String(next());
  }
  // The statistics subgraph (no agency's) too.
  env.STATISTICS_PORT = String(next());
  env.STATISTICS_METRICS_PORT = String(next());
  return env;
}

function startSupervisor(env: Record<string, string>): Stack {
  const clean = Object.fromEntries(
    // The test run's own settings (its databases, ports, keys) must not leak into this npm start.
    Object.entries(process.env).filter(([name]) => !/(_DATABASE_URL|_PORT|_URL|_KEY_FILE|_TRUST_FILE|JWKS_FILE|_DB_PASSWORD)$/.test(name)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/start.ts')], {
    cwd: root,
    env: { ...clean, NODE_ENV: 'development', DATA_DIR, SEED_CITIZENS: '60', LOG_LEVEL: 'warn', RESTART_BACKOFF_MS: '500',
      // A cold first query on a busy machine can take seconds: time enough that it answers in full.
      SUBGRAPH_TIMEOUT_MS: '30000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: the exit handler above can end it and its children whatever happened.
    detached: true,
  });
  started.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, ended };
}

const running = (stack: Stack) => eventually(stack.output, (out) => out.includes('Citizen Graph is running') || stack.child.exitCode !== null, { withinMs: 240_000, everyMs: 200 });

/** The pids npm start reported for a service, in order ("[start] residents ready (pid 123) at …"). */
const pidsOf = (output: string, service: string) => [...output.matchAll(new RegExp(`\\[start\\] ${service} ready \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stopWithSigint(stack: Stack) {
  if (stack.child.exitCode !== null) return stack.ended;
  stack.child.kill('SIGINT');
  return stack.ended;
}

async function graphql(url: string, token: string, query: string) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
      // Longer than SUBGRAPH_TIMEOUT_MS below: a slow agency shows as its error, not as this client giving up.
      signal: AbortSignal.timeout(60_000),
    });
    return (await response.json()) as { data?: { citizen: Record<string, unknown> | null }; errors?: { message: string; extensions?: { code?: string } }[] };
  } catch (error) {
    return { errors: [{ message: String(error) }] };
  }
}

const status = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
};

afterAll(() => {
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  // The embedded PostgreSQL's role passwords are kept beside its data folder (tools/databases.ts).
  fs.rmSync(`${DATA_DIR}-role-passwords.json`, { force: true });
});

describe('npm start on overridden ports', () => {
  let env: Record<string, string>;
  let stack: Stack;
  let token: string;
  let code: string;
  let gatewayUrl: string;

  beforeAll(async () => {
    env = await overrides();
    stack = startSupervisor(env);
    const out = await running(stack);
    expect(out).toContain('Citizen Graph is running');
    token = /TOKEN=(\S+)/.exec(out)![1];
    code = /Try it with a seeded citizen \((\d{12})\)/.exec(out)![1];
    gatewayUrl = /GraphQL endpoint\s+(\S+)/.exec(out)![1];
  });
  afterAll(async () => {
    if (stack) await stopWithSigint(stack);
  });

  test('prints the URLs of the ports it was given, and they answer with the services it started', async () => {
    expect(gatewayUrl).toBe(`http://127.0.0.1:${env.GATEWAY_PORT}/graphql`);
    const out = stack.output();
    for (const a of AGENCIES) {
      const url = `http://127.0.0.1:${env[`${a.envPrefix}_PORT`]}`;
      expect(out).toContain(`${url}/graphql`);
      expect(await status(`${url}/health/ready`)).toBe(200);
      expect(out).toContain(`${a.id} http://127.0.0.1:${env[`${a.envPrefix}_METRICS_PORT`]}/metrics`);
      expect(await status(`http://127.0.0.1:${env[`${a.envPrefix}_METRICS_PORT`]}/metrics`)).toBe(200);
      expect(pidsOf(out, a.id)).toHaveLength(1);
    }
    expect(await status(`http://127.0.0.1:${env.GATEWAY_METRICS_PORT}/metrics`)).toBe(200);
    // The development defaults are not what answered: nothing of this stack is on 4000-4003.
    expect(out).not.toMatch(/127\.0\.0\.1:400[0-9]\//);
    // The gateway reaches every subgraph on its overridden port (SUBGRAPH_<AGENCY>_URL given by npm start).
    const answer = await graphql(gatewayUrl, token, `{ citizen(personalCode: "${code}") { fullName identityCard { number } birthRegistration { registrationNumber } } }`);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.citizen!.fullName).toEqual(expect.any(String));
  });

  test('a subgraph killed with SIGKILL is restarted with backoff while the others keep answering', async () => {
    const [first] = pidsOf(stack.output(), 'national-id');
    process.kill(first, 'SIGKILL');
    const restarting = await eventually(stack.output, (out) => out.includes('national-id exited (signal SIGKILL)'), { withinMs: 30_000 });
    expect(restarting).toMatch(/national-id exited \(signal SIGKILL\) after [\d.]+ s up; restarting in 0\.5 s \(attempt 2 of 5\)/);
    // Meanwhile the residents' part still answers through the gateway (the card is missing or back already).
    const meanwhile = await graphql(gatewayUrl, token, `{ citizen(personalCode: "${code}") { fullName } }`);
    expect(meanwhile.errors).toBeUndefined();
    expect(meanwhile.data!.citizen!.fullName).toEqual(expect.any(String));

    const back = await eventually(stack.output, (out) => pidsOf(out, 'national-id').length === 2, { withinMs: 120_000, everyMs: 200 });
    const [, second] = pidsOf(back, 'national-id');
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
    const card = await eventually(
      () => graphql(gatewayUrl, token, `{ citizen(personalCode: "${code}") { identityCard { number } } }`),
      (answer) => answer.errors === undefined,
      { withinMs: 30_000, everyMs: 200 },
    );
    expect(card.errors).toBeUndefined();
    // The others were never restarted.
    for (const id of ['residents', 'birth-registry', 'gateway']) expect(pidsOf(back, id)).toHaveLength(1);
  });

  test('SIGINT stops every process it started, PostgreSQL included, and exits 0', async () => {
    const out = stack.output();
    const pids = [...AGENCIES.map((a) => a.id), 'gateway'].map((id) => pidsOf(out, id).at(-1)!);
    const postgres = Number(fs.readFileSync(path.join(DATA_DIR, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect([...pids, postgres].every(alive)).toBe(true);
    const end = await stopWithSigint(stack);
    expect(end).toEqual({ code: 0, signal: null });
    expect(stack.output()).toContain('[start] stopped.');
    const left = await eventually(() => [...pids, postgres].filter(alive), (l) => l.length === 0, { withinMs: 20_000 });
    expect(left).toEqual([]);
  });
});

describe('npm start refuses what it cannot own or start', () => {
  test('a port another process listens on: says which and starts nothing', async () => {
    const env = await overrides();
    const squatter = net.createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const port = Number(env[`${AGENCIES[1].envPrefix}_PORT`]);
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const stack = startSupervisor(env);
      const end = await stack.ended;
      expect(end.code).toBe(1);
      expect(stack.output()).toContain(
        `port ${port} (${AGENCIES[1].envPrefix}_PORT, ${AGENCIES[1].id}) is in use by another process: stop that process or set ${AGENCIES[1].envPrefix}_PORT to a free port`,
      );
      expect(stack.output()).toContain('nothing started');
      expect(stack.output()).not.toContain('Citizen Graph is running');
      expect(stack.output()).not.toContain('starting PostgreSQL');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  test.each(['STATISTICS_PORT', 'STATISTICS_METRICS_PORT'])('the statistics subgraph\'s %s held by another process: says which and starts nothing', async (setting) => {
    const env = await overrides();
    const squatter = net.createServer((socket) => socket.end());
    const port = Number(env[setting]);
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const stack = startSupervisor(env);
      expect((await stack.ended).code).toBe(1);
      expect(stack.output()).toContain(`port ${port} (${setting}, statistics) is in use by another process`);
      expect(stack.output()).toContain('nothing started');
      expect(stack.output()).not.toContain('starting PostgreSQL');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  test('two services given the same port: refused before anything starts', async () => {
    const env = await overrides();
    const stack = startSupervisor({ ...env, GATEWAY_METRICS_PORT: env.GATEWAY_PORT });
    expect((await stack.ended).code).not.toBe(0);
    expect(stack.output()).toContain(`must not be the service's public port`);
  });

  test('a subgraph that crashes at every start is retried with backoff, then given up on; the rest runs', async () => {
    const env = await overrides();
    // birth-registry's configuration is wrong (a pool of 0): it exits at once, every time.
    const stack = startSupervisor({ ...env, BIRTH_REGISTRY_DB_POOL_SIZE: '0', RESTART_GIVE_UP_AFTER: '3', RESTART_BACKOFF_MS: '200' });
    try {
      const out = await running(stack);
      expect(out).toMatch(/birth-registry exited \(exit code 1\) while starting; restarting in 0\.2 s \(attempt 2 of 3\)/);
      expect(out).toMatch(/birth-registry exited \(exit code 1\) while starting; restarting in 0\.4 s \(attempt 3 of 3\)/);
      expect(out).toMatch(/birth-registry exited \(exit code 1\) while starting: 3 failure\(s\) in a row, giving up on it/);
      expect(out).toMatch(/birth-registry subgraph\s+\S+\s+\(Birth registry, given up\)/);
      expect(out).toContain('Citizen Graph is running');
      const token = /TOKEN=(\S+)/.exec(out)![1];
      const code = /Try it with a seeded citizen \((\d{12})\)/.exec(out)![1];
      const answer = await graphql(`http://127.0.0.1:${env.GATEWAY_PORT}/graphql`, token, `{ citizen(personalCode: "${code}") { fullName identityCard { number } } }`);
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.citizen!.fullName).toEqual(expect.any(String));
    } finally {
      expect(await stopWithSigint(stack)).toEqual({ code: 0, signal: null });
    }
  });
});

test('the backoff doubles from its start up to its ceiling', () => {
  const policy = { initialBackoffMs: 500, maxBackoffMs: 30_000, stableAfterMs: 60_000, giveUpAfter: 10, readyTimeoutMs: 1000 };
  expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(policy, n))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
});
