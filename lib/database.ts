import { Pool } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { countStatements, type StatementCounter } from './statement-counter';

/**
 * One agency database connection: a bounded pg pool, counted, behind Prisma's pg driver adapter.
 * Each subgraph opens exactly one of these for its own database and never another agency's.
 */
export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** For pg_stat_activity: which process holds a connection. */
  applicationName: string;
  /** How long a query may wait for a free connection of the pool (default 5 s), then fails. */
  connectionTimeoutMs?: number;
}

export interface Database<Client> {
  prisma: Client;
  pool: Pool;
  statements: StatementCounter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

type PrismaLike = { $disconnect(): Promise<void> };

export function openDatabase<Client extends PrismaLike>(
  options: DatabaseOptions,
  createClient: (adapter: PrismaPg) => Client,
): Database<Client> {
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => console.error(`[${options.applicationName}] idle database connection lost: ${error.message}`));
  const statements = countStatements(pool);
  const prisma = createClient(new PrismaPg(pool));
  return {
    prisma,
    pool,
    statements,
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
