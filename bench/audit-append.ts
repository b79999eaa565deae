import path from 'node:path';
import { Pool } from 'pg';
import { prepareDatabases } from '../lib/databases';
import { appendEntries } from '../lib/audit/append';
import type { AuditEntry } from '../lib/access/audit-entry';
import { cpuSeconds } from './process-stats';

/**
 * What one append to the audit chain costs, with nothing else running: `npx tsx bench/audit-append.ts [N]`
 * appends N single-record batches one after another (the writer's case at light load, where group commit
 * has nothing to group) on a scratch embedded PostgreSQL, and prints the time each took and the CPU it cost
 * PostgreSQL's backend and this process. Linux only (the backend's CPU comes from /proc).
 */
const PORT = 54341;
const DATA_DIR = path.resolve(__dirname, '../.data/bench-audit/postgres');

const entry = (i: number): AuditEntry => ({
  requestId: `bench-${i}`,
  subject: 'bench:investigator',
  role: 'INVESTIGATOR',
  callerAgency: 'court',
  purpose: 'COURT_ORDER',
  agency: 'residents',
  action: 'READ',
  operation: 'citizen',
  caseReference: null,
  persons: [String(100000000000 + ((i * 7919) % 899999999999))],
  classes: ['BASIC_IDENTITY', 'RESIDENCE', 'SENSITIVE'],
  outcome: 'OK',
});

async function main() {
  const count = Number(process.argv[2] ?? 3000);
  const databases = await prepareDatabases({ dataDir: DATA_DIR, postgresPort: PORT });
  const pool = new Pool({ connectionString: databases.auditUrl, max: 1 });
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
    await databases.stop();
  }
}

void main();
