import { Pool } from 'pg';

/**
 * A pool on the audit store (verification, search, the access log). Apart from tools/databases.ts's openPools
 * because the seeding and sampling code that takes openPools' result reads agency data only and must not
 * see it, and because subgraphs need it without the embedded PostgreSQL's module.
 */
export function openAuditPool(auditUrl: string, max = 4, options: { statementTimeoutMs?: number } = {}): Pool {
  const pool = new Pool({
    connectionString: auditUrl,
    max,
    application_name: 'citizen-graph-audit',
    // A service's searches end before the gateway stops waiting for them; verification (no timeout) walks the whole chain.
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  pool.on('error', () => undefined);
  return pool;
}
