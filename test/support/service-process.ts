import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testDatabases } from './databases';
import type { TestFederation } from './federation';
import { AGENCIES, findAgency, type Agency } from '../../lib/agencies';

/**
 * The gateway or a subgraph as a process of its own (as production runs it), for tests that must signal or
 * kill it (SIGTERM, SIGKILL in the middle of something). `env` adds to or overrides the run's settings.
 */
export interface ServiceProcess {
  url: string;
  /** Its Prometheus metrics (METRICS_PORT 0: a free port of their own). */
  metricsUrl: string;
  child: ChildProcess;
  /** Everything it wrote to stdout so far: its log, one JSON object a line (lib/log.ts). */
  output(): string;
}

/**
 * Where a process runs from: the sources through tsx (by default), or `fromBuild`, an installation of the
 * build (dist/ beside package.json and its production node_modules), run with `node dist/<script>.js` from
 * there, as production runs it.
 */
export interface ProcessOptions {
  fromBuild?: string;
  /** The sources of another checkout (a copy of the repository a test changed), run through tsx from there. */
  fromCheckout?: string;
}

const root = path.resolve(__dirname, '../..');

/**
 * Every process started here dies with the test worker that started it, whatever the test did (a beforeAll that
 * timed out, an afterAll that threw): one left running would keep its pools and timers on the next run's
 * PostgreSQL, which takes the same port, and ship other tests' change-log entries to its audit store.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function startServiceProcess(script: string, env: Record<string, string>, { fromBuild, fromCheckout }: ProcessOptions = {}): Promise<ServiceProcess> {
  const [args, cwd] = fromBuild
    ? [[path.join(fromBuild, 'dist', script.replace(/\.ts$/, '.js'))], fromBuild]
    : [['--import', 'tsx', path.join(fromCheckout ?? root, script)], fromCheckout];
  const child = spawn(process.execPath, args, {
    cwd,
    // Metrics on a free port of their own: the development ports (9400-9403) may be npm start's.
    env: { ...process.env, NODE_ENV: 'test', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise<ServiceProcess>((resolve, reject) => {
    let output = '';
    let ready = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready) return;
      // The log line's message: "... ready at <url> (metrics at <url>)", inside a JSON string.
      const match = /ready at (https?:\/\/[^\s"]+) \(metrics at (https?:\/\/[^\s")]+)\)/.exec(output);
      if (match) {
        ready = true;
        resolve({ url: match[1], metricsUrl: match[2], child, output: () => output });
      }
    });
    child.once('exit', () => reject(new Error(`${script} exited early: ${output}`)));
  });
}

export function startGatewayProcess(
  federation: Pick<TestFederation, 'subgraphUrls'> & Partial<Pick<TestFederation, 'statisticsUrl'>>,
  env: Record<string, string> = {},
  options: ProcessOptions = {},
): Promise<ServiceProcess> {
  const { serviceUrls, jwksFile, serviceKeys, checkpointKeyFile, checkpointFile } = testDatabases();
  return startServiceProcess('gateway/index.ts', {
    GATEWAY_PORT: '0',
    GATEWAY_HOST: '127.0.0.1',
    AUTH_JWKS_FILE: jwksFile,
    GATEWAY_SERVICE_KEY_FILE: serviceKeys.keyFiles.gateway,
    AUDIT_DATABASE_URL: serviceUrls.gateway.audit,
    AUDIT_CHECKPOINT_KEY_FILE: checkpointKeyFile,
    AUDIT_CHECKPOINT_FILE: checkpointFile,
    ...Object.fromEntries(AGENCIES.filter((a) => federation.subgraphUrls[a.id]).map((a) => [`SUBGRAPH_${a.envPrefix}_URL`, federation.subgraphUrls[a.id]])),
    // Without a statistics subgraph (a test of the agencies' only), the supergraph's routing URL: nothing answers there.
    ...(federation.statisticsUrl ? { SUBGRAPH_STATISTICS_URL: federation.statisticsUrl } : {}),
    SUBGRAPH_TIMEOUT_MS: '30000', // as test/support/federation.ts
    ...env,
  }, options);
}

/**
 * One agency's subgraph, sealed, on its own role and the run's keys, on a port the OS picks. An agency this checkout
 * does not know (one a test added to a copy: fromCheckout) gets only the settings `env` gives it.
 */
export function startSubgraphProcess(id: Agency['id'], env: Record<string, string> = {}, options: ProcessOptions = {}): Promise<ServiceProcess> {
  const { serviceUrls, serviceKeys } = testDatabases();
  const known = findAgency(id);
  const own: Record<string, string> = known
    ? {
        [`${known.envPrefix}_DATABASE_URL`]: serviceUrls[id].database!,
        [`${known.envPrefix}_PORT`]: '0',
        [`${known.envPrefix}_SERVICE_KEY_FILE`]: serviceKeys.keyFiles[id],
        AUDIT_DATABASE_URL: serviceUrls[id].audit,
      }
    : {};
  return startServiceProcess(`subgraphs/${id}/index.ts`, { ...own, SERVICE_TRUST_FILE: serviceKeys.trustFile, ...env }, options);
}

/** Resolves with how the process ended: its exit code, or the signal that ended it. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
