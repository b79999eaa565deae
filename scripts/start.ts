import fs from 'node:fs';
import { AGENCIES, AUDIT_STORE } from '../lib/agencies';
import { composeSupergraph, SUPERGRAPH_GRAPHQL } from '../lib/compose';
import { openPools, prepareDatabases } from '../lib/databases';
import { ensureSeeded, exampleCitizen } from './seeding';
import { readConfig } from './config';
import { runChild, waitFor, type Child } from '../lib/processes';
import { ensureDevKeys, mintDevToken } from '../lib/dev-keys';
import { DEFAULT_GATEWAY_METRICS_PORT, DEV_KEYS_DIR } from '../gateway/config';
import { AUDIT_VERIFIER_ROLE, SERVICE_ROLES, type ServiceId } from '../lib/database-roles';
import { DEV_SERVICE_KEYS_DIR, ensureServiceKeys } from '../lib/service-keys';
import { DEV_CHECKPOINT_KEY_FILE, ensureCheckpointKey } from '../lib/audit/checkpoint';

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

  say('starting PostgreSQL and migrating the agency databases and the audit store…');
  const databases = await prepareDatabases({
    dataDir: config.dataDir,
    postgresPort: config.postgresPort,
    external: config.externalDatabases,
    externalAudit: config.externalAuditDatabase,
    log: say,
  });
  const children: Child[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await Promise.all(children.map((child) => child.stop()));
    await databases.stop();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const pools = openPools(databases.urls);
    try {
      await ensureSeeded(pools, { citizens: config.seedCitizens, seed: config.seed, log: say });
    } finally {
      await pools.end();
    }

    const sdl = composeSupergraph();
    if (!fs.existsSync(SUPERGRAPH_GRAPHQL) || fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8') !== sdl) {
      fs.writeFileSync(SUPERGRAPH_GRAPHQL, sdl);
      say('supergraph.graphql recomposed from the subgraph schemas');
    }

    // Development token signing keys (kept in .data/keys): the gateway verifies with the public half.
    await ensureDevKeys(DEV_KEYS_DIR);
    // The key that signs checkpoints of the audit chain head (made once; verifiers get its public half).
    if (!config.externalAuditDatabase) await ensureCheckpointKey(DEV_CHECKPOINT_KEY_FILE);
    // Service credential keys of this installation (kept in .data/service-keys): one private key per
    // service, the trust file every subgraph reads. Each child is told its own key file.
    const serviceKeys = await ensureServiceKeys(DEV_SERVICE_KEYS_DIR);
    // Each child connects as its own role (lib/database-roles.ts), never as the superuser that migrated and seeded.
    const serviceEnv = (service: ServiceId): NodeJS.ProcessEnv => {
      const env = { ...process.env };
      env.SERVICE_TRUST_FILE ??= serviceKeys.trustFile;
      env.GATEWAY_SERVICE_KEY_FILE ??= serviceKeys.keyFiles.gateway;
      for (const agency of AGENCIES) env[`${agency.envPrefix}_SERVICE_KEY_FILE`] ??= serviceKeys.keyFiles[agency.id];
      const own = databases.serviceUrls[service];
      for (const agency of AGENCIES) {
        if (agency.id === service && own.database) env[`${agency.envPrefix}_DATABASE_URL`] = own.database;
        else delete env[`${agency.envPrefix}_DATABASE_URL`];
      }
      env[`${AUDIT_STORE.envPrefix}_DATABASE_URL`] = own.audit;
      for (const role of [...Object.values(SERVICE_ROLES), AUDIT_VERIFIER_ROLE]) delete env[role.passwordEnv];
      return env;
    };
    const died = (what: string) => {
      console.error(`[start] ${what}; stopping everything.`);
      void stopAll(1);
    };
    for (const agency of AGENCIES) {
      children.push(runChild({ script: `subgraphs/${agency.id}/index.ts` }, serviceEnv(agency.id), died));
    }
    await Promise.all(AGENCIES.map((agency) => waitFor(`http://127.0.0.1:${agency.defaultPort}/health`)));
    children.push(runChild({ script: 'gateway/index.ts' }, serviceEnv('gateway'), died));
    await waitFor(`http://127.0.0.1:${GATEWAY_PORT}/health/ready`);

    const check = openPools(databases.urls);
    const code = await exampleCitizen(check).finally(() => check.end());
    const token = await mintDevToken(DEV_KEYS_DIR, { sub: 'demo:clerk-01', role: 'CLERK', agency: 'residents', purpose: 'SERVICE_COUNTER' }, { expiresIn: 12 * 3600 });
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
    `  Health                  ${base}/health/live   ${base}/health/ready`,
    ...AGENCIES.map((a) => `  ${(a.id + ' subgraph').padEnd(23)} http://127.0.0.1:${a.defaultPort}/graphql  (${a.title})`),
    `  Metrics (Prometheus)    http://127.0.0.1:${DEFAULT_GATEWAY_METRICS_PORT}/metrics  (gateway; subgraphs ${AGENCIES.map((a) => a.defaultMetricsPort).join(', ')})`,
    '',
    'The services log JSON lines (pino): a "request" line per request with its requestId and traceId (README, "Observability").',
    '',
  ];
  if (code) {
    const query = `query { citizen(personalCode: \\"${code}\\") { fullName dateOfBirth permanentResidence { address { provinceName } } identityCard { number status } birthRegistration { registrationNumber } parents { fullName } } }`;
    lines.push(
      `Try it with a seeded citizen (${code}), as a service-counter clerk (a demo token valid 12 hours):`,
      '',
      `  TOKEN=${token}`,
      `  curl -s ${base}/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
      `    -d '{"query":"${query}"}'`,
      '',
      'Tokens for other roles: npm run token -- --role INVESTIGATOR|REGISTRAR|ANALYST|AUDITOR|CITIZEN … (see the README).',
      '',
    );
  }
  lines.push('Press Ctrl-C to stop everything (PostgreSQL included); the data stays in .data/ for the next start.', '');
  console.log(lines.join('\n'));
}

void main();
