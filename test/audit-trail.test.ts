import type { ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import { startFederation, type TestFederation } from './support/federation';
import { startGatewayProcess } from './support/service-process';
import { livingCardHoldersWithBirth, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';
import { COUNTER_CITIZEN } from './support/queries';
import { ACCESS_RECORD_EXTENSION } from '../lib/access/subgraph-access';
import { SERVICE_SCHEME } from '../lib/service-auth';
import { serviceCredential } from './support/service-credentials';

/**
 * Every access to a person's data leaves an audit record before the response leaves, and each citizen
 * can read who (which agency) looked at what, when and why.
 */
let federation: TestFederation;
let f: Fixtures;
let audit: Pool;
let subjects: string[];

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
  audit = new Pool({ connectionString: testDatabases().auditUrl, max: 2 });
  subjects = await livingCardHoldersWithBirth(f, 'audit-trail', 40);
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
  await audit?.end();
});

const recordsOf = async (requestId: string) =>
  (
    await audit.query(
      // One row per person a record names (a record names every person of one kind of access).
      `SELECT agency, action, p.code AS personal_code, classes, subject, role, purpose, outcome, operation
         FROM audit_log LEFT JOIN LATERAL unnest(persons) AS p(code) ON true WHERE request_id = $1 ORDER BY agency, personal_code`,
      [requestId],
    )
  ).rows;

