import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AGENCIES, type Agency } from '../lib/agencies';
import type { ServiceId } from '../lib/database-roles';
import { startHaproxy, type RunningHaproxy, type Tier } from './haproxy';
import { startLocalRedis, type LocalRedis } from './redis-server';

/**
 * The federation as a national deployment runs it, on one machine (`npm run cluster`, test/cluster.test.ts):
 *
 *                       clients
 *                          |
 *              HAProxy frontend "gateway"          (health checks: GET /health/ready of each replica)
 *                 /                 \
 *           gateway-1           gateway-2          (REDIS_URL: shared rate limits; one audit chain)
 *                 \                 /
 *     HAProxy frontends "residents", "national-id", "birth-registry"   (SUBGRAPH_<NAME>_URL point here)
 *        /      \          /      \          /        \
 *   residents-1 -2   national-id-1 -2   birth-registry-1 -2   (REDIS_URL: shared replay cache;
 *                                                              agency calls to residents go through its frontend)
 *   PostgreSQL: one database per agency, the audit store      Redis: one, for what replicas share
 *
 * Every replica is a process of its own, on its own port, started as production starts it (its own role's
 * database URLs, its own key); it can be stopped (SIGTERM), killed (SIGKILL) and started again on the same port,
 * which is what the rolling-restart and failure tests do. HAProxy's configuration is generated under `dir`
 * (tools/haproxy.ts), as are each gateway replica's audit checkpoint file (one file per writer: checkpoints of one
 * file only move forward, and two writers' would interleave; `npm run audit:verify -- --checkpoints <file>` takes
 * them all).
 */
export interface ClusterPorts {
  /** The gateway balancer: what clients call. */
  gateway: number;
  /** Each agency's balancer: what the gateway and the other agencies call. */
  agencies: Record<Agency['id'], number>;
  /** Each replica's own port, two (or more) per service. */
  replicas: Record<ServiceId, number[]>;
  redis: number;
  /** HAProxy's statistics page. */
  stats: number;
}

export interface ClusterOptions {
  ports: ClusterPorts;
  /** Each service's own settings: keys, trust file, its role's database URLs (npm start's, or a test run's). */
  serviceEnv(service: ServiceId): Record<string, string | undefined>;
  /** Where the generated HAProxy configuration and the checkpoint files go. */
  dir: string;
  /** The supergraph file the gateway replicas serve and follow (a recomposition reaches every replica). */
  supergraphPath: string;
  /** SHUTDOWN_GRACE_MS of every replica: longer than HAProxy takes to notice (two checks, 500 ms apart). */
  graceMs?: number;
  /** Settings added to the replicas of a service (a test's rate limit, say). */
  extraEnv?: Partial<Record<ServiceId, Record<string, string>>>;
  log(line: string): void;
  /** A replica's output, line by line (npm run cluster prints it; the tests keep it). */
  output?(replica: string, line: string): void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Replica {
  /** "gateway-1", "residents-2", ...: also its server name in HAProxy. */
  name: string;
  service: ServiceId;
  port: number;
  /** http://127.0.0.1:<port>: the replica itself, past the balancer. */
  base: string;
  running(): boolean;
  pid(): number | undefined;
  /** Starts it and waits until it answers GET /health/ready with 200. */
  start(): Promise<void>;
  /** SIGTERM, and how it ended (lib/shutdown.ts: 0 once it drained and closed everything). */
  stop(): Promise<Exit>;
  /** SIGKILL: a crash. */
  kill(): Promise<Exit>;
}

export interface Cluster {
  /** The gateway balancer's GraphQL endpoint: what clients call. */
  gatewayUrl: string;
  agencyUrls: Record<Agency['id'], string>;
  replicas: Replica[];
  redis: LocalRedis;
  haproxy: RunningHaproxy;
  /** Each gateway replica's audit checkpoint file. */
  checkpointFiles: string[];
  /** HAProxy's view of a replica: "UP", "DOWN", "UP 1/2" (going down), "DOWN 1/2" (coming up), ... */
  balancerState(replica: Replica): Promise<string | undefined>;
  stop(): Promise<void>;
}

const root = path.resolve(__dirname, '..');
const LOOPBACK = '127.0.0.1';
/** Two health checks 500 ms apart notice a draining replica in about a second; the rest is room for a busy machine. */
export const DEFAULT_CLUSTER_GRACE_MS = 5000;
/** Starting a replica (tsx compiling on a busy two-core machine) can take a while; a crash at start ends the wait at once. */
const START_TIMEOUT_MS = 300_000;

const scriptOf = (service: ServiceId) => (service === 'gateway' ? 'gateway/index.ts' : `subgraphs/${service}/index.ts`);
const agencyUrl = (port: number) => `http://${LOOPBACK}:${port}/graphql`;

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { ports } = options;
  fs.mkdirSync(path.join(options.dir, 'audit-checkpoints'), { recursive: true });
  const graceMs = options.graceMs ?? DEFAULT_CLUSTER_GRACE_MS;
  const agencyUrls = Object.fromEntries(AGENCIES.map((a) => [a.id, agencyUrl(ports.agencies[a.id])])) as Record<Agency['id'], string>;
  const redis = await startLocalRedis({ port: ports.redis, log: (line) => options.log(`[redis] ${line}`) });
  const checkpointFiles: string[] = [];

