import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { createCheckpointer, loadCheckpointSigner, readPublicKeys, verifyCheckpointFile, type CheckpointLine } from '../lib/audit/checkpoint';
import { verifyAuditChain } from '../tools/audit/verify';
import { createAuditWriter } from '../lib/audit/writer';
import { testDatabases } from './support/databases';
import { eventually } from './support/eventually';
import { auditEntry, chainRows as rows, codeNumber, rechainStatements, runAuditVerify, type ScratchAuditStore, scratchAuditStore, tamper } from './support/audit';

/**
 * Signed checkpoints of the chain head against an attacker with superuser access to the audit database, who
 * can do what a hash chain alone cannot show: delete the tail and move the head back, delete a request's
 * records and re-chain everything after them, insert a backdated record and re-chain. Each is reported once
 * the chain is checked against the checkpoints kept outside the database (and signed with a key it never holds).
 */
const stores: ScratchAuditStore[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-checkpoints-'));
let counter = 0;

afterAll(async () => {
  await Promise.all(stores.map((s) => s.drop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function chainOf(records: number, from = 1, existing?: ScratchAuditStore): Promise<ScratchAuditStore> {
  let store = existing;
  if (!store) {
    counter += 1;
    store = await scratchAuditStore(`checkpoint_${counter}`);
    stores.push(store);
  }
  const writer = createAuditWriter({ url: store.url });
  for (let i = from; i < from + records; i += 1) {
    await writer.record([auditEntry({ requestId: `r${i}`, subject: `clerk:${i}`, persons: [codeNumber(i)] })]);
    await new Promise((wait) => setTimeout(wait, 3)); // distinct times
  }
  await writer.close();
  return store;
}

/** A checkpointer of the test key on a file of the test's own; checkpoints the head now. */
async function checkpoint(store: ScratchAuditStore, file = path.join(dir, `c${counter}.jsonl`)) {
  const signer = await loadCheckpointSigner(testDatabases().checkpointKeyFile);
  const checkpointer = createCheckpointer({ pool: store.pool, signer, file, intervalMs: 0 });
  const line = await checkpointer.checkpoint();
  return { file, line, checkpointer };
}

const verifyAgainst = async (store: ScratchAuditStore, file: string) => {
  const verified = await verifyCheckpointFile(file, readPublicKeys(testDatabases().checkpointJwksFile));
  expect(verified.problems).toEqual([]);
  return verifyAuditChain(store.pool, { checkpoints: verified.checkpoints });
};

const kinds = (report: Awaited<ReturnType<typeof verifyAuditChain>>) => report.problems.map((p) => [p.seq, p.kind]);

describe('the checkpointer', () => {
  it('signs the head when it moved, and only then; a last checkpoint at stop', async () => {
    const store = await chainOf(3);
    const { file, line, checkpointer } = await checkpoint(store);
    expect(line).toMatchObject({ seq: 3, hash: expect.stringMatching(/^[0-9a-f]{64}$/), at: expect.any(String), jws: expect.any(String) });
    expect(await checkpointer.checkpoint()).toBeNull(); // the head did not move
    await chainOf(2, 4, store);
    await checkpointer.stop();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CheckpointLine);
    expect(lines.map((l) => l.seq)).toEqual([3, 5]);
    const verified = await verifyCheckpointFile(file, readPublicKeys(testDatabases().checkpointJwksFile));
    expect(verified).toEqual({ checkpoints: lines.map(({ jws: _jws, ...c }) => c), problems: [] });
    expect(await verifyAgainst(store, file)).toMatchObject({ intact: true, records: 5 });
  });

  it('checkpoints on its own every intervalMs while the head moves', async () => {
    const store = await chainOf(1);
    const file = path.join(dir, 'timer.jsonl');
    const checkpointer = createCheckpointer({ pool: store.pool, signer: await loadCheckpointSigner(testDatabases().checkpointKeyFile), file, intervalMs: 50 });
    checkpointer.start();
    try {
      const seqs = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as CheckpointLine).seq) : []);
      await eventually(seqs, (s) => s.length >= 1);
      await chainOf(1, 2, store);
      await eventually(seqs, (s) => s.length >= 2);
      // The head did not move since: a look at it writes nothing, and neither does the last one at stop.
      expect(await checkpointer.checkpoint()).toBeNull();
      await checkpointer.stop();
      expect(seqs()).toEqual([1, 2]);
    } finally {
      await checkpointer.stop();
    }
  });

  it('reports a forged checkpoint (signed with another key) and an altered one', async () => {
    const store = await chainOf(2);
    const { file } = await checkpoint(store);
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const forgedPayload = { seq: 1, hash: '1'.repeat(64), at: new Date().toISOString(), signedAt: new Date().toISOString() };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(forgedPayload))).setProtectedHeader({ alg: 'EdDSA', kid: (await exportJWK(pair.publicKey)).x }).sign(pair.privateKey);
    const genuine = JSON.parse(fs.readFileSync(file, 'utf8').trim()) as CheckpointLine;
    fs.appendFileSync(file, JSON.stringify({ ...forgedPayload, jws }) + '\n' + JSON.stringify({ ...genuine, seq: 1 }) + '\n');
    const verified = await verifyCheckpointFile(file, readPublicKeys(testDatabases().checkpointJwksFile));
    expect(verified.checkpoints).toHaveLength(2); // the genuine one, and the altered line's signed content
    expect(verified.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^checkpoint line 2: forged: its signature does not verify/),
      'checkpoint line 3: altered: its fields are not what is signed',
    ]);
  });
});

