import path from 'node:path';
import { AGENCIES, agency, STATISTICS_DEFAULT_PORT } from '../lib/agencies';
import { runChild, waitFor, type Child } from '../tools/processes';
import type { AgencyDatabases } from '../tools/databases';
import { SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { startCluster, type Cluster, type ClusterPorts } from '../tools/cluster';
import { readConfig } from './config';
import { prepareInstallation, tryItLines, stopOnSignals } from './installation';

/**
 * npm run cluster: the topology of a national deployment on one machine (tools/cluster.ts): the embedded PostgreSQL
 * prepared as npm start prepares it, Redis, two replicas of the gateway and of each subgraph, and HAProxy in front
 * of each tier. Clients call the gateway balancer where npm start's gateway listens (4000); each agency's balancer
 * takes the port its single subgraph has under npm start (4001-4003). Ctrl-C stops everything (every process gets the
 * terminal's SIGINT, as under npm start; SIGTERM to this script alone stops the tiers in order: gateways, subgraphs,
 * HAProxy, Redis, PostgreSQL).
 * The statistics subgraph runs once, past HAProxy, where npm start runs it (4004, the supergraph's routing URL): its
 * query budgets are kept in its process's memory, and one refresher per read model is enough.
 * Not at the same time as npm start (the same ports).
 */
const PORTS: ClusterPorts = {
  gateway: 4000,
  agencies: Object.fromEntries(AGENCIES.map((a) => [a.id, a.defaultPort])) as ClusterPorts['agencies'],
  // Two replicas each: 4100-4101 for the gateway, 41<n>1-41<n>2 for the n-th agency of lib/agencies.ts.
  replicas: {
    gateway: [4100, 4101],
    ...Object.fromEntries(AGENCIES.map((a, i) => [a.id, [4111 + 10 * i, 4112 + 10 * i]])),
  } as ClusterPorts['replicas'],
  redis: 6390,
  stats: 8404,
};
const DIR = path.resolve(__dirname, '../.data/cluster');

async function main() {
  const started = Date.now();
  const config = readConfig();
  const say = (line: string) => console.log(`[cluster] ${line}`);
  let databases: AgencyDatabases | null = null;
  let cluster: Cluster | null = null;
  let statistics: Child | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping: gateway replicas, subgraph replicas (each drains), HAProxy, Redis, PostgreSQL…');
    await cluster?.stop();
    await statistics?.stop();
    await databases?.stop();
    say('stopped.');
    process.exit(code);
  };
  stopOnSignals(() => void stopAll(0));

  try {
    const installation = await prepareInstallation(config, say, (ready) => (databases = ready));
    statistics = runChild({ script: 'subgraphs/statistics/index.ts' }, { ...installation.statisticsEnv(), METRICS_PORT: '0' }, (what) => {
      console.error(`[cluster] ${what}; stopping everything.`);
      void stopAll(1);
    });
    await waitFor(`http://127.0.0.1:${STATISTICS_DEFAULT_PORT}/health/ready`);
    cluster = await startCluster({
      ports: PORTS,
      serviceEnv: installation.serviceEnv,
      dir: DIR,
      // The repository's own: `npm run compose` (a recomposition) reaches every gateway replica without a restart.
      supergraphPath: SUPERGRAPH_GRAPHQL,
      log: say,
    });
    const { code, token } = await installation.welcome();
    printWelcome(cluster, code, token, Date.now() - started);
  } catch (error) {
    console.error('[cluster] failed:', error instanceof Error ? error.message : error);
    await stopAll(1);
  }
}

function printWelcome(cluster: Cluster, code: string | null, token: string, elapsedMs: number) {
  const base = `http://127.0.0.1:${PORTS.gateway}`;
  const replicasOf = (service: string) =>
    cluster.replicas
      .filter((r) => r.service === service)
      .map((r) => `${r.port} (pid ${r.pid()})`)
      .join(', ');
  const lines = [
    '',
    `Citizen Graph is running as a cluster (${(elapsedMs / 1000).toFixed(1)} s).`,
    '',
    `  GraphQL endpoint (HAProxy)   ${base}/graphql            gateway replicas on ${replicasOf('gateway')}`,
    ...AGENCIES.map((a) => `  ${(a.id + ' (HAProxy)').padEnd(28)} ${cluster.agencyUrls[a.id]}  replicas on ${replicasOf(a.id)}`),
    `  Statistics subgraph          http://127.0.0.1:${STATISTICS_DEFAULT_PORT}/graphql  (one process, past HAProxy)`,
    `  HAProxy statistics           ${cluster.haproxy.statsUrl}`,
    `  Redis (shared limits, replay cache)  ${cluster.redis.url}`,
    `  Health of any replica        http://127.0.0.1:<port>/health/live, /health/ready; the gateway's /health/dependencies`,
    `  Generated HAProxy config     ${path.relative(process.cwd(), path.join(DIR, 'haproxy.cfg'))}`,
    `  Audit checkpoints            ${cluster.checkpointFiles.map((f) => path.relative(process.cwd(), f)).join(', ')}`,
    `                               (npm run audit:verify -- ${cluster.checkpointFiles.map((f) => `--checkpoints ${path.relative(process.cwd(), f)}`).join(' ')})`,
    '',
    ...tryItLines(base, code, token),
    'Stop a replica (kill -TERM <pid>: it drains) or kill it (kill -9): HAProxy routes around it. npm run compose reaches every gateway replica.',
    'Press Ctrl-C to stop everything (PostgreSQL included); the data stays in .data/ for the next start.',
    '',
  ];
  console.log(lines.join('\n'));
}

void main();
