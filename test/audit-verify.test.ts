import { chainHash, RECORD_COLUMNS, rowToRecord, type RecordRow } from '../lib/audit/chain';
import { verifyAuditChain } from '../tools/audit/verify';
import { createAuditWriter } from '../lib/audit/writer';
import { auditEntry, codeNumber, runAuditVerify, type ScratchAuditStore, scratchAuditStore, tamper } from './support/audit';

/**
 * Verification of the hash chain against an attacker with superuser access to the audit database: the
 * append-only trigger disabled, records edited, deleted, reordered, rewritten. Each test gets a chain of
 * its own (10 records) and checks that verify names the record and says how it is wrong.
 */
const stores: ScratchAuditStore[] = [];
let counter = 0;

async function chainOf(records: number): Promise<ScratchAuditStore> {
  counter += 1;
  const store = await scratchAuditStore(`verify_${counter}`);
  stores.push(store);
  const writer = createAuditWriter({ url: store.url });
  // One call per record, one after another: ten transactions, as ten separate requests would write.
  for (let i = 1; i <= records; i += 1) {
    await writer.record([auditEntry({ requestId: `r${i}`, persons: [codeNumber(i)] })]);
    await new Promise((wait) => setTimeout(wait, 3)); // distinct times
  }
  await writer.close();
  return store;
}

const kinds = (report: Awaited<ReturnType<typeof verifyAuditChain>>) => report.problems.map((p) => [p.seq, p.kind]);

afterAll(async () => {
  await Promise.all(stores.map((s) => s.drop()));
});