  const envOf = (service: ServiceId, index: number, port: number): Record<string, string | undefined> => {
    const common = {
      ...options.serviceEnv(service),
      REDIS_URL: redis.url,
      SHUTDOWN_GRACE_MS: String(graceMs),
      // Each replica's metrics on a port of its own (two replicas of a service cannot share the default).
      METRICS_PORT: '0',
    };
    if (service === 'gateway') {
      const checkpointFile = path.join(options.dir, 'audit-checkpoints', `gateway-${index + 1}.jsonl`);
      checkpointFiles.push(checkpointFile);
      return {
        ...common,
        GATEWAY_PORT: String(port),
        GATEWAY_HOST: LOOPBACK,
        SUPERGRAPH_PATH: options.supergraphPath,
        AUDIT_CHECKPOINT_FILE: checkpointFile,
        ...Object.fromEntries(AGENCIES.map((a) => [`SUBGRAPH_${a.envPrefix}_URL`, agencyUrls[a.id]])),
        ...options.extraEnv?.gateway,
      };
    }
    const prefix = AGENCIES.find((a) => a.id === service)!.envPrefix;
    return {
      ...common,
      [`${prefix}_PORT`]: String(port),
      [`${prefix}_HOST`]: LOOPBACK,
      RESIDENTS_SERVICE_URL: agencyUrls.residents,
      ...options.extraEnv?.[service],
    };
  };

  const replicas: Replica[] = [];
  for (const service of [...AGENCIES.map((a) => a.id), 'gateway'] as ServiceId[]) {
    ports.replicas[service].forEach((port, index) => replicas.push(replica(`${service}-${index + 1}`, service, port, envOf(service, index, port), options)));
  }
  const tier = (name: string, port: number, service: ServiceId, retryEmptyResponses: boolean): Tier => ({
    name,
    bind: { host: LOOPBACK, port },
    servers: replicas.filter((r) => r.service === service).map((r) => ({ name: r.name, host: LOOPBACK, port: r.port })),
    retryEmptyResponses,
  });
  let haproxy: RunningHaproxy | null = null;
  const stopAll = async () => {
    // Clients' tier first, so that requests in flight on a gateway can still reach the agencies while it drains.
    await Promise.all(replicas.filter((r) => r.service === 'gateway').map((r) => r.stop()));
    await Promise.all(replicas.filter((r) => r.service !== 'gateway').map((r) => r.stop()));
    await haproxy?.stop();
    await redis.stop();
  };
  try {
    options.log(`starting ${replicas.length} replicas…`);
    await Promise.all(replicas.filter((r) => r.service !== 'gateway').map((r) => r.start()));
    await Promise.all(replicas.filter((r) => r.service === 'gateway').map((r) => r.start()));
    haproxy = await startHaproxy({
      topology: {
        tiers: [
          // No retry after a request was sent: a client's mutation has no replay protection (tools/haproxy.ts).
          tier('gateway', ports.gateway, 'gateway', false),
          ...AGENCIES.map((a) => tier(a.id, ports.agencies[a.id], a.id, true)),
        ],
        stats: { host: LOOPBACK, port: ports.stats },
      },
      configFile: path.join(options.dir, 'haproxy.cfg'),
      log: (line) => options.log(`[haproxy] ${line}`),
    });
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
  const running = haproxy;
  const balancerState = async (r: Replica) => (await running.serverStates())[r.service]?.[r.name];
  // Serving once HAProxy has checked every replica and found it ready.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const states = await running.serverStates().catch(() => ({}) as Record<string, Record<string, string>>);
    const notUp = replicas.filter((r) => states[r.service]?.[r.name] !== 'UP');
    if (notUp.length === 0) break;
    if (Date.now() > deadline) {
      await stopAll().catch(() => undefined);
      throw new Error(`HAProxy did not find ${notUp.map((r) => r.name).join(', ')} ready`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    gatewayUrl: agencyUrl(ports.gateway),
    agencyUrls,
    replicas,
    redis,
    haproxy,
    checkpointFiles,
    balancerState,
    stop: stopAll,
  };
}

function replica(name: string, service: ServiceId, port: number, env: Record<string, string | undefined>, options: ClusterOptions): Replica {
  const base = `http://${LOOPBACK}:${port}`;
  let child: ChildProcess | null = null;
  let ended: Promise<Exit> | null = null;
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;
  const output = options.output ?? ((who: string, line: string) => options.log(`[${who}] ${line}`));

  const ready = async () => {
    try {
      return (await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
    } catch {
      return false;
    }
  };
  const signal = async (which: NodeJS.Signals): Promise<Exit> => {
    if (!running() || !ended) return ended ?? { code: null, signal: null };
    child!.kill(which);
    return ended;
  };
  return {
    name,
    service,
    port,
    base,
    running,
    pid: () => (running() ? child!.pid : undefined),
    async start() {
      if (running()) throw new Error(`${name} is running already`);
      const started = spawn(process.execPath, ['--import', 'tsx', path.join(root, scriptOf(service))], {
        cwd: root,
        env: env as NodeJS.ProcessEnv,
        // In the caller's process group, as npm start's children: Ctrl-C at a terminal reaches every process at
        // once, and each stops itself (this one drains), whatever becomes of the script (tsx kills a script that
        // does not acknowledge a signal within 30 ms).
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      for (const stream of [started.stdout!, started.stderr!]) {
        stream.on('data', (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach((line) => output(name, line)));
      }
      ended = new Promise((resolve) =>
        started.once('exit', (code, sig) => {
          options.log(`${name} exited (${sig ?? `code ${code}`})`);
          resolve({ code, signal: sig });
        }),
      );
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!(await ready())) {
        if (started.exitCode !== null || started.signalCode !== null) throw new Error(`${name} exited (${started.signalCode ?? started.exitCode}) while starting`);
        if (Date.now() > deadline) throw new Error(`${name} not ready ${START_TIMEOUT_MS / 1000} s after it started`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}
