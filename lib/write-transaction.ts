import { agency, type Agency } from './agencies';
import { requireActor, type Caller } from './caller';
import { recordChange, type ChangeEntry, type RawExecutor } from './change-log';
import { conflict, DomainError, unavailable } from './graphql/errors';

/**
 * The write kit every agency's writes use (residents, national-id, birth registry, and any agency added
 * after them): beginWrite below is the whole of its API for an agency. In order:
 *
 *   const write = beginWrite(ctx, 'national-id');   // the actor first: UNAUTHENTICATED without one
 *   ...check the input...                           // nothing read or written yet
 *   const card = await write.transaction(async (tx, logChange) => {
 *     ...lock, read, decide, write with tx...
 *     await logChange({ action: 'ISSUE_CARD', table: 'the_can_cuoc', key, personalCode, details });
 *     return created;
 *   });                                             // committed; the request's loaders forgot what they held
 *
 * What it does for every write: one transaction with the bounds below; the retries below (serialization
 * failures, deadlocks, RetryWrite, unique violations), a unique violation that persists becoming CONFLICT
 * (CONCURRENT_CHANGE); a busy database becoming AGENCY_UNAVAILABLE (AGENCY_BUSY); the change-log entry
 * (lib/change-log.ts) written in the same transaction as the actor; the request's loaders cleared once the
 * transaction is over, so what the mutation returns, and anything read later in the request, is what was
 * committed.
 *
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
 * afresh inside the transaction): serialization failures and deadlocks, RetryWrite (the work saw that
 * what it read before locking changed), and unique violations (a unique index refused what the locks should
 * have prevented: run again, the work now sees the row that won and gives its own precise refusal, such as
 * CARD_ALREADY_VALID). Not retried: a transaction that could not start or finish in time (retrying would
 * only add to the queue that made it late); the client retries.
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
 * concurrent changes (or to a unique index) every time, CONFLICT (CONCURRENT_CHANGE); everything else is
 * thrown as it is. beginWrite's transaction is this plus the actor, the change log and the loaders.
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
      const again = error instanceof RetryWrite || hasCode(error, LOST_TO_CONCURRENCY) || hasCode(error, UNIQUE);
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
const UNIQUE = new Set(['P2002', '23505']);

/** Who writes: the request's caller with its actor checked (the principal's subject; a service's on whose behalf). */
export type Actor = Caller & { actor: string };

/** Writes one change-log entry in the write's transaction, as its actor. */
export type LogChange = (entry: ChangeEntry) => Promise<void>;

/** What a write needs of its request: an agency subgraph's context has all of it. */
export interface WriteScope<Tx> {
  db: { prisma: Transactional<Tx>; writeLimits: WriteLimits };
  caller: Caller;
  /** The request's loaders, each cleared after the transaction; background work, which has none, leaves it out. */
  loaders?: object;
}

export interface Write<Tx> {
  /** Who writes (checked when the write began). */
  readonly by: Actor;
  /** `work` in one transaction (writeTransaction), with the change log bound to it; then the loaders forget. */
  transaction<T>(work: (tx: Tx, logChange: LogChange) => Promise<T>): Promise<T>;
}

/**
 * Begins a write of `agencyId` for the request in `scope`: requires the actor before anything else is read or
 * written (UNAUTHENTICATED, ACTOR_REQUIRED or ACTOR_INVALID, without one).
 */
export function beginWrite<Tx extends RawExecutor>(scope: WriteScope<Tx>, agencyId: Agency['id']): Write<Tx> {
  const by: Actor = { ...scope.caller, actor: requireActor(scope.caller) };
  return {
    by,
    async transaction(work) {
      try {
        return await writeTransaction(scope.db, agencyId, (tx) => work(tx, (entry) => recordChange(tx, by, entry)));
      } finally {
        forget(scope.loaders);
      }
    },
  };
}

/** Clears every DataLoader of a request's loaders (a cleared loader reads afresh; nothing else changes). */
function forget(loaders: object | undefined): void {
  for (const loader of Object.values(loaders ?? {})) {
    if (typeof (loader as { clearAll?: unknown }).clearAll === 'function') (loader as { clearAll(): void }).clearAll();
  }
}
