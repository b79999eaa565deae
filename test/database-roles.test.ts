import { productionServiceKeys } from './support/service-credentials';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { AGENCIES, agency, type Agency } from '../lib/agencies';
import { appendEntries } from '../lib/audit/append';
import { verifyAuditChain } from '../tools/audit/verify';
import { openDatabase } from '../lib/database';
import { AUDIT_TABLES, checkServiceRole, PrivilegedConnectionError, roleProblems } from '../lib/database-role-check';
import {
  agencyGrants,
  applyDatabaseGrants,
  AUDIT_GRANTS,
  AUDIT_VERIFIER_ROLE,
  MissingRolePasswordError,
  rolePasswordsFile,
  SERVICE_ROLES,
  type LoginRole,
  type ServiceId,
} from '../lib/database-roles';
import { migrate } from '../tools/migrate';
import { readSubgraphConfig } from '../lib/subgraph-config';
import { PrismaClient } from '../prisma/residents/generated/client';
import { createResidentsSubgraph } from '../subgraphs/residents/server';
import { auditEntry, scratchAuditStore, type ScratchAuditStore } from './support/audit';
import { testDatabases, withScratchDatabase } from './support/databases';
import { startFederation } from './support/federation';

/**
 * Least privilege, checked against the real PostgreSQL of the run: each service's own role (lib/database-roles.ts)
 * may do what its code does and nothing more; the superuser is for migrations, seeding and the tests' fixtures.
 */