describe('verifying against checkpoints reports what the chain alone cannot show', () => {
  it('the tail truncated: last records deleted and the head moved back', async () => {
    const store = await chainOf(10);
    const { file } = await checkpoint(store);
    const eighth = (await rows(store))[7];
    await tamper(store, 'DELETE FROM audit_log WHERE seq > 8', `UPDATE audit_chain_head SET seq = 8, hash = '${eighth.hash}', at = '${eighth.at.toISOString()}'`);
    expect((await verifyAuditChain(store.pool)).intact).toBe(true); // what a hash chain alone says
    const report = await verifyAgainst(store, file);
    expect(kinds(report)).toEqual([[9, 'TRUNCATED']]);
    expect(report.problems[0].message).toMatch(/^the chain head names record #8, behind the checkpoint of #10 signed at .*: records #9–#10 were removed/);
  });

  it("one request's records deleted and everything after them re-chained, hashes and head recomputed", async () => {
    const store = await chainOf(10);
    const { file } = await checkpoint(store);
    await chainOf(2, 11, store); // records after the checkpoint
    await tamper(store, `DELETE FROM audit_log WHERE request_id = 'r5'`, 'UPDATE audit_log SET seq = seq + 999999 WHERE seq > 5', 'UPDATE audit_log SET seq = seq - 1000000 WHERE seq > 5');
    await tamper(store, ...(await rechainStatements(store, 5)));
    expect((await verifyAuditChain(store.pool)).intact).toBe(true);
    const report = await verifyAgainst(store, file);
    expect(kinds(report)).toEqual([[10, 'CHECKPOINT_MISMATCH']]);
    expect(report.problems[0].message).toMatch(/^record #10: its hash is not the one checkpointed at /);
  });

  it('a backdated record blaming another official, inserted after a checkpoint and re-chained', async () => {
    const store = await chainOf(10);
    const { file } = await checkpoint(store);
    await chainOf(2, 11, store);
    const third = (await rows(store))[2];
    await tamper(
      store,
      'UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= 12',
      'UPDATE audit_log SET seq = seq - 999999 WHERE seq >= 12',
      `INSERT INTO audit_log (seq, format, at, request_id, subject, role, caller_agency, purpose, agency, action, operation, persons, classes, outcome, prev_hash, hash)
       VALUES (12, 2, '${third.at.toISOString()}', 'framed', 'clerk:innocent', 'CLERK', 'residents', 'SERVICE_COUNTER', 'residents', 'READ', 'citizen',
               ARRAY['${codeNumber(77)}'], ARRAY['BASIC_IDENTITY', 'SENSITIVE'], 'OK', repeat('0', 64), repeat('0', 64))`,
    );
    await tamper(store, ...(await rechainStatements(store, 12)));
    expect((await rows(store)).map((r) => r.requestId).slice(10)).toEqual(['r11', 'framed', 'r12']);
    const report = await verifyAgainst(store, file);
    expect(kinds(report)).toEqual([
      [12, 'TIME_BACKWARDS'],
      [12, 'BACKDATED'],
    ]);
    expect(report.problems[1].message).toMatch(/^record #12: dated .*, before the checkpoint of #10 .* backdated/);
  });

  it('a backdated record inserted before a checkpoint and re-chained breaks the checkpointed hash', async () => {
    const store = await chainOf(10);
    const { file } = await checkpoint(store);
    const third = (await rows(store))[2];
    await tamper(
      store,
      'UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= 4',
      'UPDATE audit_log SET seq = seq - 999999 WHERE seq >= 4',
      `INSERT INTO audit_log (seq, format, at, request_id, subject, role, caller_agency, purpose, agency, action, operation, persons, classes, outcome, prev_hash, hash)
       VALUES (4, 2, '${third.at.toISOString()}', 'framed', 'clerk:innocent', 'CLERK', 'residents', 'SERVICE_COUNTER', 'residents', 'READ', 'citizen',
               ARRAY['${codeNumber(77)}'], ARRAY['BASIC_IDENTITY'], 'OK', repeat('0', 64), repeat('0', 64))`,
    );
    await tamper(store, ...(await rechainStatements(store, 4)));
    expect((await verifyAuditChain(store.pool)).intact).toBe(true);
    expect(kinds(await verifyAgainst(store, file))).toEqual([[10, 'CHECKPOINT_MISMATCH']]);
  });
});

describe('npm run audit:verify with checkpoints', () => {

  it('exits 0 when intact against them, 1 on a truncated chain or a forged checkpoint, 2 when a named file is missing', async () => {
    const store = await chainOf(4);
    const { file } = await checkpoint(store);
    const key = testDatabases().checkpointJwksFile;
    const intact = await runAuditVerify(store.url, ['--checkpoints', file, '--key', key]);
    expect(intact.stdout).toMatch(/^audit chain intact: 4 records; last #4 [0-9a-f]{64}; 1 checkpoint\(s\) verified\n$/);
    expect(intact.code).toBe(0);

    const third = (await rows(store))[2];
    await tamper(store, 'DELETE FROM audit_log WHERE seq = 4', `UPDATE audit_chain_head SET seq = 3, hash = '${third.hash}', at = '${third.at.toISOString()}'`);
    const truncated = await runAuditVerify(store.url, ['--checkpoints', file, '--key', key]);
    expect(truncated.code).toBe(1);
    expect(truncated.stdout).toMatch(/^the chain head names record #3, behind the checkpoint of #4/);

    const otherKey = path.join(dir, 'other.jwks.json');
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    fs.writeFileSync(otherKey, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'EdDSA' }] }));
    const forged = await runAuditVerify(store.url, ['--checkpoints', file, '--key', otherKey]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/checkpoint line 1: forged/);

    const missing = await runAuditVerify(store.url, ['--checkpoints', path.join(dir, 'none.jsonl'), '--key', key]);
    expect(missing.code).toBe(2);
  }, 120_000);
});
