import type { ChildProcess } from 'node:child_process';
import { AGENCIES } from '../lib/agencies';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { readPublicKeys, verifyCheckpointFile, type Checkpoint } from '../lib/audit/checkpoint';
import { verifyAuditChain } from '../tools/audit/verify';
import { startFederation, type TestFederation } from './support/federation';
import { eventually } from './support/eventually';
import { startGatewayProcess } from './support/service-process';
import { householdOfSize, livingCardHoldersWithBirth, one, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';
import { COUNTER_CITIZEN, UNIFIED_CITIZEN } from './support/queries';
import { chainRows, rechainStatements, scratchAuditStore, tamper, type ScratchAuditStore } from './support/audit';

/**
 * The audit is complete (issue 11): a mixed workload (every root field, every role, decoys, writes,
 * refusals, and a gateway process killed in the middle of a write) runs against an audit store of this
 * file's own; afterwards every person code that any response carried is named by a record of that request,
 * with the agency, the classes served and the purpose; every change the agencies committed has its WRITE
 * record; audit:verify finds the chain intact against the gateway's signed checkpoints; and on copies of
 * that chain, each way a database superuser could hide an access is reported.
 */
let federation: TestFederation;
let f: Fixtures;
let store: ScratchAuditStore;
let people: string[];
const checkpointFile = path.join(os.tmpdir(), `audit-completeness-${process.pid}.jsonl`);

beforeAll(async () => {
  store = await scratchAuditStore('completeness');
  f = openFixtures();
  people = await livingCardHoldersWithBirth(f, 'audit-completeness', 60);
  // Every service writes to this file's store (as the superuser: the roles are tested elsewhere).
  federation = await startFederation({
    subgraphEnv: { AUDIT_DATABASE_URL: store.url },
    gatewayEnv: { AUDIT_DATABASE_URL: store.url, AUDIT_CHECKPOINT_FILE: checkpointFile },
  });
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
  await store?.drop();
  fs.rmSync(checkpointFile, { force: true });
});

interface Sent {
  requestId: string;
  purpose: string;
  status: number;
  data: unknown;
}

const sent: Sent[] = [];
const killedRequests: string[] = [];

async function send(persona: Record<string, unknown>, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Sent> {
  const requestId = `complete-${crypto.randomUUID()}`;
  const response = await federation.query(query, variables, { ...(await bearer(persona as never)), ...headers, 'x-request-id': requestId });
  const entry = { requestId, purpose: String(persona.purpose), status: response.status, data: response.data ?? null };
  sent.push(entry);
  return entry;
}

/**
 * The WRITE records of these change refs, in this file's store or the shared one. The agencies' databases are
 * shared with the other test files, and so is each change log: the outbox shipper of another file's subgraph
 * (after its own mutation) may ship this file's change first, to the shared store, and mark it shipped; it is
 * recorded once, in the store of the shipper that took it. (In production there is one store.)
 */
async function writeRecords(refs: string[]) {
  const query = `SELECT change_ref, persons::text[] AS persons, subject, purpose FROM audit_log WHERE action = 'WRITE' AND change_ref = ANY($1)`;
  const shared = new Client({ connectionString: testDatabases().auditUrl });
  await shared.connect();
  try {
    const stores = [store.pool, shared];
    const found = await Promise.all(stores.map((s) => s.query<{ change_ref: string; persons: string[]; subject: string; purpose: string }>(query, [refs])));
    return found.flatMap((r) => r.rows);
  } finally {
    await shared.end();
  }
}

/** Every 12-digit code anywhere in a response's data: a person whose data it carries. */
function codesIn(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string' && /^\d{12}$/.test(value)) found.add(value);
  else if (Array.isArray(value)) value.forEach((v) => codesIn(v, found));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => codesIn(v, found));
  return found;
}

describe('a mixed workload, then the audit store', () => {
  it('records every person every response carried, with agency, classes and purpose', async () => {
    const household = await householdOfSize(f, 'largest');
    const birth = await one<{ number: string }>(f.birthRegistry, `SELECT so_dang_ky AS number FROM dang_ky_khai_sinh WHERE so_dinh_danh_tre IS NOT NULL ORDER BY so_dang_ky LIMIT 1`);
    const card = await one<{ number: string }>(f.nationalId, `SELECT so_the AS number FROM the_can_cuoc WHERE so_dinh_danh = $1 ORDER BY ngay_cap DESC LIMIT 1`, [people[0]]);
    const clerk = PERSONAS.clerk;
    // Reads by every role, through every root field.
    await send(clerk, COUNTER_CITIZEN, { code: people[0] });
    await send(PERSONAS.investigator, UNIFIED_CITIZEN, { code: people[1] });
    await send(clerk, `query ($codes: [PersonalCode!]!) { citizens(personalCodes: $codes) { personalCode fullName parents { personalCode } } }`, { codes: people.slice(2, 40) });
    await send(clerk, `query ($n: String!) { citizenByIdentityCard(number: $n) { personalCode fullName } }`, { n: card.number });
    await send(clerk, `query ($n: String!) { household(number: $n) { number address { street } head { personalCode } members { relationshipToHead citizen { personalCode fullName } } } }`, { n: household.number });
    await send(clerk, `{ searchCitizens(name: "Nguyễn", first: 15) { edges { cursor node { personalCode fullName } } pageInfo { endCursor } } }`);
    await send(clerk, `query ($n: String!) { birthRegistration(registrationNumber: $n) { registrationNumber childName child { personalCode } father { personalCode name } mother { personalCode name } } }`, { n: birth.number });
    await send(PERSONAS.analyst, `{ citizenStatistics(groupBy: [SEX]) { total groups { sex count } } }`);
    await send(PERSONAS.auditor, `query ($c: PersonalCode!) { auditLog(personalCode: $c, first: 5) { entries { persons agency } } }`, { c: people[0] });
    await send(PERSONAS.citizen(people[41]), `query ($c: PersonalCode!) { citizen(personalCode: $c) { personalCode fullName religion } }`, { c: people[41] });
    await send(PERSONAS.citizen(people[41]), `{ myAccessLog(first: 5) { entries { agency } } }`);
    // Decoys, then the person the request is after; an existence probe.
    await send(clerk, `query ($d: [PersonalCode!]!, $t: PersonalCode!) { d: citizens(personalCodes: $d) { fullName } t: citizen(personalCode: $t) { fullName } }`, { d: people.slice(0, 40), t: people[42] });
    await send(clerk, `query ($c: PersonalCode!) { citizen(personalCode: $c) { __typename } }`, { c: people[43] });
    // Refusals: sensitive fields for a clerk, another's record for a citizen, a write by a clerk.
    expect((await send(clerk, `query ($c: PersonalCode!) { citizen(personalCode: $c) { religion } }`, { c: people[44] })).status).toBe(403);
    expect((await send(PERSONAS.citizen(people[41]), `query ($c: PersonalCode!) { citizen(personalCode: $c) { fullName } }`, { c: people[45] })).status).toBe(403);
    // Writes, one of them selecting nothing personal.
    const registrar = PERSONAS.registrar('residents', 'registrar:completeness');
    const moved = await send(
      registrar,
      `mutation ($c: PersonalCode!) { registerTemporaryResidence(personalCode: $c, address: { provinceCode: "031", district: "Quận Lê Chân", ward: "Phường An Biên", street: "3 Tô Hiệu" }, from: "2026-11-02") { personalCode } }`,
      { c: people[46] },
    );
    expect(moved.status).toBe(200);
    const born = await send(
      PERSONAS.registrar('birth-registry', 'registrar:completeness'),
      `mutation ($i: RegisterBirthInput!) { registerBirth(input: $i) { status } }`,
      {
        i: {
          idempotencyKey: `completeness-${crypto.randomUUID()}`,
          registrationProvinceCode: '031',
          registeringAuthority: 'UBND phường Lê Chân',
          placeOfBirth: 'Bệnh viện Phụ sản Hải Phòng',
          childName: `Lê Thị Hoàn Chỉnh ${crypto.randomInt(1e6)}`,
          childSex: 'FEMALE',
          childDateOfBirth: '2026-11-21',
          ethnicity: 'Kinh',
          mother: { personalCode: people[47] },
        },
      },
    );
    expect(born.status).toBe(200);

    const audit = store.pool;
    const missing: string[] = [];
    for (const request of sent.filter((s) => s.status === 200)) {
      const { rows } = await audit.query<{ agency: string; persons: string[]; classes: string[]; purpose: string; action: string }>(
        `SELECT agency, persons::text[] AS persons, classes, purpose, action FROM audit_log WHERE request_id = $1 AND action = 'READ'`,
        [request.requestId],
      );
      for (const code of codesIn(request.data)) {
        const naming = rows.filter((r) => r.persons.includes(code));
        const complete = naming.some((r) => AGENCIES.some((a) => a.id === r.agency) && r.classes.length > 0 && r.purpose === request.purpose);
        if (!complete) missing.push(`${request.requestId}: ${code}`);
      }
    }
    expect(missing).toEqual([]);
    // The workload did carry persons: the check above checked something.
    expect(sent.filter((s) => s.status === 200).reduce((n, s) => n + codesIn(s.data).size, 0)).toBeGreaterThan(100);

    // Each refusal left a REFUSED record naming the person asked about. A refusal one agency makes while the
    // request runs turns the whole answer into a 403 (the HTTP contract), although another agency may already
    // have served the gateway its part: that read is recorded too (a record too many, never one too few).
    for (const request of sent.filter((s) => s.status === 403)) {
      const { rows } = await audit.query(`SELECT action, persons::text[] AS persons FROM audit_log WHERE request_id = $1`, [request.requestId]);
      const refused = rows.filter((r) => r.action === 'REFUSED');
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((r) => r.persons.length > 0)).toBe(true);
      expect(rows.every((r) => r.action === 'REFUSED' || r.action === 'READ')).toBe(true);
    }
  });

  it('records a write whose gateway was killed before it could answer', async () => {
    let child: ChildProcess | null = null;
    try {
      const gateway = await startGatewayProcess(federation, { AUDIT_DATABASE_URL: store.url, AUDIT_CHECKPOINT_FILE: checkpointFile });
      child = gateway.child;
      const gatewayUrl = gateway.url;
      const requestId = `killed-${crypto.randomUUID()}`;
      killedRequests.push(requestId);
      const registrar = await bearer(PERSONAS.registrar('residents', 'registrar:killed-gateway'));
      const answer = fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...registrar, 'x-request-id': requestId },
        body: JSON.stringify({
          query: `mutation ($c: PersonalCode!) { registerTemporaryResidence(personalCode: $c, address: { provinceCode: "001", district: "Quận Ba Đình", ward: "Phường Kim Mã", street: "9 Kim Mã" }, from: "2026-11-03") { personalCode } }`,
          variables: { c: people[48] },
        }),
      }).catch(() => null);
      // Killed as soon as the write has committed in the agency's database, before the gateway can answer.
      const changes = await eventually(
        async () => (await f.residents.query<{ id: string }>(`SELECT id::text FROM cg_nhat_ky_thay_doi WHERE ma_yeu_cau = $1`, [requestId])).rows,
        (found) => found.length > 0,
        { everyMs: 25 },
      );
      child.kill('SIGKILL');
      await answer;
      expect(changes.length).toBeGreaterThan(0);
      // The agency's outbox ships the WRITE record itself: nothing depends on the gateway.
      const refs = changes.map((c) => `residents:${c.id}`);
      const recorded = await eventually(
        () => writeRecords(refs),
        (found) => found.length >= refs.length,
      );
      expect(recorded.map((r) => r.change_ref).sort()).toEqual(refs.sort());
      expect(recorded[0]).toMatchObject({ persons: [people[48]], subject: 'registrar:killed-gateway', purpose: 'CIVIL_REGISTRATION' });
    } finally {
      child?.kill('SIGKILL');
    }
  }, 60_000);

  it('every committed change has its WRITE record, and the chain is intact against the signed checkpoints', async () => {
    await federation.stop(); // the gateway's last checkpoint
    federation = null as unknown as TestFederation;
    const { checkpointJwksFile } = testDatabases();
    // The agencies' databases are shared with the other test files, whose writes go to the shared store:
    // the changes of this file's requests (the killed gateway's included) are the ones to find here.
    const ids = [...sent.map((s) => s.requestId), ...killedRequests];
    const changes: string[] = [];
    for (const [agency, pool] of [['residents', f.residents], ['national-id', f.nationalId], ['birth-registry', f.birthRegistry]] as const) {
      const { rows } = await pool.query<{ id: string }>(`SELECT id::text FROM cg_nhat_ky_thay_doi WHERE ma_yeu_cau = ANY($1)`, [ids]);
      changes.push(...rows.map((r) => `${agency}:${r.id}`));
    }
    // registerTemporaryResidence twice, registerBirth's registration and its child's code in two agencies.
    expect(changes.length).toBeGreaterThanOrEqual(4);
    const writes = await writeRecords(changes);
    expect(writes.map((w) => w.change_ref).sort()).toEqual([...changes].sort());
    const verified = await verifyCheckpointFile(checkpointFile, readPublicKeys(checkpointJwksFile));
    expect(verified.problems).toEqual([]);
    expect(verified.checkpoints.length).toBeGreaterThan(0);
    const report = await verifyAuditChain(store.pool, { checkpoints: verified.checkpoints });
    expect(report.problems).toEqual([]);
    expect(report.intact).toBe(true);
  });
});

