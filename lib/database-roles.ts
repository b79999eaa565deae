import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { AGENCIES, type Agency } from './agencies';
import type { Env } from './env';

/**
 * Who connects to which database with which rights: one login role per service, least privilege, declared
 * here once as data and applied by tools/databases.ts (prepareDatabases) after every migration run, so that
 * `npm start`, `npm run migrate` and the tests all converge on exactly these grants, and tables added by a
 * later migration are covered the next time migrations run. The superuser (or whoever the *_DATABASE_URL
 * given to `npm run migrate` names) migrates and seeds; no service ever connects as it.
 *
 * Agency databases: the agency's own service may SELECT, INSERT and UPDATE every table of schema public and
 * use its sequences, never DELETE, TRUNCATE, DDL or ownership; a table listed in `tables` gets exactly the
 * privileges listed there instead (the change log is insert-only). Only that service may connect at all.
 *
 * The audit store: every writing service may only EXECUTE audit_append (SECURITY DEFINER: it inserts and
 * moves the chain head with its owner's rights, so a service cannot insert, change or delete a record nor
 * move the head itself); the residents service may also read audit_log (it serves the access log and the
 * auditors' search); the verifier role (`npm run audit:verify`) reads the log and the chain head, nothing else.
 */
export type ServiceId = 'gateway' | Agency['id'];
/** MAINTAIN (PostgreSQL 17+): ANALYZE and VACUUM without owning the table. */
export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE' | 'MAINTAIN';

export interface LoginRole {
  name: string;
  /** Where `npm run migrate` takes its password for an external database (and, if set, for the embedded one). */
  passwordEnv: string;
}

/** An agency's service role follows from its entry in lib/agencies.ts: cg_<database>, CG_<PREFIX>_DB_PASSWORD. */
export const agencyRole = (a: Pick<Agency, 'database' | 'envPrefix'>): LoginRole => ({ name: `cg_${a.database}`, passwordEnv: `CG_${a.envPrefix}_DB_PASSWORD` });

export const SERVICE_ROLES: Readonly<Record<ServiceId, LoginRole>> = {
  gateway: { name: 'cg_gateway', passwordEnv: 'CG_GATEWAY_DB_PASSWORD' },
  ...(Object.fromEntries(AGENCIES.map((a) => [a.id, agencyRole(a)])) as Record<Agency['id'], LoginRole>),
};

/**
 * The statistics subgraph (subgraphs/statistics): owns the rows of the statistics read model (a derived store,
 * rebuilt from the agencies, so it may DELETE there), reads the few columns of each agency's tables its facts
 * come from and their change logs (never a name, an address or a number of a document), and appends to the audit
 * store like every service.
 */
export const STATISTICS_ROLE: LoginRole = { name: 'cg_statistics', passwordEnv: 'CG_STATISTICS_DB_PASSWORD' };

/** What the statistics role may read in each agency database: table → columns (SELECT on those columns only); an agency not named here (a new one) gives it nothing. */
export const STATISTICS_SOURCE_COLUMNS: Readonly<Partial<Record<Agency['id'], Readonly<Record<string, readonly string[]>>>>> = {
  residents: {
    cong_dan: ['so_dinh_danh', 'ngay_sinh', 'gioi_tinh', 'dan_toc', 'ton_giao', 'ngay_mat'],
    dang_ky_cu_tru: ['id', 'so_dinh_danh', 'loai_cu_tru', 'ma_tinh', 'quan_huyen', 'tu_ngay', 'den_ngay', 'trang_thai'],
    so_dinh_danh: ['so_dinh_danh', 'so_dinh_danh_hien_hanh'],
    ho_gia_dinh: ['so_ho', 'ma_tinh', 'ngay_lap'],
    thanh_vien_ho: ['so_ho', 'so_dinh_danh', 'quan_he_chu_ho', 'tu_ngay', 'den_ngay'],
    cg_nhat_ky_thay_doi: ['id', 'thoi_diem', 'bang', 'khoa', 'so_dinh_danh'],
  },
  'national-id': {
    the_can_cuoc: ['id', 'loai_the', 'so_dinh_danh', 'ngay_cap', 'ngay_het_han', 'trang_thai', 'id_the_thay_the', 'ngay_cap_nhat'],
    cg_nhat_ky_thay_doi: ['id', 'thoi_diem', 'bang', 'khoa', 'so_dinh_danh'],
  },
  'birth-registry': {
    dang_ky_khai_sinh: ['id', 'so_dang_ky', 'ngay_dang_ky', 'ma_tinh_dang_ky', 'gioi_tinh_tre', 'ngay_sinh_tre', 'so_dinh_danh_tre'],
    cg_nhat_ky_thay_doi: ['id', 'thoi_diem', 'bang', 'khoa', 'so_dinh_danh'],
  },
};

