import { Pool } from 'pg';
import { startFederation, type TestFederation } from './support/federation';
import { householdOfSize, livingCardHoldersWithBirth, one, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';

/**
 * What the audit store must hold after reads that used to leave no trace or the wrong one (issue 11,
 * findings 4 to 6): every person whose data a response carries is named, by the agency that served it,
 * with the classes actually served, however the request was shaped.
 */
let federation: TestFederation;
let f: Fixtures;
let audit: Pool;
let people: string[];

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
  audit = new Pool({ connectionString: testDatabases().auditUrl, max: 2 });
  people = await livingCardHoldersWithBirth(f, 'audit-coverage', 110);
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
  await audit?.end();
});

interface Row {
  agency: string;
  action: string;
  persons: string[];
  classes: string[];
  purpose: string | null;
  case_reference: string | null;
  operation: string;
  outcome: string;
}

let requests = 0;
/** Sends a query under a request id of its own and returns the answer with the records of that request. */
async function recorded(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const requestId = `coverage-${Date.now()}-${(requests += 1)}`;
  const response = await federation.query<any>(query, variables, { ...headers, 'x-request-id': requestId });
  const { rows } = await audit.query<Row>(
    `SELECT agency, action, persons::text[] AS persons, classes, purpose, case_reference, operation, outcome FROM audit_log WHERE request_id = $1 ORDER BY seq`,
    [requestId],
  );
  return { response, rows };
}

/** The classes recorded for a person by an agency in a request's records. */
const classesOf = (rows: Row[], person: string, agency: string) =>
  [...new Set(rows.filter((r) => r.agency === agency && r.persons.includes(person)).flatMap((r) => r.classes))].sort();

describe('finding 4: reads that left no record', () => {
  it('the root birthRegistration(registrationNumber): the child and the parents it names', async () => {
    const birth = await one<{ number: string; child: string; father: string; mother: string }>(
      f.birthRegistry,
      `SELECT so_dang_ky AS number, so_dinh_danh_tre AS child, so_dinh_danh_cha AS father, so_dinh_danh_me AS mother FROM dang_ky_khai_sinh
        WHERE so_dinh_danh_tre IS NOT NULL AND so_dinh_danh_cha IS NOT NULL AND so_dinh_danh_me IS NOT NULL ORDER BY so_dang_ky DESC LIMIT 1`,
    );
    const { response, rows } = await recorded(
      `query ($n: String!) { birthRegistration(registrationNumber: $n) { registrationNumber childName placeOfBirth father { name } mother { name } } }`,
      { n: birth.number },
      await bearer(PERSONAS.clerk),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data.birthRegistration.childName).toEqual(expect.any(String));
    expect(classesOf(rows, birth.child, 'birth-registry')).toEqual(['BASIC_IDENTITY', 'RELATIONSHIPS']);
    expect(classesOf(rows, birth.father, 'birth-registry')).toContain('RELATIONSHIPS');
    expect(classesOf(rows, birth.mother, 'birth-registry')).toContain('RELATIONSHIPS');
  });

  it('an existence probe: a citizen asked for nothing but __typename', async () => {
    const { response, rows } = await recorded(`query ($c: PersonalCode!) { citizen(personalCode: $c) { __typename } }`, { c: people[0] }, await bearer(PERSONAS.clerk));
    expect(response.data.citizen).toEqual({ __typename: 'Citizen' });
    expect(classesOf(rows, people[0], 'residents')).toEqual(['BASIC_IDENTITY']);
  });

  it("an auditor's search: the citizen searched for, and every person the returned records name", async () => {
    await recorded(`query ($c: PersonalCode!) { citizen(personalCode: $c) { fullName } }`, { c: people[1] }, await bearer(PERSONAS.clerk));
    const { response, rows } = await recorded(
      `query ($c: PersonalCode!) { auditLog(personalCode: $c, first: 5) { entries { persons agency action } } }`,
      { c: people[1] },
      await bearer(PERSONAS.auditor),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data.auditLog.entries.length).toBeGreaterThan(0);
    expect(rows).toContainEqual(expect.objectContaining({ agency: 'residents', action: 'READ', purpose: 'AUDIT', persons: expect.arrayContaining([people[1]]), classes: ['AUDIT'] }));
  });

  it("a citizen's read of their own access log", async () => {
    const { response, rows } = await recorded(`{ myAccessLog(first: 3) { entries { agency action } } }`, {}, await bearer(PERSONAS.citizen(people[2])));
    expect(response.errors).toBeUndefined();
    expect(rows).toContainEqual(expect.objectContaining({ agency: 'residents', action: 'READ', purpose: 'OWN_DATA', persons: [people[2]], classes: ['AUDIT'] }));
  });

  it("a refusal at the gateway names the persons the request asked about", async () => {
    const { response, rows } = await recorded(`query ($c: PersonalCode!) { citizen(personalCode: $c) { religion } }`, { c: people[3] }, await bearer(PERSONAS.clerk));
    expect(response.status).toBe(403);
    expect(rows).toEqual([expect.objectContaining({ agency: 'gateway', action: 'REFUSED', outcome: 'DENIED', persons: [people[3]] })]);
  });
});

