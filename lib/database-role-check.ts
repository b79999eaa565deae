import { Client, type Pool } from 'pg';
import { redactUrl } from './env';

/**
 * Fail closed on a too-powerful database connection: each service checks at start-up which role its
 * connection has (lib/database-roles.ts gives each its own). A superuser, a role that bypasses row-level
 * security, or the owner of a table the service serves could change or drop what it should only read and
 * write, or switch off the audit store's append-only triggers. In production (NODE_ENV=production) the
 * service then refuses to start, naming the setting to change; in development it logs a warning.
 */
export interface RoleFacts {
  role: string;
  superuser: boolean;
  bypassRls: boolean;
  /** Tables of schema public (of those asked about, or all) that the role owns, itself or through a role it belongs to. */
  ownedTables: string[];
}

export interface Queryable {
  query<R extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export async function inspectRole(db: Queryable, tables?: readonly string[]): Promise<RoleFacts> {
  const { rows } = await db.query<{ role: string; superuser: boolean; bypass_rls: boolean }>(
    'SELECT current_user AS role, rolsuper AS superuser, rolbypassrls AS bypass_rls FROM pg_roles WHERE rolname = current_user',
  );
  const owned = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_has_role(current_user, c.relowner, 'USAGE')
        AND ($1::text[] IS NULL OR c.relname = ANY($1::text[]))
      ORDER BY 1`,
    [tables ? [...tables] : null],
  );
  return { role: rows[0].role, superuser: rows[0].superuser, bypassRls: rows[0].bypass_rls, ownedTables: owned.rows.map((r) => r.name) };
}

/** What is wrong with connecting as this role, in words; empty when nothing is. */
export function roleProblems(facts: RoleFacts): string[] {
  const problems: string[] = [];
  if (facts.superuser) problems.push(`${facts.role} is a superuser`);
  if (facts.bypassRls) problems.push(`${facts.role} bypasses row-level security`);
  if (facts.ownedTables.length > 0) {
    const shown = facts.ownedTables.slice(0, 5).join(', ') + (facts.ownedTables.length > 5 ? `, … (${facts.ownedTables.length})` : '');
    problems.push(`${facts.role} owns the tables it serves (${shown})`);
  }
  return problems;
}

export class PrivilegedConnectionError extends Error {
  name = 'PrivilegedConnectionError';
}

export interface RoleCheckOptions {
  /** The connection to check: a pool the service already has, or its URL (a connection is opened and closed). */
  pool?: Pool;
  url?: string;
  /** The variable that names this connection, for the message: RESIDENTS_DATABASE_URL, AUDIT_DATABASE_URL, ... */
  setting: string;
  /** The service's own role, named in the message as what to use instead. */
  expectedRole?: string;
  production: boolean;
  /** The tables the service serves (default: every table of schema public). */
  tables?: readonly string[];
  /** A derived store the service owns and rebuilds (the statistics read model): owning its tables is no problem there. */
  ownsTables?: boolean;
  warn?: (message: string) => void;
}

/**
 * Resolves when the connection's role is fit for a service. Otherwise, in production, rejects with a
 * PrivilegedConnectionError naming the setting (also when the role cannot be checked at all: fail
 * closed); outside production, warns and resolves.
 */
export async function checkServiceRole(options: RoleCheckOptions): Promise<void> {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const instead = options.expectedRole ? ` Connect as the service's own role (${options.expectedRole}; npm run migrate creates it).` : '';
  let problems: string[];
  try {
    const facts = await withQueryable(options, (db) => inspectRole(db, options.tables));
    problems = roleProblems(options.ownsTables ? { ...facts, ownedTables: [] } : facts);
  } catch (error) {
    const message = `${options.setting}: could not check the database role of ${redactUrl(options.url ?? '(pool)')}: ${(error as Error).message}`;
    if (options.production) throw new PrivilegedConnectionError(`${message}; refusing to start in production.`);
    warn(`[warning] ${message}`);
    return;
  }
  if (problems.length === 0) return;
  const message = `${options.setting} connects as a role too powerful for a service: ${problems.join('; ')}.${instead}`;
  if (options.production) throw new PrivilegedConnectionError(`${message} Refusing to start in production.`);
  warn(`[warning] ${message} (allowed outside production only)`);
}

async function withQueryable<T>(options: RoleCheckOptions, run: (db: Queryable) => Promise<T>): Promise<T> {
  if (options.pool) return run(options.pool as unknown as Queryable);
  if (!options.url) throw new Error('checkServiceRole needs a pool or a url');
  const client = new Client({ connectionString: options.url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await run(client as unknown as Queryable);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The audit store's tables a writing service must not own (lib/audit). */
export const AUDIT_TABLES = ['audit_log', 'audit_chain_head'] as const;
