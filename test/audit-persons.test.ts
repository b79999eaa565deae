import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { AuditEntry } from '../lib/access/audit-entry';
import { auditEntries } from '../lib/access/subgraph-access';
import { AUDIT_STORE } from '../lib/agencies';
import { chainHash, RECORD_COLUMNS, rowToRecord, type RecordRow } from '../lib/audit/chain';
import { migrate, readMigrations } from '../tools/migrate';
import { citizenAccessLog, searchAuditLog } from '../lib/audit/search';
import { verifyAuditChain } from '../tools/audit/verify';
import { createAuditWriter } from '../lib/audit/writer';
import { testDatabases } from './support/databases';
import { auditEntry, codeNumber, scratchAuditStore, type ScratchAuditStore } from './support/audit';

/**
 * Every access is recorded and nothing is hidden: one record per request, agency and kind of access names
 * every person it covers (no anonymous bulk summary), and the store, not the client, dates it.
 */
let store: ScratchAuditStore;
beforeAll(async () => {
  store = await scratchAuditStore('persons');
});
afterAll(async () => store?.drop());

const TARGET = '079185000123';

describe('a bulk read', () => {
  it('names the person after 101 decoys: an auditor finds the record by their code, and so does the citizen', async () => {
    const writer = createAuditWriter({ url: store.url });
    const decoys = Array.from({ length: 101 }, (_, i) => auditEntry({ requestId: 'decoys', subject: 'clerk:curious', persons: [codeNumber(i)] }));
    await writer.record([...decoys, auditEntry({ requestId: 'decoys', subject: 'clerk:curious', persons: [TARGET] })]);
    await writer.close();
    const found = await searchAuditLog(store.pool, { personalCode: TARGET, first: 10 });
    expect(found.entries).toHaveLength(1);
    expect(found.entries[0]).toMatchObject({ requestId: 'decoys', subject: 'clerk:curious', persons: [TARGET], bulkCount: null });
    const own = await citizenAccessLog(store.pool, TARGET, { first: 10 });
    expect(own.entries).toEqual([expect.objectContaining({ agency: 'residents', action: 'READ', classes: ['BASIC_IDENTITY'] })]);
    // No record without persons, no summary.
    const { rows } = await store.pool.query(`SELECT count(*)::int AS n, sum(cardinality(persons))::int AS persons FROM audit_log WHERE request_id = 'decoys'`);
    expect(rows[0]).toEqual({ n: 102, persons: 102 });
  });

  it('is one record per agency and kind of access in a subgraph: persons grouped by their set of classes, sorted', () => {
    const persons = new Map<string, Set<string>>();
    for (let i = 150; i >= 0; i -= 1) persons.set(codeNumber(i), new Set(i % 50 === 0 ? ['RESIDENCE', 'BASIC_IDENTITY'] : ['BASIC_IDENTITY']));
    persons.set(TARGET, new Set(['BASIC_IDENTITY']));
    const principal = { subject: 'police:7', role: 'INVESTIGATOR' as const, agency: 'police', personalCode: null, purpose: 'POLICE_CASE', caseReference: 'CA-2026/99', requestId: 'r-bulk' };
    const ctx = { caller: { principal, service: null }, access: { persons, operations: new Set(['citizens']), wrote: false, refusals: [] } };
    const entries = auditEntries(ctx as unknown as Parameters<typeof auditEntries>[0], 'residents', 'OK');
    expect(entries.map((e) => [e.classes, e.persons.length])).toEqual([
      [['BASIC_IDENTITY'], 148],
      [['BASIC_IDENTITY', 'RESIDENCE'], 4],
    ]);
    expect(entries[0].persons).toEqual([...entries[0].persons].sort());
    expect(entries[0].persons).toContain(TARGET);
    expect(entries[0]).toMatchObject({ caseReference: 'CA-2026/99', requestId: 'r-bulk', operation: 'citizens', action: 'READ' });
  });
});

