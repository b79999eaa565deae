import { execFile } from 'node:child_process';
import path from 'node:path';
import { Client, Pool } from 'pg';
import type { AuditEntry } from '../../lib/access/audit-entry';
import { AUDIT_STORE } from '../../lib/agencies';
import { migrate } from '../../tools/migrate';
import { testDatabases } from './databases';
import { chainHash, RECORD_COLUMNS, rowToRecord, type RecordRow } from '../../lib/audit/chain';

/**
 * A fresh audit store of a test's own (database audit_test_<name>, created and migrated like the real
 * one), for tests that need a chain nobody else appends to: counting transactions, walking the chain,
 * tampering with it. The suite's shared store (testDatabases().auditUrl) is left to integration tests.
 */
export interface ScratchAuditStore {
  url: string;
  /** A superuser pool on it, to look at (and tamper with) the tables directly. */
  pool: Pool;
  drop(): Promise<void>;
}

export async function scratchAuditStore(name: string): Promise<ScratchAuditStore> {
  const database = `audit_test_${name}`;
  const { adminUrl } = testDatabases();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  await migrate(url.toString(), AUDIT_STORE.migrationsDir);
  const pool = new Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.end();
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => client.end());
    },
  };
}

let requests = 0;

/** A plausible READ by a clerk of one citizen's basic identity; override what the test is about. */
export function auditEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  requests += 1;
  return {
    requestId: `req-${requests}`,
    subject: 'clerk:hp-01',
    role: 'CLERK',
    callerAgency: 'residents',
    purpose: 'SERVICE_COUNTER',
    caseReference: null,
    agency: 'residents',
    action: 'READ',
    operation: 'citizen',
    persons: ['001200342514'],
    classes: ['BASIC_IDENTITY'],
    outcome: 'OK',
    ...overrides,
  };
}

/** A valid-looking personal code numbered i (province 001, born 2000s male): distinct for distinct i. */
export const codeNumber = (i: number) => `0012${String(i % 100).padStart(2, '0')}${String(i).padStart(6, '0')}`;

/**
 * Makes the store date the next records `at` (which must be later than the store's clock): the store never
 * dates a record before the head's last time, so moving that time forward (as a superuser may) dates what
 * follows. For tests about searching by time; records can never be dated in the past this way.
 */
export async function storeTimeFrom(store: ScratchAuditStore, at: Date): Promise<void> {
  await store.pool.query('UPDATE audit_chain_head SET at = $1', [at]);
}

/** The records of a store's chain, in order. */
export const chainRows = async (store: { pool: Pool }) =>
  (await store.pool.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM audit_log ORDER BY seq`)).rows.map(rowToRecord);

/** Runs SQL as an attacker with the superuser's rights would: every append-only and forward-only trigger disabled for the length of it. */
export async function tamper(store: { pool: Pool }, ...statements: string[]): Promise<void> {
  const client = await store.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_chain_head DISABLE TRIGGER USER');
    for (const sql of statements) await client.query(sql);
    await client.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_chain_head ENABLE TRIGGER USER');
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** What re-chains a store from `fromSeq` on: every link and hash recomputed, the head moved onto the new last record. */
export async function rechainStatements(store: { pool: Pool }, fromSeq: number): Promise<string[]> {
  const all = await chainRows(store);
  const statements: string[] = [];
  let prev = all.find((r) => r.seq === fromSeq - 1)?.hash ?? '0'.repeat(64);
  for (const r of all.filter((x) => x.seq >= fromSeq)) {
    const hash = chainHash(prev, r);
    statements.push(`UPDATE audit_log SET prev_hash = '${prev}', hash = '${hash}' WHERE seq = ${r.seq}`);
    prev = hash;
  }
  const last = all[all.length - 1];
  statements.push(`UPDATE audit_chain_head SET seq = ${last.seq}, hash = '${prev}', at = '${last.at.toISOString()}'`);
  return statements;
}

/** Runs `npm run audit:verify` (scripts/audit-verify.ts) on a store: its exit code and what it printed. */
export const runAuditVerify = (url: string, args: string[] = [], env: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const script = path.resolve(__dirname, '../../scripts/audit-verify.ts');
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    execFile(tsx, [script, ...args], { env: { ...process.env, AUDIT_DATABASE_URL: url, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
