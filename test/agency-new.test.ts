import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Pool } from 'pg';
import { migrate } from '../tools/migrate';
import { AGENCIES, STATISTICS_DEFAULT_METRICS_PORT, STATISTICS_DEFAULT_PORT, type Agency } from '../lib/agencies';
import { startFederation, type TestFederation } from './support/federation';
import { planAgency } from '../scripts/agency-new';
import { exited, startGatewayProcess, startSubgraphProcess, type ServiceProcess } from './support/service-process';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';

/**
 * `npm run agency:new`, as an agency developer runs it: in a copy of the repository (node_modules linked), the
 * command adds an agency; the developer adds a classified field to its Citizen; code generation and composition
 * run offline; the new subgraph (from the copy) and a gateway (from the copy, composed with four agencies) run
 * against the test PostgreSQL beside the other agencies' subgraphs; the field is read through the gateway, only
 * by a role its classification allows, and the access record names the new agency. Bad ids change nothing.
 */
const ROOT = path.resolve(__dirname, '..');
// The test's agencies are named sample-…, so that a real agency added with the command (health-fund, say) never
// collides with them.
const ID = 'sample-fund';
const DATABASE = 'sample_fund';
/** Not copied: installed packages (linked instead), git, local data and builds. */
const NOT_COPIED = new Set(['node_modules', '.git', '.data', 'dist', 'test-results']);

const run = promisify(execFile);
let copy: string;

/** Runs a script of the copy through tsx; resolves with its exit code and output, whatever the code. */
async function runInCopy(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: copy, env: { ...process.env, NODE_ENV: 'development' }, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Every file of the copy (generated code aside) with a hash of its content: what a refused command must leave as it was. */
function snapshot(dir = copy, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(prefix, entry.name);
    if (prefix === '' && NOT_COPIED.has(entry.name)) return [];
    if (entry.isDirectory()) return entry.name === 'generated' ? [relative] : snapshot(path.join(dir, entry.name), relative);
    return [`${relative} ${crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, entry.name))).digest('hex')}`];
  });
}

beforeAll(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'citizen-graph-agency-'));
  fs.cpSync(ROOT, copy, { recursive: true, filter: (source) => !NOT_COPIED.has(path.relative(ROOT, source).split(path.sep)[0]) });
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(copy, 'node_modules'));
});