/** Read-only on the audit store: for `npm run audit:verify` and auditors' tooling. */
export const AUDIT_VERIFIER_ROLE: LoginRole = { name: 'cg_audit_verifier', passwordEnv: 'CG_AUDIT_VERIFIER_DB_PASSWORD' };

export interface RoleGrant {
  role: LoginRole;
  /** On every table of schema public, unless `tables` names it. */
  allTables: readonly TablePrivilege[];
  /** Exceptions to allTables: exactly these privileges on this table ([] for none). */
  tables?: Readonly<Record<string, readonly TablePrivilege[]>>;
  /** USAGE and SELECT on every sequence of schema public (BIGSERIAL ids). */
  sequences: boolean;
  /** Functions of schema public it may EXECUTE (every overload of the name). */
  functions: readonly string[];
  /** SELECT on these columns only of these tables (a reader that must not see the rest of the row). */
  columns?: Readonly<Record<string, readonly string[]>>;
  /**
   * Owns the tables `allTables` covers (not those `tables` names), with CREATE on the schema: may drop and build
   * their indexes. For a derived store its service rebuilds, never for an agency's data or the audit store.
   */
  ownsTables?: boolean;
}

export interface DatabaseGrants {
  /** What prepareDatabases calls it in its logs: the agency id or 'audit'. */
  name: Agency['id'] | 'audit' | 'statistics';
  grants: readonly RoleGrant[];
  /** Functions that run with their owner's rights, search_path pinned (ensured on every run). */
  securityDefiner: readonly string[];
}

/** Tables of an agency database no service writes the same way as the rest. */
const AGENCY_TABLE_EXCEPTIONS: Readonly<Record<string, readonly TablePrivilege[]>> = {
  // The change log (lib/change-log.ts): a write's trace, never changed once written.
  cg_nhat_ky_thay_doi: ['SELECT', 'INSERT'],
  // Which change-log entries the outbox has shipped to the audit store (lib/audit/outbox.ts): insert-only too.
  cg_nhat_ky_da_chuyen: ['SELECT', 'INSERT'],
  // The migration runner's own bookkeeping: migrations run as the superuser, never as a service.
  _prisma_migrations: [],
};

/**
 * Functions of an agency database its service must be able to call. For search by name
 * (prisma/residents/migrations/*_name_search): cg_ten_khong_dau folds a citizen's name and cg_hau_to takes its
 * word suffixes; PostgreSQL calls both on every INSERT and UPDATE of cong_dan (a generated column, expression
 * indexes) with the writing role's rights, and the search calls cg_hau_to.
 */
const AGENCY_FUNCTIONS: Partial<Record<Agency['id'], readonly string[]>> = {
  residents: ['cg_ten_khong_dau', 'cg_hau_to'],
};

export function agencyGrants(id: Agency['id']): DatabaseGrants {
  return {
    name: id,
    grants: [
      {
        role: SERVICE_ROLES[id],
        allTables: ['SELECT', 'INSERT', 'UPDATE'],
        tables: AGENCY_TABLE_EXCEPTIONS,
        sequences: true,
        // Trigger functions need no EXECUTE to fire; a function a generated column calls does, for every
        // role that writes the row. Built-ins (pg_advisory_xact_lock, hashtext) are not in schema public.
        functions: AGENCY_FUNCTIONS[id] ?? [],
      },
      { role: STATISTICS_ROLE, allTables: [], sequences: false, functions: [], columns: STATISTICS_SOURCE_COLUMNS[id] },
    ],
    securityDefiner: [],
  };
}

const APPEND_ONLY: Omit<RoleGrant, 'role'> = { allTables: [], sequences: false, functions: ['audit_append'] };

export const AUDIT_GRANTS: DatabaseGrants = {
  name: 'audit',
  grants: [
    // The gateway also signs checkpoints of the chain head (lib/audit/checkpoint.ts): it reads the head, nothing else.
    { role: SERVICE_ROLES.gateway, ...APPEND_ONLY, tables: { audit_chain_head: ['SELECT'] } },
    { role: SERVICE_ROLES.residents, ...APPEND_ONLY, tables: { audit_log: ['SELECT'] } },
    // Every other agency only appends its records.
    ...AGENCIES.filter((a) => a.id !== 'residents').map((a) => ({ role: SERVICE_ROLES[a.id], ...APPEND_ONLY })),
    { role: STATISTICS_ROLE, ...APPEND_ONLY },
    { role: AUDIT_VERIFIER_ROLE, allTables: [], tables: { audit_log: ['SELECT'], audit_chain_head: ['SELECT'] }, sequences: false, functions: [] },
  ],
  securityDefiner: ['audit_append'],
};