describe('the audit trail', () => {
  it('records a read in every agency that served it, with who, role, purpose, whose data and which kinds', async () => {
    const requestId = `audit-read-${Date.now()}`;
    const response = await federation.query<any>(COUNTER_CITIZEN, { code: subjects[0] }, { ...(await bearer(PERSONAS.clerk)), 'x-request-id': requestId });
    expect(response.errors).toBeUndefined();
    // The subgraphs hand their records to the gateway, which writes them: none of it reaches the client.
    expect(JSON.stringify(response)).not.toContain(ACCESS_RECORD_EXTENSION);
    const all = await recordsOf(requestId);
    // Once each per agency: not by the gateway and again by a subgraph.
    expect(new Set(all.map((r) => `${r.agency}/${r.personal_code}`)).size).toBe(all.length);
    const records = all.filter((r) => r.personal_code === subjects[0]);
    expect(records.map((r) => r.agency)).toEqual(['birth-registry', 'national-id', 'residents']);
    // The parents' codes the birth registration names were delivered too: their records are there.
    const parents = response.data.citizen.parents.map((p: { personalCode: string }) => p.personalCode).sort();
    // (by the birth registry, which named them as parents, and by residents, which served their names).
    expect([...new Set(all.filter((r) => r.personal_code !== subjects[0]).map((r) => r.personal_code))].sort()).toEqual(parents);
    for (const record of records) {
      expect(record).toMatchObject({ action: 'READ', personal_code: subjects[0], subject: PERSONAS.clerk.sub, role: 'CLERK', purpose: 'SERVICE_COUNTER', outcome: 'OK' });
    }
    expect(records.find((r) => r.agency === 'residents')!.classes).toEqual(expect.arrayContaining(['BASIC_IDENTITY', 'RESIDENCE']));
    expect(records.find((r) => r.agency === 'birth-registry')!.classes).toEqual(expect.arrayContaining(['BASIC_IDENTITY', 'RELATIONSHIPS']));
  });

  it('records a write as a write, and a refused attempt (a missing purpose) as refused', async () => {
    const requestId = `audit-write-${Date.now()}`;
    const registrar = await bearer(PERSONAS.registrar('residents', 'registrar:audit-test'));
    const response = await federation.query<any>(
      `mutation ($code: PersonalCode!) { registerTemporaryResidence(personalCode: $code, address: { provinceCode: "031", district: "Quận Lê Chân", ward: "Phường An Biên", street: "12 Tô Hiệu" }, from: "2026-11-01") { personalCode } }`,
      { code: subjects[1] },
      { ...registrar, 'x-request-id': requestId },
    );
    expect(response.errors).toBeUndefined();
    // The residents' change log shipped the write (its outbox, lib/audit/outbox.ts) before the answer left;
    // the response's fields are recorded by the request's own path.
    const records = await recordsOf(requestId);
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ agency: 'residents', action: 'WRITE', operation: 'REGISTER_TEMPORARY_RESIDENCE', personal_code: subjects[1], subject: 'registrar:audit-test', role: 'REGISTRAR', classes: ['RESIDENCE'] }),
        expect.objectContaining({ agency: 'residents', operation: 'registerTemporaryResidence', personal_code: subjects[1], subject: 'registrar:audit-test' }),
      ]),
    );
    expect(records).toHaveLength(2);

    const refusedId = `audit-refused-${Date.now()}`;
    const refused = await federation.query(COUNTER_CITIZEN, { code: subjects[0] }, { ...(await bearer({ sub: 'clerk:no-purpose', role: 'CLERK', agency: 'residents' })), 'x-request-id': refusedId });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PURPOSE_REQUIRED' });
    expect(await recordsOf(refusedId)).toEqual([
      expect.objectContaining({ agency: 'gateway', action: 'REFUSED', outcome: 'DENIED', subject: 'clerk:no-purpose', purpose: null, operation: expect.stringContaining('PURPOSE_REQUIRED') }),
    ]);
  });

  it("shows a citizen their own access log (agency, kinds of data, purpose, when) and nothing of anyone else's", async () => {
    const code = subjects[2];
    await federation.query(COUNTER_CITIZEN, { code }, await bearer(PERSONAS.clerk));
    const own = await bearer(PERSONAS.citizen(code));
    const log = await federation.query<any>(`{ myAccessLog(first: 10) { entries { agency action classes purpose at } pageInfo { hasNextPage } } }`, {}, own);
    expect(log.errors).toBeUndefined();
    const entries = log.data.myAccessLog.entries;
    expect(entries).toEqual(expect.arrayContaining([expect.objectContaining({ agency: 'residents', action: 'READ', purpose: 'SERVICE_COUNTER' })]));
    expect(Object.keys(entries[0]).sort()).toEqual(['action', 'agency', 'at', 'classes', 'purpose']);
    const searchOthers = await federation.query<any>(`{ auditLog(personalCode: "${subjects[3]}") { entries { subject } } }`, {}, own);
    expect(searchOthers.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('lets an auditor search by citizen, agency and caller', async () => {
    const code = subjects[4];
    await federation.query(COUNTER_CITIZEN, { code }, await bearer(PERSONAS.clerk));
    const auditor = await bearer(PERSONAS.auditor);
    const found = await federation.query<any>(
      `query ($code: PersonalCode!) { auditLog(personalCode: $code, agency: "national-id", subject: "test:clerk", first: 5) { entries { personalCode agency subject purpose action hash } } }`,
      { code },
      auditor,
    );
    expect(found.errors).toBeUndefined();
    expect(found.data.auditLog.entries[0]).toMatchObject({ personalCode: code, agency: 'national-id', subject: 'test:clerk', purpose: 'SERVICE_COUNTER', action: 'READ' });
    expect(found.data.auditLog.entries[0].hash).toMatch(/^[0-9a-f]{64}$/);
    const clerkTries = await federation.query<any>(`{ auditLog(first: 1) { entries { subject } } }`, {}, await bearer(PERSONAS.clerk));
    expect(clerkTries.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_NOT_ALLOWED', field: 'auditLog' });
    // The auditor's role allows AUDIT data, but myAccessLog is a citizen's own log (policy.ts ROOT_FIELD_ROLES).
    const auditorsOwnLog = await federation.query<any>(`{ myAccessLog(first: 1) { entries { agency } } }`, {}, auditor);
    expect(auditorsOwnLog.data?.myAccessLog ?? null).toBeNull();
    expect(auditorsOwnLog.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_NOT_ALLOWED' });
  });
});

describe('who writes the records', () => {
  const NAME = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }`;
  const callResidents = async (requestId: string, recordedByGateway: boolean) => {
    const principal = { sub: 'test:clerk', role: 'CLERK', agency: 'residents', pc: null, purpose: 'SERVICE_COUNTER', rid: requestId };
    const body = JSON.stringify({ query: NAME, variables: { code: subjects[5] } });
    const token = await serviceCredential('gateway', 'residents', body, { principal, recordedByGateway });
    const response = await fetch(federation.subgraphUrls.residents, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `${SERVICE_SCHEME} ${token}` },
      body,
    });
    return (await response.json()) as any;
  };

  it('a subgraph writes its own records, unless the gateway credential says the gateway records them: then it returns them', async () => {
    const own = `own-record-${Date.now()}`;
    const answered = await callResidents(own, false);
    expect(answered.data.citizen.fullName).toEqual(expect.any(String));
    expect(answered.extensions?.[ACCESS_RECORD_EXTENSION]).toBeUndefined();
    expect(await recordsOf(own)).toEqual([expect.objectContaining({ agency: 'residents', personal_code: subjects[5], action: 'READ' })]);

    const handedOver = `handed-over-${Date.now()}`;
    const returned = await callResidents(handedOver, true);
    expect(returned.data.citizen.fullName).toEqual(answered.data.citizen.fullName);
    expect(returned.extensions[ACCESS_RECORD_EXTENSION]).toEqual([
      expect.objectContaining({ requestId: handedOver, agency: 'residents', persons: [subjects[5]], action: 'READ', classes: ['BASIC_IDENTITY'] }),
    ]);
    expect(await recordsOf(handedOver)).toEqual([]);
  });

  it('the gateway withholds the data of a request whose records it cannot write', async () => {
    const unrecorded = await startFederation({ gatewayEnv: { AUDIT_DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:9/audit' } });
    try {
      const requestId = `unrecorded-${Date.now()}`;
      const response = await unrecorded.query<any>(NAME, { code: subjects[6] }, { ...(await bearer(PERSONAS.clerk)), 'x-request-id': requestId });
      expect(response.status).toBe(503);
      expect(response.data).toBeUndefined();
      expect(response.errors).toEqual([expect.objectContaining({ extensions: { code: 'AUDIT_UNAVAILABLE' } })]);
      expect(await recordsOf(requestId)).toEqual([]);
    } finally {
      await unrecorded.stop();
    }
  });
});

describe('nothing delivered goes unrecorded', () => {
  let child: ChildProcess;
  let killable: TestFederation;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await killable?.stop();
  });

  it('SIGKILL of the gateway process, which holds the audit writer of client requests, during a burst: every response received has its records', async () => {
    // The subgraphs in this process, the gateway as its own process (as in production), killed mid-burst.
    killable = await startFederation();
    const gateway = await startGatewayProcess(killable);
    child = gateway.child;
    const gatewayUrl = gateway.url;
    const clerk = await bearer(PERSONAS.clerk);
    const CARD = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName identityCards { number } } }`;
    const ask = async (code: string, requestId: string) => {
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...clerk, 'x-request-id': requestId },
        body: JSON.stringify({ query: CARD, variables: { code } }),
      });
      return (await response.json()) as any;
    };
    expect((await ask(subjects[0], `sigkill-warm-${Date.now()}`)).data.citizen.fullName).toEqual(expect.any(String));
    const ids = subjects.map((_, i) => `sigkill-${Date.now()}-${i}`);
    // Requests every 10 ms; the process is killed once five answers have come back, in the middle of the burst.
    let answered = 0;
    const burst = subjects.map((code, i) =>
      new Promise((wait) => setTimeout(wait, i * 10))
        .then(() => ask(code, ids[i]))
        .catch(() => null)
        .then((response) => {
          if (response?.data?.citizen?.fullName && ++answered === 5) child.kill('SIGKILL');
          return response;
        }),
    );
    const responses = await Promise.all(burst);
    // What each response delivered, agency by agency: on a busy machine an agency may time out (its part is then
    // null with AGENCY_UNAVAILABLE, and nothing of it was served, so there is nothing of it to record).
    const delivered = responses
      .map((r, i) => ({ id: ids[i], code: subjects[i], name: r?.data?.citizen?.fullName ?? null, cards: Array.isArray(r?.data?.citizen?.identityCards) }))
      .filter((r) => r.name !== null);
    const lost = responses.length - delivered.length;
    // The kill landed inside the burst: some answers came, some did not.
    expect(delivered.length).toBeGreaterThan(0);
    expect(lost).toBeGreaterThan(0);
    const { rows } = await audit.query(`SELECT request_id, agency, unnest(persons) AS personal_code FROM audit_log WHERE request_id = ANY($1)`, [delivered.map((d) => d.id)]);
    const recorded = new Set(rows.map((r) => `${r.request_id}/${r.agency}/${r.personal_code}`));
    expect(delivered.filter((d) => !recorded.has(`${d.id}/residents/${d.code}`))).toEqual([]);
    expect(delivered.filter((d) => d.cards && !recorded.has(`${d.id}/national-id/${d.code}`))).toEqual([]);
  }, 60_000);
});
