import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import DataLoader from 'dataloader';
import { PrismaClient } from '../prisma/birth-registry/generated/client';
import type { Caller } from '../lib/caller';
import { openDatabase, type Database } from '../lib/database';
import { DomainError, UserInputError } from '../lib/graphql/errors';
import { beginWrite, writeTransaction } from '../lib/write-transaction';
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
    await pool.query('CREATE TABLE u (k int UNIQUE)');
    // The change log as every agency's migrations create it (the write kit writes it).
    for (const migration of ['20261127100000_change_log', '20261203000000_change_log_outbox']) {
      await pool.query(fs.readFileSync(path.join(__dirname, '../prisma/birth-registry/migrations', migration, 'migration.sql'), 'utf8'));
    }
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

  it('that a unique index refuses is run again: the next attempt sees the row that won and answers from it', async () => {
    await withDatabase({ poolSize: 2, statementTimeoutMs: 5000, transactionTimeoutMs: 60_000 }, async (db) => {
      await db.pool.query('INSERT INTO u VALUES (1)');
      let attempts = 0;
      const answer = await writeTransaction(db, 'birth-registry', async (tx) => {
        attempts += 1;
        // The first attempt writes as if it had not seen the row (what a lock that let something past would do).
        if (attempts === 1) await tx.$executeRaw`INSERT INTO u VALUES (1)`;
        return 'already there';
      });
      expect({ attempts, answer }).toEqual({ attempts: 2, answer: 'already there' });
    });
  });

  it('that a unique index refuses every time is CONFLICT (CONCURRENT_CHANGE) after three attempts, with nothing written', async () => {
    await withDatabase({ poolSize: 2, statementTimeoutMs: 5000, transactionTimeoutMs: 60_000 }, async (db) => {
      await db.pool.query('INSERT INTO u VALUES (1)');
      let attempts = 0;
      const write = writeTransaction(db, 'birth-registry', async (tx) => {
        attempts += 1;
        await tx.$executeRaw`UPDATE t SET n = n + 1 WHERE id = 1`;
        await tx.$executeRaw`INSERT INTO u VALUES (1)`;
      });
      await expect(write).rejects.toMatchObject({ code: 'CONFLICT', reason: 'CONCURRENT_CHANGE' });
      expect(attempts).toBe(3);
      expect((await db.pool.query('SELECT n FROM t WHERE id = 1')).rows).toEqual([{ n: 0 }]);
    });
  });
});

/** A registrar's request, as an agency subgraph's context carries it. */
function callerOf(actor: string | null): Caller {
  return { actor, requestId: 'write-kit-test', service: null, principal: null, credentialed: true, recordedByGateway: false, permissions: null };
}

describe('the write kit (beginWrite)', () => {
  it('refuses a write without an actor before its transaction starts', async () => {
    await withDatabase({ poolSize: 1, statementTimeoutMs: 5000, transactionTimeoutMs: 60_000 }, async (db) => {
      expect(() => beginWrite({ db, caller: callerOf(null) }, 'birth-registry')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', reason: 'ACTOR_REQUIRED' }));
      expect(() => beginWrite({ db, caller: callerOf('not an actor; DROP') }, 'birth-registry')).toThrow(expect.objectContaining({ reason: 'ACTOR_INVALID' }));
    });
  });

  it('writes the change log as the actor in the write transaction: committed with it, rolled back with it', async () => {
    await withDatabase({ poolSize: 2, statementTimeoutMs: 5000, transactionTimeoutMs: 60_000 }, async (db) => {
      const write = beginWrite({ db, caller: callerOf('registrar:kit') }, 'birth-registry');
      expect(write.by.actor).toBe('registrar:kit');
      await write.transaction(async (tx, logChange) => {
        await tx.$executeRaw`UPDATE t SET n = 5 WHERE id = 1`;
        await logChange({ action: 'SET_N', table: 't', key: '1', details: { to: 5 } });
      });
      const refused = write.transaction(async (tx, logChange) => {
        await tx.$executeRaw`UPDATE t SET n = 6 WHERE id = 2`;
        await logChange({ action: 'SET_N', table: 't', key: '2', details: { to: 6 } });
        throw new UserInputError('refused after logging');
      });
      await expect(refused).rejects.toBeInstanceOf(UserInputError);
      const { rows } = await db.pool.query('SELECT nguoi_thuc_hien, ma_yeu_cau, thao_tac, bang, khoa, chi_tiet FROM cg_nhat_ky_thay_doi');
      expect(rows).toEqual([{ nguoi_thuc_hien: 'registrar:kit', ma_yeu_cau: 'write-kit-test', thao_tac: 'SET_N', bang: 't', khoa: '1', chi_tiet: { to: 5 } }]);
      expect((await db.pool.query('SELECT id, n FROM t ORDER BY id')).rows).toEqual([
        { id: 1, n: 5 },
        { id: 2, n: 0 },
      ]);
    });
  });

  it("clears every loader of the request after the transaction, committed or refused, so later reads see the database", async () => {
    await withDatabase({ poolSize: 2, statementTimeoutMs: 5000, transactionTimeoutMs: 60_000 }, async (db) => {
      const reads: number[] = [];
      const n = new DataLoader<number, number>(async (ids) => {
        const { rows } = await db.pool.query<{ id: number; n: number }>('SELECT id, n FROM t WHERE id = ANY($1) ORDER BY id', [ids]);
        reads.push(ids.length);
        return ids.map((id) => rows.find((row) => row.id === id)!.n);
      });
      const loaders = { n, notALoader: 42 };
      expect(await loaders.n.load(1)).toBe(0);
      const write = beginWrite({ db, caller: callerOf('registrar:kit'), loaders }, 'birth-registry');
      await write.transaction((tx) => tx.$executeRaw`UPDATE t SET n = 7 WHERE id = 1`);
      expect(await loaders.n.load(1)).toBe(7);
      expect(await loaders.n.load(1)).toBe(7);
      await expect(write.transaction(async () => Promise.reject(new UserInputError('no')))).rejects.toBeInstanceOf(UserInputError);
      expect(await loaders.n.load(1)).toBe(7);
      expect(reads).toEqual([1, 1, 1]);
    });
  });
});
