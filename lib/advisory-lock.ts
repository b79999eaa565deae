/**
 * A transaction-scoped PostgreSQL advisory lock on a name: writes that share the name run one after the
 * other, whatever rows they touch, and the lock goes with the transaction's end. For writes with no row to
 * lock (a holder national-id keeps no row for; an idempotency key not yet recorded). hashtext makes the
 * name a lock number: two names may share one, which only makes them wait for each other, never wrong.
 */
export interface RawExecutor {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
}

export async function lockName(tx: RawExecutor, name: string): Promise<void> {
  // $executeRaw: the function returns void, which $queryRaw cannot read back.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${name}))`;
}
