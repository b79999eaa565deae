import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool, type PoolClient } from 'pg';
import { prepareDatabases } from '../tools/databases';
import { appendEntries } from '../lib/audit/append';
import type { AuditEntry } from '../lib/access/audit-entry';
import { cpuSeconds } from './process-stats';

/**
 * What appending to the audit chain costs, on a scratch embedded PostgreSQL (.data/bench-audit, port 54341;
 * fsync and synchronous_commit on, as PostgreSQL ships), with nothing else of Citizen Graph running.
 *
 *   npx tsx bench/audit-append.ts [N]
 *     one writer appends N single-record batches one after another (the writer's case at light load, where
 *     group commit has nothing to group), and prints the time each took and the CPU it cost PostgreSQL's
 *     backend and this process. Linux only (the backend's CPU comes from /proc).
 *
 *   npx tsx bench/audit-append.ts --writers 1,4,16 [--batch 1,25] [--seconds 5]
 *     the chain head's ceiling: W writers (each a connection of its own, as each replica's audit writer is),
 *     each appending batches of B records back to back for S seconds, for every W and B asked. Every
 *     transaction holds the one-row head from its lock to its commit (lib/audit/append.ts), so commits a
 *     second stop growing with writers; records a second grow with the batch, which is what the writers'
 *     group commit does under load. Prints commits/s, records/s, the commit latency writers saw, the CPU
 *     time PostgreSQL's backends spent per record, and the size on disk of a record (the table with its
 *     indexes, divided by the records).
 */
const DEFAULT_PORT = 54341;
const DATA_DIR = path.resolve(__dirname, '../.data/bench-audit/postgres');

/** A record of a unified view: one to three persons (the citizen, and parents named by their codes). */
const entry = (i: number): AuditEntry => ({
  requestId: `bench-${process.pid}-${i}`,
  subject: 'bench:investigator',
  role: 'INVESTIGATOR',
  callerAgency: 'court',
  purpose: 'COURT_ORDER',
  agency: (['residents', 'national-id', 'birth-registry'] as const)[i % 3],
  action: 'READ',
  operation: 'citizen',
  caseReference: 'TA-HN/2026/0412',
  persons: Array.from({ length: 1 + (i % 4 === 0 ? 2 : 0) }, (_, k) => String(100000000000 + (((i + k) * 7919) % 899999999999))),
  classes: ['BASIC_IDENTITY', 'RESIDENCE', 'SENSITIVE'],
  outcome: 'OK',
});

const list = (value: string) => value.split(',').map((v) => Number(v.trim()));

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { writers: { type: 'string' }, batch: { type: 'string', default: '1' }, seconds: { type: 'string', default: '5' }, port: { type: 'string', default: String(DEFAULT_PORT) } },
  });
  const databases = await prepareDatabases({ dataDir: DATA_DIR, postgresPort: Number(values.port) });
  try {
    if (values.writers) await concurrent(databases.auditUrl, list(values.writers), list(values.batch!), Number(values.seconds));
    else await sequential(databases.auditUrl, Number(positionals[0] ?? 3000));
  } finally {
    await databases.stop();
  }
}

async function sequential(url: string, count: number) {
  const pool = new Pool({ connectionString: url, max: 1 });
  const client = await pool.connect();
  try {
    const backend = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    for (let i = 0; i < 300; i += 1) await appendEntries(client, [entry(i)], { timeoutMs: 5000 }); // warm-up
    const backendBefore = cpuSeconds(backend);
    const ownBefore = process.cpuUsage();
    const startedAt = process.hrtime.bigint();
    for (let i = 0; i < count; i += 1) await appendEntries(client, [entry(i)], { timeoutMs: 5000 });
    const wallMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    const own = process.cpuUsage(ownBefore);
    const per = (ms: number) => `${(ms / count).toFixed(2)} ms`;
    console.log(
      `${count} appends of one record: ${per(wallMs)} each; CPU per append: PostgreSQL ${per((cpuSeconds(backend) - backendBefore) * 1000)}, ` +
        `this process ${per((own.user + own.system) / 1000)}`,
    );
  } finally {
    client.release();
    await pool.end();
  }
}

async function concurrent(url: string, writerCounts: number[], batches: number[], seconds: number) {
  const pool = new Pool({ connectionString: url, max: Math.max(...writerCounts) });
  const [load1] = os.loadavg();
  console.log(`Audit chain head, ${seconds} s per line; ${os.cpus().length} cores, load average at start ${load1.toFixed(2)} (the machine is shared: other work slows every figure).`);
  console.log('\n| writers | records per commit | commits/s | records/s | commit p50 ms | commit p99 ms | PostgreSQL CPU ms per record |\n|--:|--:|--:|--:|--:|--:|--:|');
  let sequence = 0;
  try {
    const warm = await pool.connect();
    for (let i = 0; i < 200; i += 1) await appendEntries(warm, [entry(sequence++)], { timeoutMs: 5000 });
    warm.release();
    for (const batch of batches) {
      for (const writers of writerCounts) {
        const clients: PoolClient[] = await Promise.all(Array.from({ length: writers }, () => pool.connect()));
        const backends = await Promise.all(clients.map(async (c) => Number((await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid)));
        const backendCpu = () => backends.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
        const cpuBefore = backendCpu();
        const latencies: number[] = [];
        const deadline = Date.now() + seconds * 1000;
        const startedAt = process.hrtime.bigint();
        await Promise.all(
          clients.map(async (client) => {
            while (Date.now() < deadline) {
              const entries = Array.from({ length: batch }, () => entry(sequence++));
              const t0 = process.hrtime.bigint();
              await appendEntries(client, entries, { timeoutMs: 10_000 });
              latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            }
          }),
        );
        const elapsed = Number(process.hrtime.bigint() - startedAt) / 1e9;
        const cpuMsPerRecord = ((backendCpu() - cpuBefore) * 1000) / (latencies.length * batch);
        for (const client of clients) client.release();
        latencies.sort((a, b) => a - b);
        const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
        const commits = latencies.length / elapsed;
        console.log(`| ${writers} | ${batch} | ${commits.toFixed(0)} | ${(commits * batch).toFixed(0)} | ${at(0.5)} | ${at(0.99)} | ${cpuMsPerRecord.toFixed(2)} |`);
      }
    }
    const { rows } = await pool.query<{ bytes: string; records: string }>(`SELECT pg_total_relation_size('audit_log') AS bytes, (SELECT count(*) FROM audit_log) AS records`);
    console.log(`\nOn disk: ${(Number(rows[0].bytes) / Number(rows[0].records)).toFixed(0)} bytes per record, indexes included (${rows[0].records} records).`);
  } finally {
    await pool.end();
  }
}

void main();
