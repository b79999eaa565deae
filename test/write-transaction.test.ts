import { Client } from 'pg';
import { PrismaClient } from '../prisma/birth-registry/generated/client';
import { openDatabase, type Database } from '../lib/database';
import { DomainError } from '../lib/graphql/errors';
import { writeTransaction } from '../lib/write-transaction';
import { withScratchDatabase } from './support/databases';

/**
 * The write transaction of every agency (lib/write-transaction.ts) on a database of the test's own: what a busy
 * database gives the client (AGENCY_BUSY, nothing written), and the one failure it retries by itself (a deadlock,
 * which PostgreSQL rolled back). The waits are made by holding a connection or a lock until the test lets go,
 * never by the machine's speed.
 */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

async function withDatabase(options: { poolSize: number; statementTimeoutMs: number; transactionTimeoutMs: number }, run: (db: Database<PrismaClient>, url: string) => Promise<void>) {
  await withScratchDatabase('write_transaction', async (url, pool) => {
    await pool.query('CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)');
    await pool.query('INSERT INTO t VALUES (1, 0), (2, 0)');
    const db = openDatabase({ url, applicationName: 'write-transaction-test', ...options }, (adapter) => new PrismaClient({ adapter }));
    try {
      await run(db, url);
    } finally {
      await db.close();
    }
  });
}

const busy = { code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_BUSY', details: { agency: 'Birth registry' } };

describe('a write transaction', () => {
  it('that cannot start while every connection is taken is refused as busy (AGENCY_BUSY), and writes nothing', async () => {
    await withDatabase({ poolSize: 1, statementTimeoutMs: 300, transactionTimeoutMs: 60_000 }, async (db) => {
      const holding = deferred();
      const release = deferred();
      const first = writeTransaction(db, 'birth-registry', async (tx) => {
        holding.resolve();
        await release.promise;
        return tx.$executeRaw`UPDATE t SET n = n + 1 WHERE id = 1`;
      });
      await holding.promise;
      const second = writeTransaction(db, 'birth-registry', (tx) => tx.$executeRaw`UPDATE t SET n = n + 10 WHERE id = 1`);
      await expect(second).rejects.toBeInstanceOf(DomainError);
      await expect(second).rejects.toMatchObject(busy);
      release.resolve();
      await expect(first).resolves.toBe(1);
      expect((await db.pool.query('SELECT n FROM t WHERE id = 1')).rows).toEqual([{ n: 1 }]);
    });
  });

  it('that outlives its bound, queued behind a lock, is refused as busy and rolled back', async () => {
    await withDatabase({ poolSize: 2, statementTimeoutMs: 300, transactionTimeoutMs: 500 }, async (db, url) => {
      const locker = new Client({ connectionString: url });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT * FROM t WHERE id = 2 FOR UPDATE');
        const write = writeTransaction(db, 'birth-registry', async (tx) => {
          await tx.$executeRaw`UPDATE t SET n = n + 1 WHERE id = 1`;
          await tx.$executeRaw`UPDATE t SET n = n + 1 WHERE id = 2`; // waits for the locker, which never lets go in time
        });
        await expect(write).rejects.toMatchObject(busy);
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
      }
      expect((await db.pool.query('SELECT id, n FROM t ORDER BY id')).rows).toEqual([
        { id: 1, n: 0 },
        { id: 2, n: 0 },
      ]);
    });
  });

  it('that PostgreSQL rolls back to break a deadlock is run again: both writes commit', async () => {
    await withDatabase({ poolSize: 2, statementTimeoutMs: 5000, transactionTimeoutMs: 60_000 }, async (db) => {
      const firstLocks = [deferred(), deferred()];
      const attempts = [0, 0];
      // Each takes one row, waits until the other holds its own, then asks for the other's: a deadlock, by construction.
      const write = (mine: 0 | 1) =>
        writeTransaction(db, 'birth-registry', async (tx) => {
          attempts[mine] += 1;
          await tx.$executeRaw`UPDATE t SET n = n + 1 WHERE id = ${mine + 1}`;
          if (attempts[mine] === 1) {
            firstLocks[mine].resolve();
            await firstLocks[1 - mine].promise;
          }
          await tx.$executeRaw`UPDATE t SET n = n + 1 WHERE id = ${2 - mine}`;
        });
      await Promise.all([write(0), write(1)]);
      expect(attempts.sort()).toEqual([1, 2]);
      expect((await db.pool.query('SELECT id, n FROM t ORDER BY id')).rows).toEqual([
        { id: 1, n: 2 },
        { id: 2, n: 2 },
      ]);
    });
  });
});