/** The database each service's own data lives in (the gateway has none: it only writes the audit store). */
export const SERVICE_DATABASE: Readonly<Record<ServiceId, Agency['id'] | null>> = {
  gateway: null,
  ...(Object.fromEntries(AGENCIES.map((a) => [a.id, a.id])) as Record<Agency['id'], Agency['id']>),
};

/**
 * The statistics read model: its service reads and replaces the facts; nobody else connects. It is a derived store,
 * rebuilt from the agencies at will, so its service owns the tables: a rebuild from scratch truncates them, drops
 * their indexes, loads the rows and builds the indexes again (subgraphs/statistics/refresh.ts), several times faster
 * than inserting 40 million rows into live B-trees. MAINTAIN lets it ANALYZE what it wrote before it counts the
 * cubes. Building an index needs CREATE on the schema, so it could also create tables there: in a database that holds
 * nothing but its own derived facts. It may not read or touch the migrations' bookkeeping.
 */
export const STATISTICS_GRANTS: DatabaseGrants = {
  name: 'statistics',
  grants: [
    {
      role: STATISTICS_ROLE,
      allTables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'MAINTAIN'],
      tables: { _prisma_migrations: [] },
      sequences: true,
      functions: [],
      ownsTables: true,
    },
  ],
  securityDefiner: [],
};

export const ALL_DATABASE_GRANTS: readonly DatabaseGrants[] = [...AGENCIES.map((a) => agencyGrants(a.id)), AUDIT_GRANTS, STATISTICS_GRANTS];

/**
 * Where role passwords come from: the role's variable when set; otherwise, for a database of the embedded
 * PostgreSQL, one generated for this installation and kept in `file` (mode 0600); for an external database
 * none, and a role that does not exist yet is then not created (the error names the variable).
 */
export class RolePasswords {
  private generated: Record<string, string> | null = null;

  constructor(
    private readonly env: Env,
    private readonly file: string,
  ) {}

  fromEnv(role: LoginRole): string | undefined {
    return this.env[role.passwordEnv]?.trim() || undefined;
  }

  forEmbedded(role: LoginRole): string {
    const fromEnv = this.fromEnv(role);
    if (fromEnv) return fromEnv;
    this.generated ??= readPasswordsFile(this.file);
    if (!this.generated[role.name]) {
      this.generated[role.name] = crypto.randomBytes(24).toString('base64url');
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(this.file, JSON.stringify(this.generated, null, 2) + '\n', { mode: 0o600 });
      fs.chmodSync(this.file, 0o600);
    }
    return this.generated[role.name];
  }
}

function readPasswordsFile(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
}

/** The URL of `databaseUrl`'s database with another role's credentials (no password: libpq's PGPASSWORD/.pgpass). */
export function urlWithRole(databaseUrl: string, role: string, password: string | undefined): string {
  const url = new URL(databaseUrl);
  url.username = encodeURIComponent(role);
  url.password = password ? encodeURIComponent(password) : '';
  return url.toString();
}

export class MissingRolePasswordError extends Error {
  name = 'MissingRolePasswordError';
}

const ident = (client: Client, name: string) => client.escapeIdentifier(name);

/**
 * Creates the login roles of `grants` that do not exist yet (or sets their password when one is known), then
 * makes the database's privileges exactly those declared, in one transaction: PUBLIC may not connect or
 * create, every declared role's privileges on the schema's tables, sequences and functions are revoked and
 * granted again from the data. Idempotent; run after every migration run. Returns each role's password
 * where known (undefined: an existing role whose password this run was not given).
 */
