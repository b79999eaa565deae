import { Client, Pool } from 'pg';
import { AUDIT_STORE } from '../lib/agencies';
import { chainHash, GENESIS_HASH, RECORD_COLUMNS, rowToRecord, type RecordRow } from '../lib/audit/chain';
import { verifyAuditChain } from '../tools/audit/verify';
import { createAuditWriter, type AuditWriter } from '../lib/audit/writer';
import { migrate } from '../tools/migrate';
import { auditEntry, codeNumber, scratchAuditStore, type ScratchAuditStore } from './support/audit';
import { testDatabases } from './support/databases';

/**
 * The audit store and its writer on real PostgreSQL: the migration, append-only enforcement in the
 * database, records committed before record() resolves, group commit, several writers at once (as the
 * three subgraphs and the gateway are), and failures that reject record().
 */
let store: ScratchAuditStore;
const writers: AuditWriter[] = [];
const writer = (options: Partial<Parameters<typeof createAuditWriter>[0]> = {}) => {
  const w = createAuditWriter({ url: store.url, ...options });
  writers.push(w);
  return w;
};
const records = async () => (await store.pool.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM audit_log ORDER BY seq`)).rows.map(rowToRecord);
const count = async () => Number((await store.pool.query('SELECT count(*) AS n FROM audit_log')).rows[0].n);

beforeAll(async () => {
  store = await scratchAuditStore('writer');
});
afterAll(async () => {
  await Promise.all(writers.map((w) => w.close().catch(() => undefined)));
  await store?.drop();
});

describe('the audit database', () => {
  it('is created and migrated beside the agency databases by the test setup', async () => {
    const { auditUrl, urls } = testDatabases();
    expect(new URL(auditUrl).pathname).toBe(`/${AUDIT_STORE.database}`);
    expect(Object.values(urls)).not.toContain(auditUrl);
    expect(await migrate(auditUrl, AUDIT_STORE.migrationsDir)).toEqual([]); // nothing pending
    const shared = createAuditWriter({ url: auditUrl });
    const entry = auditEntry({ requestId: 'shared-store-check' });
    await shared.record([entry]);
    await shared.close();
    const pool = new Pool({ connectionString: auditUrl });
    const { rows } = await pool.query(`SELECT agency, persons FROM audit_log WHERE request_id = 'shared-store-check'`).finally(() => pool.end());
    expect(rows).toEqual([{ agency: 'residents', persons: ['001200342514'] }]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of records, whoever asks (even a superuser)', async () => {
    await writer().record([auditEntry()]);
    const refused = (sql: string) => expect(store.pool.query(sql)).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/append-only/) });
    await refused(`UPDATE audit_log SET subject = 'someone else'`);
    await refused(`DELETE FROM audit_log`);
    await refused(`TRUNCATE audit_log`);
    await refused(`DELETE FROM audit_chain_head`);
    await refused(`TRUNCATE audit_chain_head`);
    await expect(store.pool.query(`UPDATE audit_chain_head SET seq = 0`)).rejects.toMatchObject({ message: expect.stringMatching(/only moves forward/) });
    expect(await count()).toBeGreaterThan(0);
    expect((await verifyAuditChain(store.pool)).intact).toBe(true);
  });
});

describe('record()', () => {
  it('resolves only once the entries are committed, stored as given and chained onto the head', async () => {
    const before = await records();
    const entries = [
      auditEntry({ persons: ['001200342514', '001089000001', '001200342514'], classes: ['RESIDENCE', 'BASIC_IDENTITY', 'RESIDENCE'], purpose: null, callerAgency: null }),
      auditEntry({ action: 'REFUSED', outcome: 'DENIED', persons: [], classes: [] }),
    ];
    const started = new Date(Date.now() - 1000);
    await writer().record(entries);
    // Another connection sees them at once: committed, not merely sent.
    const after = (await records()).slice(before.length);
    expect(after).toHaveLength(2);
    expect(after[0]).toMatchObject({
      format: 2,
      persons: ['001089000001', '001200342514'],
      classes: ['BASIC_IDENTITY', 'RESIDENCE'],
      purpose: null,
      callerAgency: null,
      caseReference: null,
      requestId: entries[0].requestId,
      personalCode: null,
      bulkCount: null,
      changeRef: null,
    });
    expect(after[1]).toMatchObject({ action: 'REFUSED', outcome: 'DENIED', persons: [], classes: [] });
    // The store's clock, for every record.
    expect(after[1].at.getTime()).toBeGreaterThanOrEqual(started.getTime());
    expect(after[1].at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    // Chained: seq continues, prev_hash is the previous hash, hash covers prev_hash and content.
    const last = before[before.length - 1];
    expect(after.map((r) => r.seq)).toEqual([(last?.seq ?? 0) + 1, (last?.seq ?? 0) + 2]);
    expect(after[0].prevHash).toBe(last?.hash ?? GENESIS_HASH);
    expect(after[1].prevHash).toBe(after[0].hash);
    for (const r of after) expect(r.hash).toBe(chainHash(r.prevHash, r));
    const head = (await store.pool.query('SELECT seq::int AS seq, hash FROM audit_chain_head')).rows[0];
    expect(head).toEqual({ seq: after[1].seq, hash: after[1].hash });
  });

  it('rejects a malformed entry without failing the other requests of the same group commit', async () => {
    const w = writer({ windowMs: 20 });
    const before = await count();
    const results = await Promise.allSettled([
      w.record([auditEntry({ requestId: 'good-1' })]),
      w.record([auditEntry({ requestId: 'bad', persons: ['12345'] })]),
      w.record([auditEntry({ requestId: 'bad-class', classes: ['SECRET'] })]),
      // PostgreSQL would refuse this text, and with it the whole shared transaction.
      w.record([auditEntry({ requestId: 'bad-text', subject: 'clerk\u0000' })]),
      w.record([auditEntry({ requestId: 'good-2' })]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/persons must be a list of 12-digit codes/);
    expect(await count()).toBe(before + 2);
    expect(w.stats().transactions).toBe(1);
  });

  it('rejects when the store cannot be written: unreachable, or not migrated', async () => {
    const unreachable = createAuditWriter({ url: 'postgresql://postgres:postgres@127.0.0.1:9/audit', timeoutMs: 2000 });
    await expect(unreachable.record([auditEntry()])).rejects.toThrow();
    await unreachable.close();

    const empty = new URL(store.url);
    empty.pathname = '/postgres'; // a database with no audit tables
    const unmigrated = createAuditWriter({ url: empty.toString() });
    await expect(unmigrated.record([auditEntry()])).rejects.toThrow(/the audit store is not migrated/);
    await unmigrated.close();
  });

  it('rejects after its timeout when the chain head stays locked, and the chain goes on without a gap', async () => {
    const holder = new Client({ connectionString: store.url });
    await holder.connect();
    const w = writer({ timeoutMs: 300 });
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM audit_chain_head FOR UPDATE');
      const started = Date.now();
      await expect(w.record([auditEntry({ requestId: 'blocked' })])).rejects.toMatchObject({ code: '55P03' }); // lock_not_available
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    await w.record([auditEntry({ requestId: 'after-the-block' })]);
    expect((await store.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE request_id = 'blocked'`)).rows[0].n).toBe(0);
    const report = await verifyAuditChain(store.pool);
    expect(report.problems).toEqual([]);
  });

  it('writes what was accepted before close(), and refuses what comes after', async () => {
    const w = createAuditWriter({ url: store.url, windowMs: 50 });
    const before = await count();
    const pending = Promise.all(Array.from({ length: 20 }, () => w.record([auditEntry()])));
    await w.close();
    await pending;
    expect(await count()).toBe(before + 20);
    await expect(w.record([auditEntry()])).rejects.toThrow(/closed/);
  });
});