describe('verifyAuditChain', () => {
  it('passes an intact chain and reports its last record, which the head agrees with', async () => {
    const store = await chainOf(10);
    const report = await verifyAuditChain(store.pool);
    expect(report).toMatchObject({ intact: true, records: 10, problems: [] });
    const head = (await store.pool.query('SELECT seq::int AS seq, hash FROM audit_chain_head')).rows[0];
    expect(report.last).toEqual(head);
  });

  it('hashes in the store exactly as the chain format says, for any text, many persons, a case and a change reference', async () => {
    // The store computes each hash (audit_append); chain.ts specifies it, and verify recomputes it here.
    counter += 1;
    const store = await scratchAuditStore(`verify_${counter}`);
    stores.push(store);
    const writer = createAuditWriter({ url: store.url });
    const awkward = 'clerk:Nguyễn "Văn" \\ A\n\t\u0001 𝔸 €';
    await writer.record([
      auditEntry({ requestId: 'text', subject: awkward, operation: 'citizen(\'x\')' }),
      auditEntry({ requestId: 'many', persons: [codeNumber(3), codeNumber(1), codeNumber(2), codeNumber(1)], caseReference: 'VKS-2026/17 "a"' }),
      auditEntry({ requestId: 'write', action: 'WRITE', persons: [], changeRef: 'residents:42' }),
    ]);
    await writer.close();
    const rows = (await store.pool.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM audit_log ORDER BY seq`)).rows.map(rowToRecord);
    expect(rows.map((r) => [r.requestId, r.subject === awkward, r.format])).toEqual([
      ['text', true, 2],
      ['many', false, 2],
      ['write', false, 2],
    ]);
    expect(rows[1]).toMatchObject({ persons: [codeNumber(1), codeNumber(2), codeNumber(3)], caseReference: 'VKS-2026/17 "a"' });
    expect(rows[2].changeRef).toBe('residents:42');
    for (const row of rows) expect(row.hash).toBe(chainHash(row.prevHash, row));
    expect(await verifyAuditChain(store.pool)).toMatchObject({ intact: true, records: 3 });
  });

  it('names a record whose field was changed', async () => {
    const store = await chainOf(10);
    await tamper(store, `UPDATE audit_log SET subject = 'nobody' WHERE seq = 5`);
    const report = await verifyAuditChain(store.pool);
    expect(report.intact).toBe(false);
    expect(kinds(report)).toEqual([[5, 'CHANGED']]);
    expect(report.problems[0].message).toBe('record #5: changed: its content no longer matches its hash');
  });

  it('names a deleted record (a gap the next record points into)', async () => {
    const store = await chainOf(10);
    await tamper(store, `DELETE FROM audit_log WHERE seq = 5`);
    const report = await verifyAuditChain(store.pool);
    expect(kinds(report)).toEqual([[6, 'MISSING']]);
    expect(report.problems[0].message).toBe('record #6: #5 is missing (deleted) before it, so its prev_hash names a record that is not there');
  });

  it('names records deleted from the end, which leave no gap, from the chain head', async () => {
    const store = await chainOf(10);
    await tamper(store, `DELETE FROM audit_log WHERE seq >= 9`);
    const report = await verifyAuditChain(store.pool);
    expect(kinds(report)).toEqual([[9, 'MISSING']]);
    expect(report.problems[0].message).toMatch(/record #9–#10 are missing \(deleted from the end\)/);
  });

  it('names two swapped records as out of order, not as changed', async () => {
    const store = await chainOf(10);
    await tamper(
      store,
      'UPDATE audit_log SET seq = 1000 WHERE seq = 5',
      'UPDATE audit_log SET seq = 5 WHERE seq = 6',
      'UPDATE audit_log SET seq = 6 WHERE seq = 1000',
    );
    const report = await verifyAuditChain(store.pool);
    expect(kinds(report)).toEqual([
      [5, 'OUT_OF_ORDER'],
      [6, 'OUT_OF_ORDER'],
      [6, 'TIME_BACKWARDS'], // the record now at #6 was dated before the one now at #5
      [7, 'OUT_OF_ORDER'],
    ]);
    expect(report.problems.map((p) => p.message)).toEqual([
      'record #5: out of order: it follows record #6 in the chain, not #4',
      'record #6: out of order: it follows record #4 in the chain, not #5',
      expect.stringMatching(/^record #6: dated .*, before #5 .*: times go backwards/),
      'record #7: out of order: it follows record #5 in the chain, not #6',
    ]);
  });

  it('names the record after one rewritten together with its hash', async () => {
    const store = await chainOf(10);
    const row = rowToRecord((await store.pool.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM audit_log WHERE seq = 5`)).rows[0]);
    const forged = chainHash(row.prevHash, { ...row, subject: 'nobody' });
    await tamper(store, `UPDATE audit_log SET subject = 'nobody', hash = '${forged}' WHERE seq = 5`);
    const report = await verifyAuditChain(store.pool);
    expect(kinds(report)).toEqual([[6, 'BROKEN_LINK']]);
    expect(report.problems[0].message).toMatch(/^record #6: does not follow #5/);
  });

  it('detects a rewrite of the whole tail, every hash recomputed, only against an anchor kept elsewhere', async () => {
    const store = await chainOf(10);
    const before = await verifyAuditChain(store.pool);
    const rows = (await store.pool.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM audit_log WHERE seq >= 5 ORDER BY seq`)).rows.map(rowToRecord);
    let prev = rows[0].prevHash;
    const statements: string[] = [];
    for (const r of rows) {
      const hash = chainHash(prev, { ...r, subject: 'nobody' });
      statements.push(`UPDATE audit_log SET subject = 'nobody', prev_hash = '${prev}', hash = '${hash}' WHERE seq = ${r.seq}`);
      prev = hash;
    }
    // The head is not append-only (it moves), but only forward: the attacker rewrites it in place.
    await tamper(store, ...statements, `UPDATE audit_chain_head SET hash = '${prev}'`);
    expect((await verifyAuditChain(store.pool)).intact).toBe(true); // the limit of any hash chain
    const anchored = await verifyAuditChain(store.pool, { anchor: before.last! });
    expect(kinds(anchored)).toEqual([[10, 'HEAD_MISMATCH']]);
  });
});

describe('npm run audit:verify', () => {

  it('exits 0 on an intact chain, 1 with one line per problem on a tampered one, 2 when it cannot verify', async () => {
    const store = await chainOf(10);
    const intact = await runAuditVerify(store.url, ['--no-checkpoints']);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^audit chain intact: 10 records; last #10 [0-9a-f]{64}\n$/);

    await tamper(store, `UPDATE audit_log SET purpose = 'CURIOSITY' WHERE seq = 3`, `DELETE FROM audit_log WHERE seq = 8`);
    const tampered = await runAuditVerify(store.url, ['--no-checkpoints']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout.trimEnd().split('\n')).toEqual([
      'record #3: changed: its content no longer matches its hash',
      'record #9: #8 is missing (deleted) before it, so its prev_hash names a record that is not there',
    ]);
    expect(tampered.stderr).toMatch(/NOT intact: 2 problem\(s\) in 9 records/);

    const unreachable = await runAuditVerify('postgresql://postgres:postgres@127.0.0.1:9/audit');
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/could not verify/);
  }, 90_000);
});
