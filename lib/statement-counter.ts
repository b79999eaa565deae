import type { Pool, PoolClient } from 'pg';

/**
 * Counts the SQL statements a pool sends. Every client the pool opens is wrapped once, at connect,
 * so queries through pool.query, transactions and raw clients are all seen exactly once.
 * The count is what tests and benchmarks compare: it does not depend on the machine's speed.
 */
export interface StatementCounter {
  readonly total: number;
}

export function countStatements(pool: Pool): StatementCounter {
  const state = { total: 0 };
  pool.on('connect', (client: PoolClient) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      state.total += 1;
      return send(...args);
    };
  });
  return state;
}