describe('tampering with a copy of that chain, as the database superuser', () => {
  let copies: { name: string; pool: Pool }[] = [];
  let checkpoints: Checkpoint[];

  beforeAll(async () => {
    checkpoints = (await verifyCheckpointFile(checkpointFile, readPublicKeys(testDatabases().checkpointJwksFile))).checkpoints;
  });

  afterAll(async () => {
    const admin = new Client({ connectionString: testDatabases().adminUrl });
    await admin.connect();
    for (const copy of copies) {
      await copy.pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${copy.name} WITH (FORCE)`);
    }
    await admin.end();
  });

  /** A copy of the workload's store (CREATE DATABASE ... TEMPLATE): what an attacker would edit. */
  async function copyOfChain(tag: string) {
    const admin = new Client({ connectionString: testDatabases().adminUrl });
    await admin.connect();
    const name = `audit_test_completeness_${tag}`;
    try {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [new URL(store.url).pathname.slice(1)]);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${new URL(store.url).pathname.slice(1)}`);
    } finally {
      await admin.end();
    }
    const url = new URL(store.url);
    url.pathname = `/${name}`;
    const pool = new Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => undefined);
    copies.push({ name, pool });
    return { pool };
  }

  const problemsOf = async (copy: { pool: Pool }) => (await verifyAuditChain(copy.pool, { checkpoints })).problems.map((p) => p.kind);

  it('an untouched copy is intact', async () => {
    expect(await problemsOf(await copyOfChain('untouched'))).toEqual([]);
  });

  it('truncating the tail (records deleted, the head moved back) is reported', async () => {
    const copy = await copyOfChain('truncated');
    const all = await chainRows(copy);
    const keep = all[all.length - 4];
    await tamper(copy, `DELETE FROM audit_log WHERE seq > ${keep.seq}`, `UPDATE audit_chain_head SET seq = ${keep.seq}, hash = '${keep.hash}', at = '${keep.at.toISOString()}'`);
    expect((await verifyAuditChain(copy.pool)).intact).toBe(true); // the chain alone cannot tell
    expect(await problemsOf(copy)).toContain('TRUNCATED');
  });

  it("deleting one request's records and re-chaining everything after them is reported", async () => {
    const copy = await copyOfChain('rechained');
    const all = await chainRows(copy);
    const victim = all.find((r) => r.action === 'READ' && r.persons.length > 0)!;
    await tamper(copy, `DELETE FROM audit_log WHERE request_id = '${victim.requestId}'`);
    const gone = all.filter((r) => r.requestId === victim.requestId).length;
    await tamper(copy, `UPDATE audit_log SET seq = seq + 1000000 WHERE seq > ${victim.seq}`, `UPDATE audit_log SET seq = seq - 1000000 - ${gone} WHERE seq > 1000000`);
    await tamper(copy, ...(await rechainStatements(copy, victim.seq)));
    expect((await verifyAuditChain(copy.pool)).intact).toBe(true);
    // The re-chained records differ from what was checkpointed, and the chain is now shorter than it was.
    expect(await problemsOf(copy)).toEqual(expect.arrayContaining([expect.stringMatching(/^(CHECKPOINT_MISMATCH|TRUNCATED)$/)]));
  });

  it('a record dated in the past that blames another official, chained in, is reported', async () => {
    const copy = await copyOfChain('backdated');
    const all = await chainRows(copy);
    const early = all[1];
    const at = all.length - 2;
    await tamper(
      copy,
      `UPDATE audit_log SET seq = seq + 1000000 WHERE seq > ${all[at].seq}`,
      `UPDATE audit_log SET seq = seq - 999999 WHERE seq > 1000000`,
      `INSERT INTO audit_log (seq, format, at, request_id, subject, role, caller_agency, purpose, agency, action, operation, persons, classes, outcome, prev_hash, hash)
       VALUES (${all[at].seq + 1}, 2, '${early.at.toISOString()}', 'framed', 'clerk:innocent', 'CLERK', 'residents', 'SERVICE_COUNTER', 'residents', 'READ', 'citizen',
               ARRAY['${people[50]}'], ARRAY['BASIC_IDENTITY', 'SENSITIVE'], 'OK', repeat('0', 64), repeat('0', 64))`,
    );
    await tamper(copy, ...(await rechainStatements(copy, all[at].seq + 1)));
    const problems = await problemsOf(copy);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/TIME_BACKWARDS|BACKDATED|CHECKPOINT_MISMATCH/)]));
  });
});
