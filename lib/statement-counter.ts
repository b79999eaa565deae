import type { Pool, PoolClient } from 'pg';

/**
 * Counts the SQL statements a pool sends. Every client the pool opens is wrapped once, at connect,
 * so queries through pool.query, transactions and raw clients are all seen exactly once.
 * The count is what tests and benchmarks compare: it does not depend on the machine's speed.
 */
export interface StatementCounter {
  readonly total: number;
  /** The statements sent since the counter was created, newest last (bounded, for diagnosing a test). */
  readonly recent: readonly string[];
}

const RECENT_LIMIT = 50;

export function countStatements(pool: Pool): StatementCounter {
  const state = { total: 0, recent: [] as string[] };
  pool.on('connect', (client: PoolClient) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      state.total += 1;
      const first = args[0];
      const text = typeof first === 'string' ? first : (first as { text?: string })?.text ?? '';
      state.recent.push(text);
      if (state.recent.length > RECENT_LIMIT) state.recent.shift();
      return send(...args);
    };
  });
  return state;
}