describe('the time of a record', () => {
  it("is the store's: a time a client sends is ignored", async () => {
    const writer = createAuditWriter({ url: store.url });
    const started = Date.now() - 1000;
    const backdated = { ...auditEntry({ requestId: 'backdated' }), at: new Date('2020-01-01T00:00:00Z') } as AuditEntry;
    await writer.record([backdated]);
    await writer.close();
    const { rows } = await store.pool.query(`SELECT at FROM audit_log WHERE request_id = 'backdated'`);
    expect(rows[0].at.getTime()).toBeGreaterThanOrEqual(started);
    expect(rows[0].at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('never goes backwards along the chain, even when the clock does (the head keeps the last time)', async () => {
    const future = new Date(Date.now() + 3_600_000);
    await store.pool.query('UPDATE audit_chain_head SET at = $1', [future]);
    const writer = createAuditWriter({ url: store.url });
    await writer.record([auditEntry({ requestId: 'after-clock-jump' })]);
    await writer.close();
    const { rows } = await store.pool.query(`SELECT at FROM audit_log WHERE request_id = 'after-clock-jump'`);
    expect(rows[0].at.getTime()).toBe(future.getTime());
    expect((await store.pool.query('SELECT at FROM audit_chain_head')).rows[0].at.getTime()).toBe(future.getTime());
  });

  it('a WRITE shipped twice from an outbox (same changeRef) is recorded once', async () => {
    const writer = createAuditWriter({ url: store.url });
    const write = auditEntry({ requestId: 'shipped', action: 'WRITE', changeRef: 'residents:7' });
    await writer.record([write, write]);
    await writer.record([write]);
    await writer.close();
    const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE change_ref = 'residents:7'`);
    expect(rows[0].n).toBe(1);
    expect((await verifyAuditChain(store.pool)).intact).toBe(true);
  });
});

describe('records of chain format 1', () => {
  it('are still verified after the migration to format 2, and searched by their person', async () => {
    const database = 'audit_test_format1';
    const { adminUrl } = testDatabases();
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    // Migrated as a development store was before format 2, and written to by the first audit_append.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-format1-'));
    const all = readMigrations(AUDIT_STORE.migrationsDir).map((m) => m.name);
    for (const name of all.filter((n) => n < '20261203')) fs.cpSync(path.join(AUDIT_STORE.migrationsDir, name), path.join(dir, name), { recursive: true });
    fs.copyFileSync(path.join(AUDIT_STORE.migrationsDir, 'migration_lock.toml'), path.join(dir, 'migration_lock.toml'));
    await migrate(url.toString(), dir);
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const old = (code: string | null, bulk: number | null) => ({
        at: null,
        tail: JSON.stringify(['old', 'clerk:1', 'CLERK', null, 'SERVICE_COUNTER', 'residents', 'READ', 'citizen', code, ['BASIC_IDENTITY'], 'OK', bulk]).slice(1),
        request_id: 'old', subject: 'clerk:1', role: 'CLERK', caller_agency: null, purpose: 'SERVICE_COUNTER', agency: 'residents', action: 'READ',
        operation: 'citizen', personal_code: code, classes: ['BASIC_IDENTITY'], outcome: 'OK', bulk_count: bulk,
      });
      await client.query('SELECT * FROM audit_append($1::json)', [JSON.stringify([old(TARGET, null), old(null, 500)])]);
      expect(await migrate(url.toString(), AUDIT_STORE.migrationsDir)).toEqual(all.filter((n) => n >= '20261203'));
      const writer = createAuditWriter({ url: url.toString() });
      await writer.record([auditEntry({ requestId: 'new', persons: [TARGET] })]);
      await writer.close();
      const rows = (await client.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM audit_log ORDER BY seq`)).rows.map(rowToRecord);
      expect(rows.map((r) => [r.format, r.persons, r.personalCode, r.bulkCount])).toEqual([
        [1, [TARGET], TARGET, null],
        [1, [], null, 500],
        [2, [TARGET], null, null],
      ]);
      for (const row of rows) expect(chainHash(row.prevHash, row)).toBe(row.hash);
      const pool = { query: client.query.bind(client) } as unknown as Parameters<typeof verifyAuditChain>[0];
      expect(await verifyAuditChain(pool)).toMatchObject({ intact: true, records: 3 });
      expect((await searchAuditLog(pool, { personalCode: TARGET, first: 10 })).entries.map((e) => e.requestId)).toEqual(['new', 'old']);
      // A format-1 record's persons are not hashed, but must agree with its personal code.
      await client.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
      await client.query(`UPDATE audit_log SET persons = '{}' WHERE seq = 1`);
      await client.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
      expect((await verifyAuditChain(pool)).problems.map((p) => [p.seq, p.kind])).toEqual([[1, 'CHANGED']]);
    } finally {
      await client.end();
      fs.rmSync(dir, { recursive: true, force: true });
      const drop = new Client({ connectionString: adminUrl });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => drop.end());
    }
  });
});
