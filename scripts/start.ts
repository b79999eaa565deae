import { AGENCIES } from '../lib/agencies';
import type { AgencyDatabases } from '../tools/databases';
import { readConfig } from './config';
import { runChild, waitFor, type Child } from '../tools/processes';
import { DEFAULT_GATEWAY_METRICS_PORT } from '../gateway/config';
import { prepareInstallation, tryItLines } from './installation';

/**
 * npm start: the whole federation in one process tree. Embedded PostgreSQL (data kept in .data/),
 * the three databases created and migrated, demo citizens seeded when empty, the supergraph composed,
 * then the three subgraphs and the gateway as child processes, each connecting as its own database role. Ctrl-C stops all of it, PostgreSQL too.
 */
const GATEWAY_PORT = 4000;

async function main() {
  const started = Date.now();
  const config = readConfig();
  const say = (line: string) => console.log(`[start] ${line}`);

  const children: Child[] = [];
  let databases: AgencyDatabases | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await Promise.all(children.map((child) => child.stop()));
    await databases?.stop();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const installation = await prepareInstallation(config, say, (ready) => (databases = ready));
    const died = (what: string) => {
      console.error(`[start] ${what}; stopping everything.`);
      void stopAll(1);
    };
    for (const agency of AGENCIES) {
      children.push(runChild({ script: `subgraphs/${agency.id}/index.ts` }, installation.serviceEnv(agency.id), died));
    }
    await Promise.all(AGENCIES.map((agency) => waitFor(`http://127.0.0.1:${agency.defaultPort}/health/ready`)));
    children.push(runChild({ script: 'gateway/index.ts' }, installation.serviceEnv('gateway'), died));
    await waitFor(`http://127.0.0.1:${GATEWAY_PORT}/health/ready`);

    const { code, token } = await installation.welcome();
    printWelcome(code, token, Date.now() - started);
  } catch (error) {
    console.error('[start] failed:', error instanceof Error ? error.message : error);
    await stopAll(1);
  }
}

function printWelcome(code: string | null, token: string, elapsedMs: number) {
  const base = `http://127.0.0.1:${GATEWAY_PORT}`;
  const lines = [
    '',
    `Citizen Graph is running (${(elapsedMs / 1000).toFixed(1)} s).`,
    '',
    `  GraphQL endpoint        ${base}/graphql`,
    // ?code= puts a seeded citizen in the IDE's example variables (paste the token below into its token field).
    `  GraphQL IDE             ${base}/${code ? `?code=${code}` : ''}`,
    `  Health                  ${base}/health/live   ${base}/health/ready   ${base}/health/dependencies`,
    ...AGENCIES.map((a) => `  ${(a.id + ' subgraph').padEnd(23)} http://127.0.0.1:${a.defaultPort}/graphql  (${a.title})`),
    `  Metrics (Prometheus)    http://127.0.0.1:${DEFAULT_GATEWAY_METRICS_PORT}/metrics  (gateway; subgraphs ${AGENCIES.map((a) => a.defaultMetricsPort).join(', ')})`,
    '',
    'The services log JSON lines (pino): a "request" line per request with its requestId and traceId (README, "Observability").',
    '',
    ...tryItLines(base, code, token),
  ];
  lines.push('Press Ctrl-C to stop everything (PostgreSQL included); the data stays in .data/ for the next start.', '');
  console.log(lines.join('\n'));
}

void main();
