import { Pool } from 'pg';
import type { AuditEntry, AuditSink } from '../access/audit-entry';
import { appendEntries } from './append';
import { assertValidEntry } from './validate';

export interface AuditWriterOptions {
  /** The audit store: a URL (the writer opens and closes its own small pool) or a pool the caller owns. */
  url?: string;
  pool?: Pool;
  /**
   * How long the first entry of an idle writer waits for others before its transaction starts (ms; 0, the
   * default: until the current turn of the event loop ends). While a transaction is in flight, new entries
   * wait for it anyway and all go into the next one: under load that is where the batching happens.
   */
  windowMs?: number;
  /** At most this many records per transaction; more wait for the next one. */
  maxBatch?: number;
  /** Bound on waiting for the chain head and on each statement (ms); record() rejects beyond it. */
  timeoutMs?: number;
  applicationName?: string;
  /** Called after each transaction: its seconds from taking a connection to the commit (or failure), records, outcome (lib/metrics.ts). */
  onTransaction?(seconds: number, records: number, committed: boolean): void;
}

export interface AuditWriterStats {
  /** Transactions committed, and records in them. */
  transactions: number;
  records: number;
  /** Transactions that failed (their callers' record() rejected). */
  failedTransactions: number;
}

export interface AuditWriter extends AuditSink {
  stats(): AuditWriterStats;
  /** Records accepted and not yet committed: waiting for a transaction or in the one in flight (a metric). */
  queued(): number;
  /** The writer's pool (its use is a metric). */
  readonly pool: Pool;
}

interface Pending {
  entries: readonly AuditEntry[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class AuditWriterClosedError extends Error {
  name = 'AuditWriterClosedError';
}

/**
 * The process's writer to the audit store. Call `record(entries)` once per request with everything the
 * request accessed, and send the response only after it resolves: it resolves once the entries are
 * committed, and rejects if they could not be (the caller must then refuse to answer: no unaudited data
 * leaves).
 *
 * Group commit: the entries of concurrent record() calls go into one transaction (one head lock, one
 * commit, one WAL flush), so under load auditing costs one transaction per batch rather than per request.
 * At most one transaction per writer is in flight; entries arriving meanwhile form the next batch, so
 * batches grow by themselves when the store or the head lock is the bottleneck. A failed transaction fails
 * exactly the calls whose entries it carried; each call's entries are in one transaction, all or none.
 * (If the connection drops during COMMIT the outcome is unknown and record() rejects: the request is then
 * refused although its records may exist. A record too many, never one too few.)
 */
export function createAuditWriter(options: AuditWriterOptions): AuditWriter {
  if (!options.pool === !options.url) throw new Error('createAuditWriter needs exactly one of url and pool');
  const ownsPool = !options.pool;
  const pool =
    options.pool ??
    new Pool({ connectionString: options.url, max: 2, application_name: options.applicationName ?? 'citizen-graph-audit-writer' });
  if (ownsPool) pool.on('error', () => undefined); // an idle connection dropped: the next checkout reconnects
  const windowMs = options.windowMs ?? 0;
  const maxBatch = options.maxBatch ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;

  let queue: Pending[] = [];
  let queuedRecords = 0;
  let timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  let inFlight: Promise<void> | null = null;
  let closed = false;
  const stats: AuditWriterStats = { transactions: 0, records: 0, failedTransactions: 0 };

  /** One transaction after another while entries wait: those that arrived meanwhile have waited already. */
  const run = () => {
    inFlight = flush().finally(() => {
      inFlight = null;
      if (queue.length > 0) run();
    });
  };
  const schedule = () => {
    if (inFlight || timer || queue.length === 0) return;
    const start = () => {
      timer = null;
      run();
    };
    // 0: start as soon as this turn of the event loop ends (the calls made in it share the transaction);
    // under load, the calls that arrive while a transaction is in flight share the next one anyway.
    timer = windowMs === 0 ? setImmediate(start) : setTimeout(start, windowMs);
  };

  /** Takes whole calls off the queue up to maxBatch records (a call larger than that goes alone). */
  const takeBatch = (): Pending[] => {
    let count = 0;
    let taken = 0;
    while (taken < queue.length && (taken === 0 || count + queue[taken].entries.length <= maxBatch)) {
      count += queue[taken].entries.length;
      taken += 1;
    }
    const batch = queue.slice(0, taken);
    queue = queue.slice(taken);
    return batch;
  };

  const flush = async (): Promise<void> => {
    const batch = takeBatch();
    if (batch.length === 0) return;
    const entries = batch.flatMap((p) => p.entries);
    const started = process.hrtime.bigint();
    const observe = (committed: boolean) => {
      queuedRecords -= entries.length;
      options.onTransaction?.(Number(process.hrtime.bigint() - started) / 1e9, entries.length, committed);
    };
    try {
      const client = await pool.connect();
      try {
        await appendEntries(client, entries, { timeoutMs });
      } catch (error) {
        // A connection that failed mid-transaction is not reused.
        client.release(error instanceof Error ? error : true);
        throw error;
      }
      client.release();
      stats.transactions += 1;
      stats.records += entries.length;
      observe(true);
      for (const p of batch) p.resolve();
    } catch (error) {
      stats.failedTransactions += 1;
      observe(false);
      for (const p of batch) p.reject(error);
    }
  };

  return {
    record(entries) {
      if (closed) return Promise.reject(new AuditWriterClosedError('The audit writer is closed.'));
      try {
        entries.forEach(assertValidEntry);
      } catch (error) {
        return Promise.reject(error);
      }
      if (entries.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ entries: [...entries], resolve, reject });
        queuedRecords += entries.length;
        schedule();
      });
    },
    async close() {
      closed = true;
      // Whatever was accepted is still written: pending calls resolve (or reject) before the pool goes.
      if (timer) {
        if (windowMs === 0) clearImmediate(timer as NodeJS.Immediate);
        else clearTimeout(timer as NodeJS.Timeout);
        timer = null;
        run();
      }
      while (inFlight) await inFlight;
      if (ownsPool) await pool.end();
    },
    stats: () => ({ ...stats }),
    queued: () => queuedRecords,
    pool,
  };
}
