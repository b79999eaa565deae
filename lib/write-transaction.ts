import { agency, type Agency } from './agencies';
import { conflict, DomainError, unavailable } from './graphql/errors';

/**
 * The interactive transaction every agency's writes run in (residents, national-id, birth registry), with
 * bounds that fit the time a request has, and what the client gets when a busy database cannot take the
 * write in time: a refusal it can act on, never an internal error.
 *
 * Two bounds (Prisma's maxWait and timeout, from the subgraph's settings: lib/database.ts):
 *   - waiting to start (a connection of the pool, BEGIN): the statement timeout (DB_STATEMENT_TIMEOUT_MS, 4 s),
 *     which is below the gateway's SUBGRAPH_TIMEOUT_MS (5 s): a write that cannot even start while the gateway
 *     waits is refused (AGENCY_UNAVAILABLE, reason AGENCY_BUSY) before the gateway gives up on the call;
 *   - the whole transaction, queueing on row locks included: DB_TRANSACTION_TIMEOUT_MS (20 s), the bound of
 *     each statement inside write transactions too. Writes of one citizen, or births of one province (their
 *     numbers come from one counter row), queue behind each other's commits; on a loaded machine (slow
 *     fsyncs) a queue of twenty lasted 7–8 s. A write that started may finish after the gateway gave up; the
 *     writes are safe to repeat (idempotency keys, or a state check under the lock), so a retry finds it.
 *
 * Retried here, as a whole (safe because PostgreSQL rolled the attempt back and the work reads its state
 * afresh inside the transaction): serialization failures and deadlocks, and RetryWrite (the work saw that
 * what it read before locking changed). Not retried: a transaction that could not start or finish in time
 * (retrying would only add to the queue that made it late); the client retries.
 */
export interface WriteLimits {
  /** Longest wait for a connection and BEGIN (Prisma's maxWait). */
  maxWait: number;
  /** Longest life of the transaction (Prisma's timeout). */
  timeout: number;
}

/** Thrown inside a write's transaction when what it read before locking changed meanwhile: run it again. */
export class RetryWrite extends Error {}

const ATTEMPTS = 3;

export interface Transactional<Tx> {
  $transaction<T>(work: (tx: Tx) => Promise<T>, options: { maxWait: number; timeout: number }): Promise<T>;
}

/**
 * Runs `work` in one transaction of `db`, within its write limits, retrying where that is safe. A write the
 * database could not take in time becomes AGENCY_UNAVAILABLE (reason AGENCY_BUSY); one that lost to
 * concurrent changes every time, CONFLICT (CONCURRENT_CHANGE). Unique violations are the caller's to
 * explain (they mean different things to different writes); everything else is thrown as it is.
 */
export async function writeTransaction<Tx, T>(
  db: { prisma: Transactional<Tx>; writeLimits: WriteLimits },
  agencyId: Agency['id'],
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.prisma.$transaction(work, db.writeLimits);
    } catch (error) {
      if (hasCode(error, TOO_SLOW)) throw unavailable('AGENCY_BUSY', { agency: agencyId }, { agency: agency(agencyId).title });
      const again = error instanceof RetryWrite || hasCode(error, LOST_TO_CONCURRENCY);
      if (!again) throw error;
      if (attempt >= ATTEMPTS) throw conflict('CONCURRENT_CHANGE', {});
    }
  }
}

/** The refusal writeTransaction throws when the database could not take the write in time. */
export function isBusyRefusal(error: unknown): boolean {
  return error instanceof DomainError && error.reason === 'AGENCY_BUSY';
}

/** serialization_failure, deadlock_detected: PostgreSQL rolled the transaction back. */
const LOST_TO_CONCURRENCY = new Set(['40001', '40P01']);
/**
 * P2028: Prisma's transaction API: the transaction could not start within maxWait, or outlived its timeout.
 * 55P03 lock_not_available (lock_timeout) and 57014 query_canceled (a statement inside the transaction
 * waited past DB_TRANSACTION_TIMEOUT_MS, a lock wait as a rule): the same, seen from PostgreSQL.
 */
const TOO_SLOW = new Set(['P2028', '55P03', '57014']);

/** The code wherever Prisma and its driver adapter put it: on the error, in meta, or in the adapter's cause. */
function hasCode(error: unknown, codes: ReadonlySet<string>): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown } } } };
    if (
      codes.has(String(candidate.code)) ||
      codes.has(String(candidate.meta?.code)) ||
      codes.has(String(candidate.meta?.driverAdapterError?.cause?.originalCode))
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A unique index refusing what the locks should have prevented (P2002 from Prisma, 23505 from PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  return hasCode(error, UNIQUE);
}
const UNIQUE = new Set(['P2002', '23505']);