describe('group commit and concurrent writers', () => {
  it('writes 2,000 records of 200 concurrent callers in a few transactions', async () => {
    const before = await count();
    const w = writer();
    const started = process.hrtime.bigint();
    // 200 requests, each recording 10 persons, all at once, as under load.
    await Promise.all(
      Array.from({ length: 200 }, (_, request) =>
        w.record(Array.from({ length: 10 }, (_, i) => auditEntry({ requestId: `load-${request}`, persons: [codeNumber(request * 10 + i)] }))),
      ),
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const { transactions, records: written } = w.stats();
    console.log(`[audit] group commit: 2000 records from 200 concurrent callers in ${transactions} transaction(s), ${ms.toFixed(0)} ms`);
    expect(written).toBe(2000);
    expect(await count()).toBe(before + 2000);
    expect(transactions).toBeLessThanOrEqual(10); // 1,000 records per transaction at most
    expect((await verifyAuditChain(store.pool)).intact).toBe(true);
  });

  it('keeps one gap-free, correctly linked chain when several processes write at once', async () => {
    const before = await count();
    // Four writers with their own pools and connections: to PostgreSQL, four processes.
    const four = Array.from({ length: 4 }, (_, n) => writer({ windowMs: n }));
    const started = process.hrtime.bigint();
    // Ten rounds, each of which every writer takes part in: whatever the machine's speed, each round puts all four
    // writers' transactions on the chain (at least three switches of agency per round), and within a round they race.
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        four.flatMap((w, n) =>
          Array.from({ length: 10 }, (_, k) => {
            const request = round * 10 + k;
            // Staggered, so that the writers' transactions interleave rather than run one after another.
            return new Promise((resolve) => setTimeout(resolve, request % 17)).then(() =>
              w.record(Array.from({ length: 5 }, (_, i) => auditEntry({ requestId: `w${n}-${request}`, agency: `agency-${n}`, persons: [codeNumber(request * 5 + i)] }))),
            );
          }),
        ),
      );
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const transactions = four.map((w) => w.stats().transactions);
    console.log(`[audit] 4 writers: 2000 records in ${transactions.join('+')} transactions, ${ms.toFixed(0)} ms`);
    expect(await count()).toBe(before + 2000);
    const all = await records();
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    const report = await verifyAuditChain(store.pool);
    expect(report.problems).toEqual([]);
    expect(report.records).toBe(all.length);
    // The writers really interleaved: the agency changes along the chain at least three times per round.
    const newRecords = all.slice(before);
    const switches = newRecords.filter((r, i) => i > 0 && r.agency !== newRecords[i - 1].agency).length;
    expect(switches).toBeGreaterThanOrEqual(30);
    // Each request's records are contiguous: one request, one transaction.
    for (const requestId of ['w0-7', 'w3-99']) {
      const seqs = newRecords.filter((r) => r.requestId === requestId).map((r) => r.seq);
      expect(seqs).toHaveLength(5);
      expect(seqs[4] - seqs[0]).toBe(4);
    }
  });
});