export async function applyDatabaseGrants(
  adminUrl: string,
  grants: DatabaseGrants,
  password: (role: LoginRole) => string | undefined,
): Promise<Map<string, string | undefined>> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  const passwords = new Map<string, string | undefined>();
  try {
    const { rows } = await client.query<{ database: string }>('SELECT current_database() AS database');
    const database = rows[0].database;
    for (const { role } of grants.grants) {
      const secret = password(role);
      passwords.set(role.name, secret);
      await ensureLoginRole(client, role, secret);
    }
    const roles = grants.grants.map((g) => ident(client, g.role.name)).join(', ');
    await client.query('BEGIN');
    try {
      // Two runs at once (npm run migrate beside npm start) would otherwise collide on the same catalog rows.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('citizen-graph:grants'))`);
      const db = ident(client, database);
      await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
      await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${roles}`);
      await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC, ${roles}`);
      await client.query(`GRANT USAGE ON SCHEMA public TO ${roles}`);
      const tables = (await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)).rows.map(
        (r) => r.name,
      );
      // Owners first: a new owner takes over the old owner's privileges, which the revocation below then takes back
      // to exactly those declared (an owner keeps what ownership itself gives: ALTER, DROP, indexes).
      for (const grant of grants.grants.filter((g) => g.ownsTables)) {
        for (const table of tables.filter((t) => grant.tables?.[t] === undefined)) {
          await client.query(`ALTER TABLE ${ident(client, table)} OWNER TO ${ident(client, grant.role.name)}`);
        }
        // PostgreSQL asks for CREATE on the schema an index is built in, even of the table's owner.
        await client.query(`GRANT CREATE ON SCHEMA public TO ${ident(client, grant.role.name)}`);
      }
      await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, ${roles}`);
      await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, ${roles}`);
      await client.query(`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, ${roles}`);
      for (const name of grants.securityDefiner) await ensureSecurityDefiner(client, name);
      for (const grant of grants.grants) {
        const role = ident(client, grant.role.name);
        for (const table of tables) {
          const privileges = grant.tables?.[table] ?? grant.allTables;
          if (privileges.length > 0) await client.query(`GRANT ${privileges.join(', ')} ON TABLE ${ident(client, table)} TO ${role}`);
        }
        for (const [table, columns] of Object.entries(grant.columns ?? {})) {
          if (!tables.includes(table)) throw new Error(`${grants.name}: table ${table} to grant to ${grant.role.name} does not exist (is the database migrated?)`);
          // Column privileges outlive REVOKE ALL ON ALL TABLES: revoke them column by column, then grant exactly these.
          const all = (await client.query<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [table])).rows;
          await client.query(`REVOKE ALL (${all.map((c) => ident(client, c.name)).join(', ')}) ON TABLE ${ident(client, table)} FROM ${role}`);
          await client.query(`GRANT SELECT (${columns.map((c) => ident(client, c)).join(', ')}) ON TABLE ${ident(client, table)} TO ${role}`);
        }
        if (grant.sequences) await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
        for (const name of grant.functions) {
          const found = await overloads(client, name);
          if (found.length === 0) throw new Error(`${grants.name}: function ${name} to grant to ${grant.role.name} does not exist (is the database migrated?)`);
          for (const fn of found) await client.query(`GRANT EXECUTE ON FUNCTION ${fn} TO ${role}`);
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return passwords;
  } finally {
    await client.end();
  }
}

/**
 * Every overload of `name` runs with its owner's rights and a pinned search_path (pg_temp last, so that no
 * temporary table can stand in for one it names). A migration that already declares both is left as it is.
 */
async function ensureSecurityDefiner(client: Client, name: string): Promise<void> {
  const { rows } = await client.query<{ signature: string; definer: boolean; config: string[] | null }>(
    `SELECT p.oid::regprocedure::text AS signature, p.prosecdef AS definer, p.proconfig AS config
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proname = $1`,
    [name],
  );
  for (const fn of rows) {
    if (!fn.definer) await client.query(`ALTER FUNCTION ${fn.signature} SECURITY DEFINER`);
    if (!(fn.config ?? []).some((setting) => setting.startsWith('search_path='))) {
      await client.query(`ALTER FUNCTION ${fn.signature} SET search_path = pg_catalog, public, pg_temp`);
    }
  }
}

/** `name(argtypes)` of every function of schema public called `name`. */
async function overloads(client: Client, name: string): Promise<string[]> {
  const { rows } = await client.query<{ signature: string }>(
    `SELECT p.oid::regprocedure::text AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.proname = $1 ORDER BY 1`,
    [name],
  );
  return rows.map((r) => r.signature);
}

/**
 * A login role with no power of its own (no superuser, no role or database creation, no RLS bypass, no
 * replication), whatever it had before; its password set when one is given. Without a password a role that
 * does not exist is not created: the error names the variable to set.
 */
async function ensureLoginRole(client: Client, role: LoginRole, password: string | undefined): Promise<void> {
  const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.name])).rowCount === 1;
  const name = ident(client, role.name);
  const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT';
  const withPassword = password ? ` PASSWORD ${client.escapeLiteral(password)}` : '';
  if (!exists) {
    if (!password) {
      throw new MissingRolePasswordError(
        `The database role ${role.name} does not exist and ${role.passwordEnv} is not set: set it to the password ${role.name} should have, then run npm run migrate again.`,
      );
    }
    try {
      await client.query(`CREATE ROLE ${name} ${attributes}${withPassword}`);
      return;
    } catch (error) {
      // Created meanwhile by a concurrent run on the same server: fall through and align it.
      if ((error as { code?: string }).code !== '42710') throw error;
    }
  }
  await client.query(`ALTER ROLE ${name} ${attributes}${withPassword}`);
}

/** The development store of generated passwords next to the embedded PostgreSQL's data folder. */
export function rolePasswordsFile(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), `${path.basename(dataDir)}-role-passwords.json`);
}
