import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { startFederation, type TestFederation, statements } from './support/federation';
import { citizenWithParentsAndChildren, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';
import { serviceCredential, postWithCredential } from './support/service-credentials';
import { operationBody } from '../lib/trusted-documents';
import { RELATIVES_EXTENSION } from '../lib/access/subgraph-access';
import { REPOSITORY_ROOT } from '../lib/env';
import type { PrincipalClaims } from '../lib/service-auth';

/**
 * Citizen self-service (docs/DESIGN.md): a citizen reads their whole own record, their own birth registration,
 * and their parents and children by name and personal code only; every such read is audited under each person
 * it names; and nothing a citizen can write reaches anyone else, or more of a relative, at the gateway or, asked
 * directly, at a subgraph.
 */
let federation: TestFederation;
let f: Fixtures;
let audit: Pool;
let me: { code: string; parents: string[]; children: string[] };
let citizen: Record<string, string>;

beforeAll(async () => {
  // A generous subgraph timeout: these tests are about what is served, not how fast, on a busy machine.
  federation = await startFederation();
  f = openFixtures();
  audit = new Pool({ connectionString: testDatabases().auditUrl, max: 2 });
  me = await citizenWithParentsAndChildren(f, 'citizen-self-service');
  citizen = await bearer(PERSONAS.citizen(me.code));
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
  await audit?.end();
});

const namesOf = async (codes: string[]) =>
  Object.fromEntries((await f.residents.query<{ code: string; name: string }>('SELECT so_dinh_danh AS code, ho_ten AS name FROM cong_dan WHERE so_dinh_danh = ANY($1)', [codes])).rows.map((r) => [r.code, r.name]));

const recordsOf = async (requestId: string) =>
  (
    await audit.query<{ agency: string; action: string; persons: string[]; classes: string[]; operation: string; role: string; purpose: string }>(
      'SELECT agency, action, persons, classes, operation, role, purpose FROM audit_log WHERE request_id = $1 ORDER BY seq',
      [requestId],
    )
  ).rows;

describe("a citizen's own record", () => {
  it('MyRecord: the whole record, the own birth registration, and the parents and children by name and code', async () => {
    const requestId = `self-service-${Date.now()}`;
    const response = await federation.query<any>(operationBody('MyRecord'), { code: me.code }, { ...citizen, 'x-request-id': requestId });
    expect(response.errors).toBeUndefined();
    const record = response.data.citizen;
    expect(record.personalCode).toBe(me.code);
    expect(record.ethnicity).toEqual(expect.any(String)); // their own sensitive data
    expect(record.household?.relationshipToHead ?? 'none').toEqual(expect.any(String));
    const names = await namesOf([...me.parents, ...me.children]);
    expect(record.parents.map((p: any) => p.personalCode).sort()).toEqual(me.parents);
    expect(record.children.map((c: any) => c.personalCode).sort()).toEqual(me.children);
    for (const relative of [...record.parents, ...record.children]) expect(relative.fullName).toBe(names[relative.personalCode]);
    const registered = [record.birthRegistration.father.citizen, record.birthRegistration.mother.citizen];
    expect(registered.map((p: any) => p.personalCode).sort()).toEqual(me.parents);
    for (const parent of registered) expect(parent.fullName).toBe(names[parent.personalCode]);
    // The agencies' notes to the gateway about relatives never reach the client.
    expect(JSON.stringify(response)).not.toContain(`"${RELATIVES_EXTENSION}"`);

    // Audited: the citizen's own data in every agency, and each relative, by the agency that served them:
    // the birth registry named them (RELATIONSHIPS), residents served their names (BASIC_IDENTITY; and RESIDENCE
    // for a relative who shares the citizen's household, whose address is every member's), nothing more.
    const records = await recordsOf(requestId);
    expect(records.every((r) => r.action === 'READ' && r.role === 'CITIZEN' && r.purpose === 'OWN_DATA')).toBe(true);
    const personsIn = (agency: string) => new Set(records.filter((r) => r.agency === agency).flatMap((r) => r.persons));
    for (const agency of ['residents', 'national-id', 'birth-registry']) expect(personsIn(agency).has(me.code)).toBe(true);
    for (const relative of [...me.parents, ...me.children]) {
      expect(personsIn('birth-registry').has(relative)).toBe(true);
      const served = records.filter((r) => r.agency === 'residents' && r.persons.includes(relative));
      const classes = new Set(served.flatMap((r) => r.classes));
      expect(classes.has('BASIC_IDENTITY')).toBe(true);
      expect([...classes].filter((c) => c !== 'BASIC_IDENTITY' && c !== 'RESIDENCE')).toEqual([]);
      expect(personsIn('national-id').has(relative)).toBe(false);
    }
    // So a parent finds the read of their name in their own access log.
    const parentLog = await federation.query<any>(operationBody('MyAccessLog'), { first: 50 }, await bearer(PERSONAS.citizen(me.parents[0])));
    expect(parentLog.errors).toBeUndefined();
    expect(parentLog.data.myAccessLog.entries).toEqual(expect.arrayContaining([expect.objectContaining({ agency: 'residents', purpose: 'OWN_DATA', classes: ['BASIC_IDENTITY'] })]));
  });

  it("runs the README's example and the UnifiedCitizen operation for the citizen themself", async () => {
    const readme = fs.readFileSync(path.join(REPOSITORY_ROOT, 'README.md'), 'utf8');
    const example = /## An example\s+```graphql\n([\s\S]*?)```/.exec(readme)![1];
    const fromReadme = await federation.query<any>(example, { code: me.code }, citizen);
    expect(fromReadme.errors).toBeUndefined();
    expect(fromReadme.data.citizen.parents.map((p: any) => p.personalCode).sort()).toEqual(me.parents);
    const unified = await federation.query<any>(operationBody('UnifiedCitizen'), { code: me.code }, citizen);
    expect(unified.errors).toBeUndefined();
    expect(unified.data.citizen.children.map((c: any) => c.personalCode).sort()).toEqual(me.children);
  });

  it('MyAccessLog: the citizen reads their own access log, a page at a time', async () => {
    const first = await federation.query<any>(operationBody('MyAccessLog'), { first: 1 }, citizen);
    expect(first.errors).toBeUndefined();
    expect(first.data.myAccessLog.entries).toHaveLength(1);
    expect(first.data.myAccessLog.pageInfo.hasNextPage).toBe(true);
    const next = await federation.query<any>(operationBody('MyAccessLog'), { first: 1, after: first.data.myAccessLog.pageInfo.endCursor }, citizen);
    expect(next.data.myAccessLog.entries).toHaveLength(1);
    expect(next.data.myAccessLog.entries[0]).not.toEqual(first.data.myAccessLog.entries[0]);
  });
});

describe('no way from the own record to a stranger, or to more of a relative, at the gateway', () => {
  const around = (selection: string, fragments = '') => `query ($code: PersonalCode!) { citizen(personalCode: $code) { ${selection} } } ${fragments}`;
  it.each([
    ["a parent's parents", around('parents { parents { fullName } }'), ['Citizen.parents (of a parent or child)']],
    ["a parent's date of birth", around('parents { fullName dateOfBirth }'), ['Citizen.dateOfBirth (of a parent or child)']],
    ["a child's household", around('children { household { household { number } } }'), ['Citizen.household (of a parent or child)']],
    ["a child's card", around('children { identityCard { number } }'), ['Citizen.identityCard (of a parent or child)']],
    ["a parent's birth registration", around('parents { birthRegistration { registrationNumber } }'), ['Citizen.birthRegistration (of a parent or child)']],
    ["the registered father's record", around('birthRegistration { father { citizen { fullName religion } } }'), ['Citizen.religion (of a parent or child)']],
    ["the registered mother's children", around('birthRegistration { mother { citizen { children { personalCode } } } }'), ['Citizen.children (of a parent or child)']],
    ["the household's members", around('household { household { members { citizen { fullName } } } }'), ['Household.members']],
    ["the household's head", around('household { household { head { fullName } } }'), ['Household.head']],
    ['an alias hiding a sensitive field of a parent', around('mum: parents { n: fullName secret: religion }'), ['Citizen.religion (of a parent or child)']],
    ['an inline fragment on a child', around('children { ... on Citizen { sex } }'), ['Citizen.sex (of a parent or child)']],
    [
      'a fragment harmless on the own record, spread on a parent too',
      around('...Person parents { ...Person }', 'fragment Person on Citizen { fullName dateOfBirth }'),
      ['Citizen.dateOfBirth (of a parent or child)'],
    ],
    [
      'a root field in a named fragment, the relative selection nested in another',
      `query ($code: PersonalCode!) { ...Root } fragment Root on Query { citizen(personalCode: $code) { children { ...Kid } } } fragment Kid on Citizen { personalCode placeOfOrigin }`,
      ['Citizen.placeOfOrigin (of a parent or child)'],
    ],
  ])('%s: 403 NOT_OWN_RECORD, nothing fetched, audited', async (_what, query, denied) => {
    const requestId = `self-service-refused-${Math.random().toString(36).slice(2)}`;
    let response!: Awaited<ReturnType<TestFederation['query']>>;
    const counts = await federation.countStatements(async () => {
      response = await federation.query(query, { code: me.code }, { ...citizen, 'x-request-id': requestId });
    });
    expect(response.status).toBe(403);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD', deniedFields: denied });
    expect(response.data ?? null).toBeNull();
    expect(counts).toEqual(statements());
    const records = await recordsOf(requestId);
    expect(records).toEqual([expect.objectContaining({ agency: 'gateway', action: 'REFUSED', persons: [me.code], role: 'CITIZEN' })]);
    expect(records[0].operation).toMatch(/NOT_OWN_RECORD/);
  });

  it('leaves other roles as they were: a clerk still reads a parent’s date of birth', async () => {
    const response = await federation.query<any>(around('parents { fullName dateOfBirth }'), { code: me.code }, await bearer(PERSONAS.clerk));
    expect(response.errors).toBeUndefined();
    expect(response.data.citizen.parents[0].dateOfBirth).toEqual(expect.any(String));
  });
});

describe('no way round it at a subgraph (asked directly, with a credential for a citizen)', () => {
  let principal: PrincipalClaims;
  beforeAll(() => {
    principal = { sub: `citizen:${me.code}`, role: 'CITIZEN', agency: null, pc: me.code, purpose: 'OWN_DATA', rid: `self-service-direct-${Date.now()}` };
  });
  const ask = async (agency: 'residents' | 'national-id' | 'birth-registry', query: string, variables: Record<string, unknown>, relatives?: string[]) => {
    const body = JSON.stringify({ query, variables });
    return postWithCredential(federation.subgraphUrls[agency], body, await serviceCredential('gateway', agency, body, { principal, relatives }));
  };
  const entities = (selection: string) => `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { ${selection} } } }`;
  const representation = (code: string) => ({ __typename: 'Citizen', personalCode: code, personalCodes: [code] });

  it('residents serves a relative’s name only when the gateway names them as a relative, and nothing else of them', async () => {
    const parent = me.parents[0];
    const unnamed = await ask('residents', entities('fullName'), { r: [representation(parent)] });
    expect(unnamed.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
    expect(unnamed.body.data?._entities ?? [null]).toEqual([null]);
    const named = await ask('residents', entities('personalCode fullName'), { r: [representation(parent)] }, [parent]);
    expect(named.body.errors).toBeUndefined();
    expect(named.body.data._entities[0]).toEqual({ personalCode: parent, fullName: (await namesOf([parent]))[parent] });
    for (const selection of ['religion', 'dateOfBirth', 'permanentResidence { from }', 'household { relationshipToHead }']) {
      const more = await ask('residents', entities(`fullName ${selection}`), { r: [representation(parent)] }, [parent]);
      expect(more.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
    }
  });

  it('national-id serves nothing of a relative, even one the gateway names', async () => {
    const response = await ask('national-id', entities('identityCard { number }'), { r: [representation(me.parents[0])] }, me.parents);
    expect(response.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
  });

  it('the birth registry names the relatives it serves for the gateway, and goes no further from them', async () => {
    const own = await ask('birth-registry', entities('parents { personalCode } children { personalCode }'), { r: [representation(me.code)] });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.extensions[RELATIVES_EXTENSION]).toEqual([...me.parents, ...me.children].sort());
    for (const selection of ['parents { parents { personalCode } }', 'children { birthRegistration { registrationNumber } }', 'parents { children { personalCode } }']) {
      const further = await ask('birth-registry', entities(selection), { r: [representation(me.code)] });
      expect(further.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
    }
  });

  it('residents refuses the household’s member list and head to a citizen, and serves the rest of their membership', async () => {
    const { rows } = await f.residents.query<{ code: string }>('SELECT so_dinh_danh AS code FROM thanh_vien_ho WHERE den_ngay IS NULL ORDER BY md5(so_dinh_danh) LIMIT 1');
    const member = rows[0].code;
    const as = { ...principal, sub: `citizen:${member}`, pc: member };
    const own = (selection: string) => `query ($code: PersonalCode!) { citizen(personalCode: $code) { household { relationshipToHead household { number ${selection} } } } }`;
    const send = async (query: string) => {
      const body = JSON.stringify({ query, variables: { code: member } });
      return postWithCredential(federation.subgraphUrls.residents, body, await serviceCredential('gateway', 'residents', body, { principal: as }));
    };
    const allowed = await send(own('address { street }'));
    expect(allowed.body.errors).toBeUndefined();
    expect(allowed.body.data.citizen.household.relationshipToHead).toEqual(expect.any(String));
    for (const [selection, field] of [['members { relationshipToHead }', 'Household.members'], ['head { personalCode }', 'Household.head']]) {
      const refused = await send(own(selection));
      expect(refused.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD', field });
    }
  });

  it('refuses a credential whose relatives are not personal codes', async () => {
    const response = await ask('residents', entities('fullName'), { r: [representation(me.code)] }, ['not-a-code']);
    expect(response.status).toBe(401);
    expect(response.body.errors[0].extensions).toMatchObject({ reason: 'CREDENTIAL_INVALID' });
  });
});