const SERVICES = Object.keys(SERVICE_ROLES) as ServiceId[];
const { serviceUrls, urls, auditUrl, auditVerifierUrl } = testDatabases();

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function as<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** The SQLSTATE a statement fails with (null: it succeeded), inside a transaction that is rolled back. */
async function sqlState(client: Client, sql: string, values: unknown[] = []): Promise<string | null> {
  await client.query('BEGIN');
  try {
    await client.query(sql, values);
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  } finally {
    await client.query('ROLLBACK');
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';

/** The same database as `url`, with the credentials of another service's URL. */
function withCredentialsOf(url: string, credentials: string): string {
  const target = new URL(url);
  const source = new URL(credentials);
  target.username = source.username;
  target.password = source.password;
  return target.toString();
}

/** The passwords of the roles as the run created them (from their URLs), for re-applying grants elsewhere. */
function knownPassword(role: LoginRole): string | undefined {
  const service = SERVICES.find((s) => SERVICE_ROLES[s].name === role.name);
  const url = service ? serviceUrls[service].audit : role.name === AUDIT_VERIFIER_ROLE.name ? auditVerifierUrl : undefined;
  return url ? decodeURIComponent(new URL(url).password) : undefined;
}

describe('the audit store, as each writing service', () => {
  let store: ScratchAuditStore;
  let storeUrlAs: (service: ServiceId | 'verifier') => string;

  beforeAll(async () => {
    // A chain of this file's own, with the same grants as the shared one.
    store = await scratchAuditStore('roles');
    await applyDatabaseGrants(store.url, AUDIT_GRANTS, knownPassword);
    storeUrlAs = (service) => withCredentialsOf(store.url, service === 'verifier' ? auditVerifierUrl : serviceUrls[service].audit);
  });
  afterAll(async () => {
    await store.drop();
  });

  it.each(SERVICES)('%s may only append through audit_append: no direct INSERT, UPDATE, DELETE or TRUNCATE, no moving the head', async (service) => {
    await as(storeUrlAs(service), async (client) => {
      const appended = await appendEntries(client as never, [auditEntry({ requestId: `roles-${service}` })], { timeoutMs: 5000 });
      expect(appended.lastSeq).toBeGreaterThanOrEqual(1);
      const row = `(1000000, now(), 'r', 's', 'CLERK', NULL, NULL, 'residents', 'READ', 'op', NULL, '{}', 'OK', NULL, repeat('0', 64), repeat('0', 64))`;
      expect(await sqlState(client, `INSERT INTO audit_log VALUES ${row}`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `UPDATE audit_log SET subject = 'someone else'`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `DELETE FROM audit_log`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `TRUNCATE audit_log`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `UPDATE audit_chain_head SET seq = seq + 1`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `DELETE FROM audit_chain_head`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `ALTER TABLE audit_log DISABLE TRIGGER USER`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `CREATE TABLE audit_shadow (x int)`)).toBe(INSUFFICIENT_PRIVILEGE);
      // Reading the log: the residents service serves the access log and the auditors' search; the others never read it.
      expect(await sqlState(client, `SELECT count(*) FROM audit_log`)).toBe(service === 'residents' ? null : INSUFFICIENT_PRIVILEGE);
      // The head, which the gateway's checkpointer signs: the gateway reads it, the agencies do not.
      expect(await sqlState(client, `SELECT seq, hash, at FROM audit_chain_head`)).toBe(service === 'gateway' ? null : INSUFFICIENT_PRIVILEGE);
    });
  });

  it('leaves a chain the read-only verifier role finds intact, and the verifier can neither append nor change', async () => {
    await as(storeUrlAs('verifier'), async (client) => {
      const report = await verifyAuditChain(client as never);
      expect(report).toMatchObject({ intact: true, problems: [] });
      expect(report.records).toBeGreaterThanOrEqual(SERVICES.length);
      expect(await sqlState(client, `SELECT audit_append('[]'::json)`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `DELETE FROM audit_log`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `UPDATE audit_chain_head SET seq = seq + 1`)).toBe(INSUFFICIENT_PRIVILEGE);
    });
  });

  it('holds on the shared audit store the services of the federation write to', async () => {
    await as(serviceUrls.gateway.audit, async (client) => {
      expect(await sqlState(client, `DELETE FROM audit_log`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `UPDATE audit_chain_head SET seq = seq + 1`)).toBe(INSUFFICIENT_PRIVILEGE);
    });
    const definer = await as(auditUrl, (c) => c.query(`SELECT prosecdef, proconfig FROM pg_proc WHERE proname = 'audit_append'`));
    expect(definer.rows).toEqual([{ prosecdef: true, proconfig: ['search_path=pg_catalog, public, pg_temp'] }]);
  });
});

describe('the agency databases, as each agency service', () => {
  const tablesOf = async (id: Agency['id']) =>
    (await as(urls[id], (c) => c.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`))).rows.map(
      (r) => r.name,
    );

  it.each(AGENCIES.map((a) => a.id))('%s may read, insert and update its tables, never delete, truncate, alter or create', async (id) => {
    const tables = await tablesOf(id);
    expect(tables).toEqual(expect.arrayContaining(['_prisma_migrations', 'cg_nhat_ky_thay_doi']));
    await as(serviceUrls[id].database!, async (client) => {
      for (const table of tables) {
        const t = client.escapeIdentifier(table);
        const expected = table === '_prisma_migrations' ? INSUFFICIENT_PRIVILEGE : null;
        expect([table, await sqlState(client, `SELECT 1 FROM ${t} LIMIT 1`)]).toEqual([table, expected]);
        expect([table, await sqlState(client, `DELETE FROM ${t} WHERE false`)]).toEqual([table, INSUFFICIENT_PRIVILEGE]);
        expect([table, await sqlState(client, `TRUNCATE ${t}`)]).toEqual([table, INSUFFICIENT_PRIVILEGE]);
        expect([table, await sqlState(client, `ALTER TABLE ${t} ADD COLUMN cg_x int`)]).toEqual([table, INSUFFICIENT_PRIVILEGE]);
      }
      expect(await sqlState(client, `CREATE TABLE cg_shadow (x int)`)).toBe(INSUFFICIENT_PRIVILEGE);
      // The change log is insert-only.
      const entry = `INSERT INTO cg_nhat_ky_thay_doi (nguoi_thuc_hien, ma_yeu_cau, thao_tac, bang, khoa) VALUES ('t', 'r', 'TEST', 't', 'k')`;
      expect(await sqlState(client, entry)).toBeNull();
      expect(await sqlState(client, `UPDATE cg_nhat_ky_thay_doi SET khoa = 'x' WHERE false`)).toBe(INSUFFICIENT_PRIVILEGE);
      // Not the owner of anything, not a superuser.
      const facts = await client.query(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`);
      expect(facts.rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    });
  });

  it("connects to no other agency's database, nor does the gateway to any", async () => {
    for (const service of SERVICES) {
      for (const other of AGENCIES.filter((a) => a.id !== service)) {
        const url = withCredentialsOf(urls[other.id], serviceUrls[service].audit);
        const error = await as(url, async () => null).catch((e: { code?: string; message: string }) => e);
        expect([service, other.id, error?.code]).toEqual([service, other.id, INSUFFICIENT_PRIVILEGE]);
        expect(error?.message).toMatch(/permission denied for database/);
      }
    }
  });

  it('covers a table a later migration adds, once grants are applied again after it', async () => {
    await withScratchDatabase('roles_new_table', async (url, pool) => {
      await migrate(url, agency('residents').migrationsDir);
      await pool.query(`CREATE TABLE cg_new_things (id BIGSERIAL PRIMARY KEY, x int)`);
      await applyDatabaseGrants(url, agencyGrants('residents'), knownPassword);
      await as(withCredentialsOf(url, serviceUrls.residents.database!), async (client) => {
        expect(await sqlState(client, `INSERT INTO cg_new_things (x) VALUES (1)`)).toBeNull();
        expect(await sqlState(client, `UPDATE cg_new_things SET x = 2`)).toBeNull();
        expect(await sqlState(client, `DELETE FROM cg_new_things`)).toBe(INSUFFICIENT_PRIVILEGE);
      });
    });
  });
});

