import { Pool, type PoolClient } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { countStatements, type StatementCounter } from './statement-counter';
import type { WriteLimits } from './write-transaction';

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
  /**
   * Every statement of the pool's sessions is cancelled after this long (PostgreSQL's statement_timeout,
   * sent when the session starts): below the gateway's subgraph timeout, so no query outlives its request.
   */
  statementTimeoutMs?: number;
  /**
   * Writes run in Prisma interactive transactions, bounded by their own Prisma timeout and allowed to queue
   * on row locks for longer than a read may take: inside a transaction each statement gets this bound
   * instead (SET LOCAL, sent with BEGIN), and a session left idle inside a transaction this long is ended
   * (idle_in_transaction_session_timeout).
   */
  transactionTimeoutMs?: number;
  /** Where an idle connection's loss is reported (the service's log). */
  log?: (message: string, error?: unknown) => void;
}

export interface Database<Client> {
  prisma: Client;
  pool: Pool;
  /** The bounds of a write's transaction (lib/write-transaction.ts): the statement timeout to start, the transaction timeout to finish. */
  writeLimits: WriteLimits;
  statements: StatementCounter;
  /**
   * Whether the database answers, on a connection of its own: never queued behind the requests' statements (a
   * busy pool is load, not an outage), and not counted with them.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

type PrismaLike = { $disconnect(): Promise<void> };

/** Write limits of a database opened without session timeouts (tools, tests): those of lib/subgraph-config.ts' defaults. */
const DEFAULT_WRITE_START_MS = 4000;
const DEFAULT_WRITE_TIMEOUT_MS = 20_000;
const DEFAULT_CONNECTION_WAIT_MS = 5000;

export function openDatabase<Client extends PrismaLike>(
  options: DatabaseOptions,
  createClient: (adapter: PrismaPg) => Client,
): Database<Client> {
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_WAIT_MS,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.transactionTimeoutMs ? { idle_in_transaction_session_timeout: options.transactionTimeoutMs } : {}),
  });
  if (options.statementTimeoutMs && options.transactionTimeoutMs) widenInTransactions(pool, options.transactionTimeoutMs);
  // An idle client losing its connection must not crash the process; the pool replaces it.
  const log = options.log ?? ((message: string, error?: unknown) => console.error(`[${options.applicationName}] ${message}:`, error));
  pool.on('error', (error) => log('idle database connection lost', error));
  const statements = countStatements(pool);
  const prisma = createClient(new PrismaPg(pool));
  const health = new Pool({
    connectionString: options.url,
    max: 1,
    application_name: `${options.applicationName}-health`,
    connectionTimeoutMillis: 2000,
    statement_timeout: 2000,
  });
  health.on('error', () => undefined); // the next ping reconnects, or says the database is down
  return {
    prisma,
    pool,
    writeLimits: {
      // Never past the pool's own wait, whose failure would read as a database out of reach.
      maxWait: Math.min(options.statementTimeoutMs ?? DEFAULT_WRITE_START_MS, options.connectionTimeoutMs ?? DEFAULT_CONNECTION_WAIT_MS),
      timeout: options.transactionTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
    },
    statements,
    async ping() {
      await health.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
      await health.end();
    },
  };
}

/**
 * Prisma's pg adapter opens an interactive transaction with a statement of exactly `BEGIN` (and nothing
 * else sends that through these pools); each such BEGIN also sets the transaction's own statement timeout,
 * in the same round trip (the simple protocol takes both in one message). SET LOCAL ends with the
 * transaction, so the session's timeout applies again to whatever the pooled connection runs next.
 */
function widenInTransactions(pool: Pool, timeoutMs: number): void {
  const begin = `BEGIN; SET LOCAL statement_timeout = ${Math.round(timeoutMs)}`;
  pool.on('connect', (client: PoolClient) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const [first] = args;
      if (first && typeof first === 'object' && (first as { text?: unknown }).text === 'BEGIN') {
        const values = (first as { values?: unknown[] }).values;
        if (!values || values.length === 0) args[0] = { ...(first as object), text: begin };
      }
      return send(...args);
    };
  });
}
