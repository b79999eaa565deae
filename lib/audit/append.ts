import type { PoolClient, QueryResult } from 'pg';
import type { AuditEntry } from '../access/audit-entry';
import { canonicalTail, toChainedFields } from './chain';

/**
 * Appends entries to the chain in one transaction: lock the chain head, hash each entry onto it, insert
 * them all, move the head, commit. Resolves once committed.
 *
 * How the chain stays single, gap-free and in order while the three subgraphs and the gateway (and any
 * number of replicas of each) append at once, each with its own connections:
 *
 * Each record's prev_hash must be the hash of the record committed just before it, and its seq that
 * record's seq + 1. Reading "the last record" and writing the next one must therefore be one indivisible
 * step across all processes: a mutual exclusion held from the read of the tip until the new tip is
 * committed and visible. Only the database can give that to separate processes, and there are three ways:
 *
 * 1. The one-row head table, `SELECT ... FOR UPDATE` (chosen). The row lock is held until our COMMIT or
 *    ROLLBACK, so writers queue on it; and the row lock brings the right *read* with it: under READ
 *    COMMITTED, a SELECT FOR UPDATE that waited for another transaction re-reads the row's newest committed
 *    version, whatever the statement's snapshot was. The tip we chain onto is therefore always the latest,
 *    by the rules of row locking rather than by an argument about snapshots. Under REPEATABLE READ or
 *    SERIALIZABLE (say a pool configured with a stricter default) it cannot be given a stale row either:
 *    PostgreSQL raises a serialization failure instead, so the worst case is a refused record (the caller
 *    refuses to answer), never a fork. The same row is also the chain's tail anchor: it says what the last
 *    record is, so deleting records from the *end* of the chain, which leaves no gap, is still detected by
 *    audit:verify. Its cost, one row UPDATE per transaction (a HOT update, fillfactor 50), is paid once
 *    per group commit, not per record.
 *
 * 2. A transaction-scoped advisory lock (pg_advisory_xact_lock), then `SELECT ... ORDER BY seq DESC LIMIT 1`.
 *    Also a mutual exclusion, but the read of the tip is a separate, ordinary statement whose correctness
 *    depends on when its snapshot is taken: fine in READ COMMITTED (a new snapshot per statement, taken
 *    after the lock was granted), silently wrong under REPEATABLE READ if any statement ran before the lock
 *    (the snapshot predates the previous writer's commit: two records with the same prev_hash, a fork).
 *    Advisory lock numbers are also one namespace for the whole database, shared with anything else that
 *    uses them (Prisma's migration lock, lib/advisory-lock.ts' hashed names), and invisible in the schema.
 *    And it has no tail anchor.
 *
 * 3. A SEQUENCE for seq. Sequences are not transactional: a rolled-back append burns its numbers, which
 *    leaves gaps indistinguishable from deleted records; and nextval order is not commit order, so a
 *    record could commit before the one it must link to. It would still need a lock for prev_hash.
 *
 * (SERIALIZABLE with retries instead of a lock would turn every concurrent append into a conflict and retry
 * storm: all appends touch the same tip by definition.)
 *
 * The lock is held from the head's read to the commit, so the whole system appends at most about
 * 1 / (that time) transactions per second, whatever the number of processes. Two things keep that time short:
 *
 * - Appending is one statement, the audit_append function (prisma/audit/migrations/20261203000000_persons_
 *   format_2), sent with BEGIN, the timeouts and COMMIT in one message: the head is held for the function's
 *   inserts and the commit's WAL flush, never across a round trip to this process. The function computes
 *   the hashes too (the time is hashed, and it is the store's clock once the head is granted, never earlier
 *   than the head's last time); this process
 *   sends each entry's canonical form without the time (chain.ts). With four round trips and the hashing
 *   here, an append of one record cost PostgreSQL 1.2 ms of CPU and this process 0.7 ms, and took 2.2 ms;
 *   this way about 0.7 ms, 0.4 ms and 1.3 ms (`npx tsx bench/audit-append.ts`).
 * - The writer (writer.ts) groups the entries of concurrent requests into one transaction: while one
 *   process holds the head, the others accumulate entries, and their next transaction carries all of them.
 *   Batches grow with load, so the lock is taken far less often than records are written.
 *
 * lock_timeout and statement_timeout bound the wait: a stuck holder makes record() reject (and the caller
 * refuse to answer) instead of hanging every request.
 */
export interface AppendOptions {
  /** Upper bound on waiting for the head and on each statement, in milliseconds. */
  timeoutMs: number;
}

export interface AppendResult {
  /** The records appended are firstSeq..lastSeq; none (lastSeq = firstSeq - 1) when every entry's changeRef was already recorded. */
  firstSeq: number;
  lastSeq: number;
}

export async function appendEntries(client: PoolClient, entries: readonly AuditEntry[], options: AppendOptions): Promise<AppendResult> {
  if (entries.length === 0) throw new Error('appendEntries needs at least one entry');
  const timeout = Math.max(1, Math.round(options.timeoutMs));
  const rows = entries.map((entry) => {
    const fields = toChainedFields(entry);
    // No time: the store dates every record itself (and ignores any a client sends).
    return {
      tail: canonicalTail(fields),
      request_id: fields.requestId,
      subject: fields.subject,
      role: fields.role,
      caller_agency: fields.callerAgency,
      purpose: fields.purpose,
      case_reference: fields.caseReference,
      agency: fields.agency,
      action: fields.action,
      operation: fields.operation,
      persons: fields.persons,
      classes: fields.classes,
      outcome: fields.outcome,
      change_ref: fields.changeRef,
    };
  });
  // The simple protocol takes several statements in one message but no parameters, hence the literal.
  // SET LOCAL ends with the transaction: the pooled connection keeps its own settings afterwards. The
  // statement timeout is the wider one, so that a wait for the head fails as a lock timeout (55P03).
  const sql =
    `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${timeout}; SET LOCAL statement_timeout = ${2 * timeout}; ` +
    `SELECT first_seq::text AS first, last_seq::text AS last FROM audit_append(${client.escapeLiteral(JSON.stringify(rows))}::json); COMMIT`;
  try {
    const results = (await client.query(sql)) as unknown as QueryResult<{ first: string; last: string }>[];
    const appended = results.find((result) => result.command === 'SELECT')?.rows[0];
    if (!appended) throw new Error('audit_append returned nothing');
    return { firstSeq: Number(appended.first), lastSeq: Number(appended.last) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: string }).code === '42883') {
      throw new Error('the audit store is not migrated: audit_chain_head and audit_append are missing (npm run migrate)', { cause: error });
    }
    throw error;
  }
}