describe('the statistics read model, as the statistics service', () => {
  const { statisticsUrl, statisticsServiceUrls } = testDatabases();

  it('owns its derived tables to rebuild them (truncate, drop and build indexes), and nothing of the migrations', async () => {
    await as(statisticsServiceUrls.database, async (client) => {
      const owned = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY 1`,
      );
      expect(owned.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['st_dan_so', 'st_the', 'st_khoi']));
      expect(owned.rows.map((r) => r.name)).not.toContain('_prisma_migrations');
      expect(await sqlState(client, `TRUNCATE st_dan_so, st_cu_tru`)).toBeNull();
      expect(await sqlState(client, `DROP INDEX st_the_pid_idx`)).toBeNull();
      expect(await sqlState(client, `ALTER TABLE st_dan_so DROP CONSTRAINT st_dan_so_pkey`)).toBeNull();
      expect(await sqlState(client, `CREATE INDEX st_the_pid_idx2 ON st_the (pid)`)).toBeNull();
      expect(await sqlState(client, `SELECT 1 FROM _prisma_migrations LIMIT 1`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `DELETE FROM _prisma_migrations`)).toBe(INSUFFICIENT_PRIVILEGE);
      const facts = await client.query(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`);
      expect(facts.rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    });
  });

  it('reads only the columns its facts come from in the agencies, and only appends to the audit store', async () => {
    await as(statisticsServiceUrls.sources.residents, async (client) => {
      expect(await sqlState(client, `SELECT so_dinh_danh, ngay_sinh FROM cong_dan LIMIT 1`)).toBeNull();
      expect(await sqlState(client, `SELECT ho_ten FROM cong_dan LIMIT 1`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `UPDATE cong_dan SET ngay_mat = NULL WHERE false`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `TRUNCATE cong_dan`)).toBe(INSUFFICIENT_PRIVILEGE);
    });
    await as(statisticsServiceUrls.audit, async (client) => {
      expect(await sqlState(client, `DELETE FROM audit_log`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlState(client, `TRUNCATE audit_log`)).toBe(INSUFFICIENT_PRIVILEGE);
    });
  });

  it('starts in production as its own role, owner of its store; never as the superuser', async () => {
    await checkServiceRole({ url: statisticsServiceUrls.database, setting: 'STATISTICS_DATABASE_URL', production: true, ownsTables: true, warn: () => undefined });
    await expect(
      checkServiceRole({ url: statisticsUrl, setting: 'STATISTICS_DATABASE_URL', production: true, ownsTables: true, warn: () => undefined }),
    ).rejects.toThrow(/postgres is a superuser/);
    // Owning is allowed in its own store only: as the audit store's writer it must own nothing.
    await checkServiceRole({ url: statisticsServiceUrls.audit, setting: 'AUDIT_DATABASE_URL', production: true, tables: AUDIT_TABLES, warn: () => undefined });
  });
});

describe('the test federation', () => {
  it('connects every subgraph to its database as its own role', async () => {
    const federation = await startFederation();
    try {
      const { rows } = await as(urls.residents, (c) => c.query<{ code: string }>(`SELECT so_dinh_danh AS code FROM cong_dan ORDER BY so_dinh_danh LIMIT 1`));
      const answer = await federation.query(`query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName identityCards { number } birthRegistration { registeredOn } } }`, {
        code: rows[0].code,
      });
      expect(answer.errors).toBeUndefined();
      for (const a of AGENCIES) {
        const sessions = await as(urls[a.id], (c) =>
          c.query<{ role: string }>(`SELECT DISTINCT usename AS role FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, [
            a.database,
            `citizen-graph-${a.id}`,
          ]),
        );
        expect([a.id, sessions.rows]).toEqual([a.id, [{ role: SERVICE_ROLES[a.id].name }]]);
      }
    } finally {
      await federation.stop();
    }
  });
});

describe('roles and passwords', () => {
  it('keeps the generated development passwords in a file only its owner can read', () => {
    const file = rolePasswordsFile(path.resolve(__dirname, '../.data/test-postgres'));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    for (const service of SERVICES) expect(stored[SERVICE_ROLES[service].name]).toBe(knownPassword(SERVICE_ROLES[service]));
  });

  it('refuses to create a login role without a password, naming the variable', async () => {
    const role = { name: 'cg_test_nobody', passwordEnv: 'CG_TEST_NOBODY_DB_PASSWORD' };
    await withScratchDatabase('roles_missing_password', async (url) => {
      const grants = { name: 'residents' as const, grants: [{ role, allTables: [], sequences: false, functions: [] }], securityDefiner: [] };
      await expect(applyDatabaseGrants(url, grants, () => undefined)).rejects.toThrow(MissingRolePasswordError);
      await expect(applyDatabaseGrants(url, grants, () => undefined)).rejects.toThrow(/CG_TEST_NOBODY_DB_PASSWORD/);
    });
  });
});

describe('fail closed on a privileged connection', () => {
  const silent = () => undefined;

  it('names what is wrong: superuser, RLS bypass, owned tables', () => {
    expect(roleProblems({ role: 'cg_residents', superuser: false, bypassRls: false, ownedTables: [] })).toEqual([]);
    expect(roleProblems({ role: 'postgres', superuser: true, bypassRls: true, ownedTables: ['cong_dan'] })).toEqual([
      'postgres is a superuser',
      'postgres bypasses row-level security',
      'postgres owns the tables it serves (cong_dan)',
    ]);
  });

  it('refuses a superuser URL in production, naming the setting; warns outside production', async () => {
    const production = checkServiceRole({ url: urls.residents, setting: 'RESIDENTS_DATABASE_URL', expectedRole: 'cg_residents', production: true, warn: silent });
    await expect(production).rejects.toThrow(PrivilegedConnectionError);
    await expect(checkServiceRole({ url: auditUrl, setting: 'AUDIT_DATABASE_URL', production: true, tables: AUDIT_TABLES, warn: silent })).rejects.toThrow(
      /AUDIT_DATABASE_URL connects as a role too powerful.*postgres is a superuser.*owns the tables it serves \(audit_chain_head, audit_log\)/,
    );
    const warnings: string[] = [];
    await checkServiceRole({ url: urls.residents, setting: 'RESIDENTS_DATABASE_URL', production: false, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/^\[warning\] RESIDENTS_DATABASE_URL connects as a role too powerful/)]);
  });

  it("accepts each service's own role in production", async () => {
    for (const service of SERVICES) {
      const own = serviceUrls[service];
      if (own.database) await checkServiceRole({ url: own.database, setting: 'X_DATABASE_URL', production: true, warn: silent });
      await checkServiceRole({ url: own.audit, setting: 'AUDIT_DATABASE_URL', production: true, tables: AUDIT_TABLES, warn: silent });
    }
  });

  it('refuses in production when the role cannot be checked at all', async () => {
    const unreachable = 'postgresql://cg_residents:x@127.0.0.1:9/residents';
    await expect(checkServiceRole({ url: unreachable, setting: 'RESIDENTS_DATABASE_URL', production: true, warn: silent })).rejects.toThrow(
      /RESIDENTS_DATABASE_URL: could not check/,
    );
  });

  it('a subgraph configured for production does not start as the superuser', async () => {
    const keys = await productionServiceKeys();
    const config = readSubgraphConfig('residents', {
      NODE_ENV: 'production',
      RESIDENTS_DATABASE_URL: urls.residents,
      RESIDENTS_HOST: '127.0.0.1',
      AUDIT_DATABASE_URL: serviceUrls.residents.audit,
      SERVICE_KEY_FILE: keys.keyFiles.residents,
      SERVICE_TRUST_FILE: keys.trustFile,
      RESIDENTS_SERVICE_URL: 'http://127.0.0.1:4001/graphql',
    });
    await expect(createResidentsSubgraph(config)).rejects.toThrow(/RESIDENTS_DATABASE_URL connects as a role too powerful/);
  });
});

describe('statement timeouts', () => {
  it('default below the gateway subgraph timeout; a longer one is a configuration error', () => {
    const config = readSubgraphConfig('national-id', {});
    expect(config.statementTimeoutMs).toBe(4000);
    expect(config.statementTimeoutMs).toBeLessThan(5000);
    expect(() => readSubgraphConfig('national-id', { NATIONAL_ID_DB_STATEMENT_TIMEOUT_MS: '6000' })).toThrow(/must be below the gateway's SUBGRAPH_TIMEOUT_MS/);
    expect(readSubgraphConfig('national-id', { NATIONAL_ID_DB_STATEMENT_TIMEOUT_MS: '6000', SUBGRAPH_TIMEOUT_MS: '8000' }).statementTimeoutMs).toBe(6000);
  });

  it('cancels a query longer than the statement timeout; a write transaction has its own, longer bound', async () => {
    const db = openDatabase(
      { url: serviceUrls.residents.database!, poolSize: 1, applicationName: 'roles-test', statementTimeoutMs: 300, transactionTimeoutMs: 3000 },
      (adapter) => new PrismaClient({ adapter }),
    );
    try {
      const started = Date.now();
      await expect(db.pool.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(1500);
      await expect(db.prisma.$executeRaw`SELECT pg_sleep(2)`).rejects.toThrow(/statement timeout|57014/);
      // Inside an interactive transaction (a write, queued on a lock say): the transaction's bound, not the session's.
      const inside = await db.prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_sleep(0.6)`;
        return tx.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`;
      });
      expect(inside).toEqual([{ statement_timeout: '3s' }]);
      // ... and only there: the same pooled connection is back to the session's timeout.
      expect((await db.pool.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '300ms' }]);
      expect((await db.pool.query('SHOW idle_in_transaction_session_timeout')).rows).toEqual([{ idle_in_transaction_session_timeout: '3s' }]);
      await expect(db.prisma.$transaction(async (tx) => tx.$executeRaw`SELECT pg_sleep(4)`, { timeout: 10_000 })).rejects.toThrow(/statement timeout|57014/);
    } finally {
      await db.close();
    }
  });
});