afterAll(() => {
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

describe('npm run agency:new refuses', () => {
  it.each([
    ['an uppercase id', ['SampleFund', '--title', 'Health Fund'], /"SampleFund" is not an agency id: lowercase letters/],
    ['an existing agency', ['national-id', '--title', 'Another ID Center'], /The agency "national-id" exists already/],
    ['a path', ['../sample-fund', '--title', 'Health Fund'], /"\.\.\/sample-fund" is not an agency id/],
    ['a nested path', ['subgraphs/x', '--title', 'Health Fund'], /"subgraphs\/x" is not an agency id/],
    ['a name of its own services', ['gateway', '--title', 'Gateway'], /"gateway" is a name Citizen Graph uses itself/],
    ['no title', [ID], /--title "…" is required/],
    ['a title that would break out of a string', [ID, '--title', "Fund'; process.exit(1); '"], /--title must be one line/],
    ['a DDL file that does not exist', [ID, '--title', 'Health Fund', '--ddl', 'no/such.sql'], /--ddl no\/such\.sql: no such file/],
  ])('%s, with a message, and changes nothing', async (_case, args, message) => {
    const before = snapshot();
    const result = await runInCopy('scripts/agency-new.ts', args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Nothing was changed.');
    expect(snapshot()).toEqual(before);
  });
});

describe('npm run agency:new with the DDL of an existing database', () => {
  const ddl = 'CREATE TABLE thua_dat (\n  id BIGSERIAL PRIMARY KEY,\n  so_dinh_danh_chu CHAR(12) NOT NULL\n);\nCREATE TABLE IF NOT EXISTS "giay_chung_nhan" (id BIGINT PRIMARY KEY);\n';
  const files = planAgency({ id: 'sample-registry', title: 'Sample Registry', ddl }, ROOT, new Date('2027-01-02T03:04:05Z'));

  it('makes the DDL the first migration, verbatim, and the change-log tables the second', () => {
    expect(files.get('prisma/sample-registry/migrations/20270102030405_init/migration.sql')).toBe(ddl);
    expect(files.get('prisma/sample-registry/migrations/20270102030406_change_log/migration.sql')).toMatch(/CREATE TABLE cg_nhat_ky_thay_doi[\s\S]*CREATE TABLE cg_nhat_ky_da_chuyen/);
  });

  it('lists the tables to map, and serves no placeholder', () => {
    expect(files.get('prisma/sample-registry/schema.prisma')).toContain('Tables of the DDL: thua_dat, giay_chung_nhan.');
    expect(files.get('prisma/sample-registry/schema.prisma')).not.toContain('ho_so');
    expect(files.get('subgraphs/sample-registry/schema.graphql')).toMatch(/type Citizen @key\(fields: "personalCode"\) @classified\(as: "BASIC_IDENTITY"\) \{[^}]*personalCode: PersonalCode!\n\}/);
  });

  it('adds the agency to lib/agencies.ts on the next free ports, and to supergraph.yaml', () => {
    expect(files.get('lib/agencies.ts')).toMatch(/id: 'residents' \| 'national-id' \| 'birth-registry'.* \| 'sample-registry';/);
    expect(files.get('lib/agencies.ts')).toMatch(/id: 'sample-registry',[\s\S]*database: 'sample_registry',\n {4}envPrefix: 'SAMPLE_REGISTRY',\n {4}defaultPort: \d+,/);
    // After the agencies, before the statistics subgraph.
    expect(files.get('supergraph.yaml')).toMatch(/\n {2}sample-registry:\n {4}routing_url: http:\/\/127\.0\.0\.1:\d+\/graphql\n {4}schema:\n {6}file: \.\/subgraphs\/sample-registry\/schema\.graphql\n {2}statistics:\n/);
     // Ports no other subgraph uses, the statistics subgraph's (not an agency) included.
    const port = Number(/id: 'sample-registry',[\s\S]*?defaultPort: (\d+),/.exec(files.get('lib/agencies.ts')!)![1]);
    const metricsPort = Number(/id: 'sample-registry',[\s\S]*?defaultMetricsPort: (\d+),/.exec(files.get('lib/agencies.ts')!)![1]);
    expect([...AGENCIES.map((a) => a.defaultPort), STATISTICS_DEFAULT_PORT]).not.toContain(port);
    expect([...AGENCIES.map((a) => a.defaultMetricsPort), STATISTICS_DEFAULT_METRICS_PORT]).not.toContain(metricsPort);
  });

  it('writes its deployment: manifests, gateway URL, migrate Job entries, the README\'s Secrets, the image\'s ports', () => {
    const deployment = files.get('deploy/k8s/sample-registry.yaml')!;
    expect(deployment).toMatch(/kind: Deployment\nmetadata:\n {2}name: sample-registry\n/);
    expect(deployment).toContain('command: [node, dist/subgraphs/sample-registry/index.js]');
    // Nothing of the model's is left but the header's word on where it came from.
    expect(deployment.replace(/^(#[^\n]*\n)+/, '')).not.toMatch(/national-id|NATIONAL_ID|national_id/);
    expect(files.get('deploy/k8s/kustomization.yaml')).toMatch(/\n {2}- sample-registry\.yaml\n {2}- network-policies\.yaml\n/);
    expect(files.get('deploy/k8s/config.yaml')).toMatch(/\n {2}SUBGRAPH_SAMPLE_REGISTRY_URL: http:\/\/sample-registry:\d+\/graphql\n/);
    expect(files.get('deploy/k8s/config.yaml')).toMatch(/name: sample-registry-config\n[\s\S]*SAMPLE_REGISTRY_SERVICE_KEY_FILE/);
    expect(files.get('deploy/k8s/external-services.yaml')).toMatch(/name: sample-registry-db\n[\s\S]*citizen-graph\.gov\.vn\/database: sample_registry\n/);
    expect(files.get('deploy/k8s/network-policies.yaml')).toMatch(/name: sample-registry-ingress\n/);
    expect(files.get('deploy/k8s/migrate-job.yaml')).toMatch(/name: SAMPLE_REGISTRY_DATABASE_URL\n[\s\S]*name: CG_SAMPLE_REGISTRY_DB_PASSWORD\n/);
    const readme = files.get('README.md')!;
    expect(readme).toContain('create secret generic sample-registry-service-key --from-file=private.jwk.json=../keys/sample-registry.private.jwk.json');
    expect(readme).toContain("--from-literal=database-url='postgresql://cg_sample_registry:…@sample-registry-db:5432/sample_registry'");
    expect(readme).toMatch(/--from-literal=sample-registry=… /);
    const [, port, metricsPort] = /id: 'sample-registry',[\s\S]*?defaultPort: (\d+),\n {4}defaultMetricsPort: (\d+),/.exec(files.get('lib/agencies.ts')!)!;
    const exposed = /^EXPOSE (.*)$/m.exec(files.get('Dockerfile')!)![1].split(' ');
    expect(exposed).toEqual(expect.arrayContaining([port, metricsPort]));
    expect(files.get('deploy/k8s/sample-registry.yaml')).toContain(`containerPort: ${port}`);
  });
});

describe('an agency added with npm run agency:new', () => {
  let federation: TestFederation | undefined;
  let subgraph: ServiceProcess | undefined;
  let gateway: ServiceProcess | undefined;
  const { adminUrl, urls, auditUrl } = testDatabases();
  const agencyUrl = adminUrl.replace(/\/postgres$/, `/${DATABASE}`);

  async function recreateDatabase(drop: boolean) {
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
      if (!drop) await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
  }

  afterAll(async () => {
    for (const process of [gateway, subgraph]) {
      if (!process) continue;
      process.child.kill('SIGTERM');
      await exited(process.child);
    }
    await federation?.stop();
    await recreateDatabase(true);
  });

  it('is composed, classified, served through the gateway and audited', async () => {
    const created = await runInCopy('scripts/agency-new.ts', [ID, '--title', 'Sample Fund']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    for (const file of ['schema.graphql', 'config.ts', 'context.ts', 'server.ts', 'index.ts', 'resolvers.ts', 'loaders.ts', 'models.ts']) {
      expect(fs.existsSync(path.join(copy, 'subgraphs', ID, file))).toBe(true);
    }
    for (const file of ['schema.prisma', 'seed.ts', 'migrations/migration_lock.toml']) expect(fs.existsSync(path.join(copy, 'prisma', ID, file))).toBe(true);
    expect(fs.existsSync(path.join(copy, 'test', `${ID}.test.ts`))).toBe(true);
    const schemaFile = path.join(copy, 'subgraphs', ID, 'schema.graphql');
    expect(fs.readFileSync(schemaFile, 'utf8')).toMatch(/type Citizen @key\(fields: "personalCode"\) @classified\(as: "BASIC_IDENTITY"\)/);

    // The developer's first field: classified SENSITIVE, resolved through the template's loader.
    const schema = fs.readFileSync(schemaFile, 'utf8');
    fs.writeFileSync(
      schemaFile,
      schema.replace(
        '  sampleFundEntries: [SampleFundEntry!]\n',
        '  sampleFundEntries: [SampleFundEntry!]\n  "What the fund noted first about the insured person; null when nothing."\n  coverageNote: String @classified(as: "SENSITIVE")\n',
      ),
    );
    const resolversFile = path.join(copy, 'subgraphs', ID, 'resolvers.ts');
    fs.writeFileSync(
      resolversFile,
      fs
        .readFileSync(resolversFile, 'utf8')
        .replace(
          '    __resolveReference: (reference) => reference,\n',
          '    __resolveReference: (reference) => reference,\n    coverageNote: async (citizen, _args, ctx) => (await ctx.loaders.entriesOfCitizen.load(citizen.personalCode))[0]?.content ?? null,\n',
        ),
    );

    const generated = await runInCopy('scripts/generate.ts', []);
    expect({ code: generated.code, stderr: generated.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error/i) });
    expect(generated.stdout).toContain(`generated the Prisma client of ${ID}`);
    const composed = await runInCopy('scripts/compose.ts', []);
    expect({ code: composed.code, stderr: composed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(fs.readFileSync(path.join(copy, 'supergraph.graphql'), 'utf8')).toContain('coverageNote: String @join__field(graph: SAMPLE_FUND)');
    // The new agency's code, the developer's field and its generated test typecheck with everything they import.
    fs.writeFileSync(
      path.join(copy, 'tsconfig.agency.json'),
      JSON.stringify({ extends: './tsconfig.json', include: [], files: [`subgraphs/${ID}/index.ts`, `prisma/${ID}/seed.ts`, `test/${ID}.test.ts`, 'codegen.ts'] }),
    );
    const typecheck = await runInCopy(path.join(ROOT, 'node_modules/typescript/bin/tsc'), ['--noEmit', '-p', 'tsconfig.agency.json']);
    expect({ code: typecheck.code, out: typecheck.stdout }).toEqual({ code: 0, out: '' });

    // Its database in the test PostgreSQL: migrated from the copy, seeded by its hook.
    await recreateDatabase(false);
    await migrate(agencyUrl, path.join(copy, 'prisma', ID, 'migrations'));
    const pools = { pool: new Pool({ connectionString: agencyUrl, max: 1 }), residents: new Pool({ connectionString: urls.residents, max: 1 }) };
    let insured: string;
    let note: string;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const hook = require(path.join(copy, 'prisma', ID, 'seed.ts')) as { seed(context: typeof pools & { log(line: string): void }): Promise<number> };
      expect(await hook.seed({ ...pools, log: () => undefined })).toBeGreaterThan(0);
      const { rows } = await pools.pool.query<{ code: string; note: string }>('SELECT so_dinh_danh AS code, noi_dung AS note FROM ho_so ORDER BY id LIMIT 1');
      [insured, note] = [rows[0].code, rows[0].note];
      // Run again, it leaves a seeded database alone.
      expect(await hook.seed({ ...pools, log: () => undefined })).toBe(0);
    } finally {
      await pools.pool.end();
      await pools.residents.end();
    }

    // The other agencies as the suite runs them; the new subgraph and a gateway composed with it, from the copy.
    federation = await startFederation();
    subgraph = await startSubgraphProcess(
      ID as Agency['id'],
      { SAMPLE_FUND_DATABASE_URL: agencyUrl, SAMPLE_FUND_PORT: '0', AUDIT_DATABASE_URL: auditUrl },
      { fromCheckout: copy },
    );
    gateway = await startGatewayProcess(federation, { SUBGRAPH_SAMPLE_FUND_URL: subgraph.url }, { fromCheckout: copy });

    const query = 'query ($code: PersonalCode!) { citizen(personalCode: $code) { personalCode fullName sampleFundEntries { content madeOn } coverageNote } }';
    const ask = async (persona: Parameters<typeof bearer>[0], requestId: string) => {
      const response = await fetch(gateway!.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...(await bearer(persona)) },
        body: JSON.stringify({ query, variables: { code: insured } }),
      });
      return (await response.json()) as { data?: { citizen: Record<string, unknown> | null }; errors?: { extensions?: { code?: string } }[] };
    };

    const requestId = `agency-new-${Date.now()}`;
    const answer = await ask(PERSONAS.investigator, requestId);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.citizen).toMatchObject({ personalCode: insured, coverageNote: note, sampleFundEntries: [{ content: note }] });
    expect(typeof answer.data?.citizen?.fullName).toBe('string');

    const audit = new Pool({ connectionString: auditUrl, max: 1 });
    try {
      const { rows } = await audit.query<{ agency: string; persons: string[]; classes: string[] }>(
        'SELECT agency, persons, classes FROM audit_log WHERE request_id = $1 ORDER BY agency',
        [requestId],
      );
      const fund = rows.filter((row) => row.agency === ID);
      expect(fund).toHaveLength(1);
      expect(fund[0].persons).toEqual([insured]);
      expect(fund[0].classes).toEqual(expect.arrayContaining(['BASIC_IDENTITY', 'SENSITIVE']));
    } finally {
      await audit.end();
    }

    // A clerk at a service counter may not see SENSITIVE data: the new field is refused like any other agency's.
    const clerk = await ask(PERSONAS.clerk, `${requestId}-clerk`);
    expect(clerk.data?.citizen ?? null).toBeNull();
    expect(clerk.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
    // Generation, composition and a typecheck in a copy, and three processes: minutes on a busy machine.
  }, 900_000);
});
