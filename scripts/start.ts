import { AGENCIES } from '../lib/agencies';
import { readConfig as readStatisticsConfig } from '../subgraphs/statistics/config';
import type { AgencyDatabases } from '../tools/databases';
import { readConfig } from './config';
import { describePortInUse, portsInUse, supervise, type OwnedPort, type ServiceSpec, type SupervisedService } from '../tools/supervisor';
import { prepareInstallation, tryItLines, stopOnSignals } from './installation';
import { planServices, type PlannedService, type ServicePlan } from './service-plan';

/**
 * npm start: the whole federation in one process tree. Embedded PostgreSQL (data kept in .data/),
 * the databases created and migrated, demo citizens seeded when empty, the supergraph composed,
 * then every agency's subgraph, the statistics subgraph and the gateway as child processes, each connecting as its own database role,
 * on the ports the environment gives (scripts/service-plan.ts). A service that dies is restarted with backoff
 * (tools/supervisor.ts) while the others keep serving. Ctrl-C stops all of it, PostgreSQL too.
 */
const say = (line: string) => console.log(`[start] ${line}`);
let statisticsBase = '';

/**
 * The statistics subgraph's ports as the environment sets them, for the check before anything starts. Its settings
 * are read in full (and any mistake in them reported) only when it is started; a setting that cannot be read yet
 * leaves its ports to that start.
 */
function statisticsPorts(env: NodeJS.ProcessEnv): OwnedPort[] {
  try {
    return statisticsService(env).spec.ports;
  } catch {
    return [];
  }
}

/** The statistics subgraph as the supervisor runs it: where its own configuration says it listens. */
function statisticsService(env: NodeJS.ProcessEnv): { spec: ServiceSpec; base: string } {
  const config = readStatisticsConfig(env);
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const ports: OwnedPort[] = [{ host: config.host, port: config.port, setBy: 'STATISTICS_PORT' }];
  if (config.metrics.port !== 0) ports.push({ host: config.metrics.host, port: config.metrics.port, setBy: 'STATISTICS_METRICS_PORT' });
  return { spec: { name: 'statistics', script: 'subgraphs/statistics/index.ts', env, readyUrl: `${base}/health/ready`, ports }, base };
}

async function main() {
  const started = Date.now();
  let config: ReturnType<typeof readConfig>;
  let plan: ServicePlan;
  try {
    config = readConfig();
    plan = planServices(process.env);
  } catch (error) {
    console.error(`[start] ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }

  const services: SupervisedService[] = [];
  let databases: AgencyDatabases | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    // The gateway first, so that what it has in flight can still reach the subgraphs while it drains.
    const gateway = services.filter((s) => s.name === 'gateway');
    await Promise.all(gateway.map((s) => s.stop()));
    await Promise.all(services.filter((s) => s.name !== 'gateway').map((s) => s.stop()));
    await databases?.stop();
    say('stopped.');
    process.exit(code);
  };
  stopOnSignals(() => void stopAll(0));

  try {
    // Before anything starts: a port someone else holds would have us wait on, and print, their service as ours.
    const needed: { port: OwnedPort; owner: string }[] = [...plan.subgraphs, plan.gateway].flatMap((s) => s.ports.map((port) => ({ port, owner: s.id })));
    needed.push(...statisticsPorts(process.env).map((port) => ({ port, owner: 'statistics' })));
    const embeddedPostgres = AGENCIES.some((a) => !config.externalDatabases[a.id]) || !config.externalAuditDatabase;
    if (embeddedPostgres) needed.push({ port: { host: '127.0.0.1', port: config.postgresPort, setBy: 'POSTGRES_PORT' }, owner: 'the embedded PostgreSQL' });
    const taken = new Set(await portsInUse(needed.map((n) => n.port)));
    if (taken.size > 0) {
      for (const n of needed.filter((n) => taken.has(n.port))) console.error(`[start] ${describePortInUse(n.port, n.owner)}.`);
      console.error('[start] nothing started: is another npm start (or npm run cluster) running?');
      process.exit(1);
    }

    const installation = await prepareInstallation(config, say, (ready) => (databases = ready));
    if (stopping) return;
    // The statistics subgraph: its own store, the agencies read as its own role; its first refresh builds the read model.
    const statistics = statisticsService(installation.statisticsEnv());
    statisticsBase = statistics.base;
    const run = (service: PlannedService, extraEnv: NodeJS.ProcessEnv = {}) => {
      const supervised = supervise(plan.spec(service, { ...installation.serviceEnv(service.id), ...extraEnv }), config.restart, say);
      services.push(supervised);
      return supervised;
    };
    const subgraphs = plan.subgraphs.map((s) => run(s));
    const statisticsProcess = supervise(statistics.spec, config.restart, say);
    services.push(statisticsProcess);
    await Promise.all([...subgraphs, statisticsProcess].map((s) => s.firstStart));
    if (stopping) return;
    const gateway = run(plan.gateway, { SUBGRAPH_STATISTICS_URL: installation.serviceEnv('gateway').SUBGRAPH_STATISTICS_URL ?? `${statistics.base}/graphql` });
    if (!(await gateway.firstStart)) {
      if (!stopping) console.error('[start] the gateway could not be started: stopping everything.');
      return await stopAll(1);
    }

    const { code, token } = await installation.welcome();
    printWelcome(plan, services, code, token, Date.now() - started);
  } catch (error) {
    console.error('[start] failed:', error instanceof Error ? error.message : error);
    await stopAll(1);
  }
}

function printWelcome(plan: ServicePlan, services: SupervisedService[], code: string | null, token: string, elapsedMs: number) {
  const base = plan.gateway.base;
  const pid = (id: string) => services.find((s) => s.name === id)?.pid();
  const status = (id: string) => {
    const service = services.find((s) => s.name === id);
    return service?.state() === 'ready' ? `pid ${service.pid()}` : `${service?.state() ?? 'not started'}`;
  };
  const lines = [
    '',
    `Citizen Graph is running (${(elapsedMs / 1000).toFixed(1)} s).`,
    '',
    `  GraphQL endpoint        ${base}/graphql  (gateway, pid ${pid('gateway')})`,
    // ?code= puts a seeded citizen in the IDE's example variables (paste the token below into its token field).
    `  GraphQL IDE             ${base}/${code ? `?code=${code}` : ''}`,
    `  Health                  ${base}/health/live   ${base}/health/ready   ${base}/health/dependencies`,
    ...plan.subgraphs.map((s) => {
      const calls = plan.gatewayCalls[s.id] === `${s.base}/graphql` ? '' : `; the gateway calls ${plan.gatewayCalls[s.id]}`;
      return `  ${(s.id + ' subgraph').padEnd(23)} ${s.base}/graphql  (${s.agency!.title}, ${status(s.id)}${calls})`;
    }),
    `  Metrics (Prometheus)    gateway ${plan.gateway.metrics}`,
    ...plan.subgraphs.map((s) => `                          ${s.id} ${s.metrics}`),
    `  ${'statistics subgraph'.padEnd(23)} ${statisticsBase}/graphql  (analysts' tables, from the statistics read model, ${status('statistics')})`,
    '',
    'The services log JSON lines (pino): a "request" line per request with its requestId and traceId (README, "Observability").',
    'A service that dies is restarted (backoff from RESTART_BACKOFF_MS); the others keep serving (README, "The development supervisor").',
    '',
    ...tryItLines(base, code, token),
  ];
  lines.push('Press Ctrl-C to stop everything (PostgreSQL included); the data stays in .data/ for the next start.', '');
  console.log(lines.join('\n'));
}

void main();
