import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AGENCIES } from '../lib/agencies';
import { composeSupergraph, SUPERGRAPH_GRAPHQL } from '../lib/compose';
import { openPools, prepareDatabases } from '../lib/databases';
import { ensureSeeded, exampleCitizen } from './seeding';
import { readConfig } from './config';

/**
 * npm start: the whole federation in one process tree. Embedded PostgreSQL (data kept in .data/),
 * the three databases created and migrated, demo citizens seeded when empty, the supergraph composed,
 * then the three subgraphs and the gateway as child processes. Ctrl-C stops all of it, PostgreSQL too.
 */
const root = path.resolve(__dirname, '..');
const GATEWAY_PORT = 4000;

async function main() {
  const started = Date.now();
  const config = readConfig();
  const say = (line: string) => console.log(`[start] ${line}`);

  say('starting PostgreSQL and migrating the agency databases…');
  const databases = await prepareDatabases({
    dataDir: config.dataDir,
    postgresPort: config.postgresPort,
    external: config.externalDatabases,
    log: say,
  });
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await Promise.all(children.map((child) => stopChild(child)));
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

    const env = { ...process.env };
    for (const agency of AGENCIES) env[`${agency.envPrefix}_DATABASE_URL`] = databases.urls[agency.id];
    for (const agency of AGENCIES) {
      children.push(run(`subgraphs/${agency.id}/index.ts`, env, () => void stopAll(1)));
    }
    await Promise.all(AGENCIES.map((agency) => waitFor(`http://127.0.0.1:${agency.defaultPort}/health`)));
    children.push(run('gateway/index.ts', env, () => void stopAll(1)));
    await waitFor(`http://127.0.0.1:${GATEWAY_PORT}/health/ready`);

    const check = openPools(databases.urls);
    const code = await exampleCitizen(check).finally(() => check.end());
    printWelcome(code, Date.now() - started);
  } catch (error) {
    console.error('[start] failed:', error instanceof Error ? error.message : error);
    await stopAll(1);
  }
}

function run(script: string, env: NodeJS.ProcessEnv, onUnexpectedExit: () => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script)], { env, stdio: 'inherit', cwd: root });
  child.on('exit', (code, signal) => {
    if ((child as { stopping?: boolean }).stopping) return;
    console.error(`[start] ${script} exited (${signal ?? code}); stopping everything.`);
    onUnexpectedExit();
  });
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  (child as { stopping?: boolean }).stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs / 1000} s`);
}

function printWelcome(code: string | null, elapsedMs: number) {
  const base = `http://127.0.0.1:${GATEWAY_PORT}`;
  const lines = [
    '',
    `Citizen Graph is running (${(elapsedMs / 1000).toFixed(1)} s).`,
    '',
    `  GraphQL endpoint        ${base}/graphql`,
    `  GraphQL IDE             ${base}/`,
    `  Health                  ${base}/health/live   ${base}/health/ready`,
    ...AGENCIES.map((a) => `  ${(a.id + ' subgraph').padEnd(23)} http://127.0.0.1:${a.defaultPort}/graphql  (${a.title})`),
    '',
  ];
  if (code) {
    const query = `query { citizen(personalCode: \\"${code}\\") { fullName dateOfBirth permanentResidence { address { provinceName } } identityCard { number status } birthRegistration { registrationNumber } parents { fullName } } }`;
    lines.push(
      `Try it with a seeded citizen (${code}):`,
      '',
      `  curl -s ${base}/graphql -H 'content-type: application/json' \\`,
      `    -d '{"query":"${query}"}'`,
      '',
    );
  }
  lines.push('Press Ctrl-C to stop everything (PostgreSQL included); the data stays in .data/ for the next start.', '');
  console.log(lines.join('\n'));
}

void main();