describe('finding 5: nothing hidden in a crowd', () => {
  it('a request that reads 100 decoys and then its target names the target, where the target and auditors look', async () => {
    const [target, ...decoys] = people.slice(5, 106);
    const { response, rows } = await recorded(
      `query ($decoys: [PersonalCode!]!, $target: PersonalCode!) { decoys: citizens(personalCodes: $decoys) { fullName } target: citizen(personalCode: $target) { fullName } }`,
      { decoys, target },
      await bearer(PERSONAS.clerk),
    );
    expect(response.errors).toBeUndefined();
    expect(classesOf(rows, target, 'residents')).toEqual(['BASIC_IDENTITY']);
    for (const decoy of decoys) expect(classesOf(rows, decoy, 'residents')).toEqual(['BASIC_IDENTITY']);

    const log = await federation.query<any>(`{ myAccessLog(first: 5) { entries { agency purpose } } }`, {}, await bearer(PERSONAS.citizen(target)));
    expect(log.data.myAccessLog.entries).toContainEqual({ agency: 'residents', purpose: 'SERVICE_COUNTER' });
    const search = await federation.query<any>(`query ($c: PersonalCode!) { auditLog(personalCode: $c, subject: "test:clerk") { entries { persons } } }`, { c: target }, await bearer(PERSONAS.auditor));
    expect(search.data.auditLog.entries.length).toBeGreaterThan(0);
  });
});

describe('finding 6: the classes recorded are the classes served', () => {
  it('a household read records its address (RESIDENCE) and relationships (RELATIONSHIPS) for every member', async () => {
    const household = await householdOfSize(f, 3);
    const { rows: members } = await f.residents.query<{ code: string }>(`SELECT so_dinh_danh AS code FROM thanh_vien_ho WHERE so_ho = $1 AND den_ngay IS NULL`, [household.number]);
    const { response, rows } = await recorded(
      `query ($n: String!) { household(number: $n) { number address { street provinceName } members { relationshipToHead citizen { fullName } } } }`,
      { n: household.number },
      await bearer(PERSONAS.clerk),
    );
    expect(response.errors).toBeUndefined();
    expect(members).toHaveLength(3);
    for (const { code } of members) {
      expect(classesOf(rows, code, 'residents')).toEqual(expect.arrayContaining(['RESIDENCE', 'RELATIONSHIPS', 'BASIC_IDENTITY']));
    }
  });

  it("an investigator's reads carry the case reference they act under", async () => {
    const { rows } = await recorded(`query ($c: PersonalCode!) { citizen(personalCode: $c) { fullName religion } }`, { c: people[4] }, await bearer(PERSONAS.investigator));
    const mine = rows.filter((r) => r.persons.includes(people[4]));
    expect(mine.length).toBeGreaterThan(0);
    for (const row of mine) expect(row).toMatchObject({ purpose: 'COURT_ORDER', case_reference: PERSONAS.investigator.case_ref });
    expect(classesOf(rows, people[4], 'residents')).toEqual(['BASIC_IDENTITY', 'SENSITIVE']);
  });
});
