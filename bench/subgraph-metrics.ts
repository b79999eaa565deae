import type { Agency } from '../lib/agencies';
import { readMetrics, sampleSum } from './prometheus-text';

/**
 * The subgraphs' own counters (their Prometheus metrics, GET /metrics on each one's metrics listener: GraphQL
 * requests served, SQL statements sent to the agency database), which do not depend on the machine's speed. A measurement takes them before and after, once settled; the deltas, divided
 * by the requests the load generator sent, give subgraph calls and SQL statements per request.
 */
export interface SubgraphCounters {
  graphqlRequests: number;
  sqlStatements: number;
}

export type CountersBySubgraph = Record<Agency['id'], SubgraphCounters>;

async function readCounters(metricsUrls: Record<Agency['id'], string>): Promise<CountersBySubgraph> {
  const entries = await Promise.all(
    Object.entries(metricsUrls).map(async ([id, url]) => {
      const samples = await readMetrics(url);
      return [
        id,
        {
          graphqlRequests: sampleSum(samples, 'citizen_graph_graphql_request_duration_seconds_count'),
          sqlStatements: sampleSum(samples, 'citizen_graph_db_statements_total', { pool: id }),
        },
      ] as const;
    }),
  );
  return Object.fromEntries(entries) as CountersBySubgraph;
}

/**
 * The counters once they have stopped moving. A load run ends by dropping its connections, but the servers
 * finish the requests in flight; reading too early would credit their statements to the next measurement.
 */
export async function readSettledCounters(metricsUrls: Record<Agency['id'], string>, timeoutMs = 30_000): Promise<CountersBySubgraph> {
  const deadline = Date.now() + timeoutMs;
  let previous = await readCounters(metricsUrls);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_INTERVAL_MS));
    const current = await readCounters(metricsUrls);
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    if (Date.now() > deadline) throw new Error(`the subgraphs were still busy ${timeoutMs / 1000} s after the load stopped`);
    previous = current;
  }
}

const SETTLE_INTERVAL_MS = 300;

export function countersDelta(before: CountersBySubgraph, after: CountersBySubgraph): CountersBySubgraph {
  const delta = {} as CountersBySubgraph;
  for (const id of Object.keys(after) as Agency['id'][]) {
    delta[id] = {
      graphqlRequests: after[id].graphqlRequests - before[id].graphqlRequests,
      sqlStatements: after[id].sqlStatements - before[id].sqlStatements,
    };
  }
  return delta;
}

export function totalCounters(counters: CountersBySubgraph): SubgraphCounters {
  const all = Object.values(counters);
  return {
    graphqlRequests: all.reduce((sum, c) => sum + c.graphqlRequests, 0),
    sqlStatements: all.reduce((sum, c) => sum + c.sqlStatements, 0),
  };
}
