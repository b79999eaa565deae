import DataLoader from 'dataloader';

/**
 * Entity batching, the one rule every subgraph lives by: within one request, all the lookups of one
 * entity type that GraphQL execution asks for in the same tick are collected by a DataLoader and sent
 * as ONE SQL statement (`WHERE key IN (...)`). The gateway already sends all references of a type in
 * one `_entities` call; the loader makes sure the subgraph's resolvers, which run once per reference,
 * do not turn that back into one query per citizen. List fields (a household's members, a citizen's
 * cards) go through loaders too, so nested lists cost one statement per level, not per parent.
 *
 * A batch function must return exactly one result per key, in the order of the keys (DataLoader's
 * contract); these helpers turn the unordered rows a query returns into that shape.
 * Loaders are created per request (see each subgraph's context.ts) and never shared: their cache
 * would otherwise serve one caller's data to another and keep stale rows forever.
 */

/** The largest IN list one statement gets; beyond it DataLoader splits the batch. */
export const MAX_BATCH = 1000;

/** One row per key (or null), for lookups by a unique key. */
export function oneEach<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): (V | null)[] {
  const byKey = new Map<K, V>();
  for (const row of rows) byKey.set(keyOf(row), row);
  return keys.map((key) => byKey.get(key) ?? null);
}

/** All rows per key (possibly none), for one-to-many lookups; a row may belong to several keys. */
export function manyEach<K, V>(keys: readonly K[], rows: readonly V[], keysOf: (row: V) => K[]): V[][] {
  const byKey = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) {
    for (const key of keysOf(row)) byKey.get(key)?.push(row);
  }
  return keys.map((key) => byKey.get(key)!);
}

export function loader<K, V>(batch: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
  return new DataLoader(batch, { maxBatchSize: MAX_BATCH });
}

/**
 * Rows filed under any of a person's codes (the code in force and cancelled ones), each row once, in
 * `order`. The codes of every person of a request still go to the loader in the same tick, so this
 * stays one statement per batch however many codes people have had.
 */
export async function loadUnderCodes<V extends { id: bigint }>(
  rowsOf: DataLoader<string, V[]>,
  codes: readonly string[],
  order: (a: V, b: V) => number,
): Promise<V[]> {
  if (codes.length === 1) return rowsOf.load(codes[0]);
  const lists = await Promise.all(codes.map((code) => rowsOf.load(code)));
  const byId = new Map<bigint, V>();
  for (const list of lists) for (const row of list) byId.set(row.id, row);
  return [...byId.values()].sort(order);
}
