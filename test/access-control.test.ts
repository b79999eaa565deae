import fs from 'node:fs';
import { AGENCIES } from '../lib/agencies';
import { buildASTSchema, isObjectType, parse } from 'graphql';
import { readClassifications } from '../lib/access/schema-classification';
import { SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { exportJWK, generateKeyPair } from 'jose';
import { createCredentialSigner, GATEWAY_ISSUER, type PrincipalClaims, type PrivateServiceJwk } from '../lib/service-auth';
import type { ServiceIssuer } from '../lib/service-keys';
import { serviceCredential, serviceKeyOf } from './support/service-credentials';
import { startFederation, type TestFederation, statements } from './support/federation';
import { livingCardHoldersWithBirth, openFixtures, type Fixtures } from './support/fixtures';
import { bearer, mintToken, PERSONAS } from './support/tokens';
import { COUNTER_CITIZEN, UNIFIED_CITIZEN } from './support/queries';

/**
 * Each access rule, tried and failing to break: tokens, the policy at the gateway, the sealed subgraphs and
 * their own enforcement (as if the gateway were bypassed or wrong).
 */
let federation: TestFederation;
let f: Fixtures;
let subject: string;
let other: string;

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
  [subject, other] = await livingCardHoldersWithBirth(f, 'access-control', 2);
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
});

const NAME = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }`;
const SENSITIVE = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName ethnicity religion bloodGroup } }`;

async function refusedBeforeAnySubgraph(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  let response!: Awaited<ReturnType<TestFederation['query']>>;
  const counts = await federation.countStatements(async () => {
    response = await federation.query(query, variables, headers);
  });
  expect(counts).toEqual(statements());
  expect(response.data ?? null).toBeNull();
  return response;
}

describe('authentication at the gateway', () => {
  it('serves a valid token', async () => {
    const response = await federation.query<any>(NAME, { code: subject }, await bearer(PERSONAS.clerk));
    expect(response.errors).toBeUndefined();
    expect(response.data.citizen.fullName).toEqual(expect.any(String));
  });

  it.each([
    ['no token', async () => ({}), 'TOKEN_MISSING'],
    ['not a bearer JWT', async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), 'TOKEN_MALFORMED'],
    ['an expired token', async () => bearer(PERSONAS.clerk, { expiresIn: -60 }), 'TOKEN_EXPIRED'],
    ['a token not valid yet', async () => bearer(PERSONAS.clerk, { notBefore: 600 }), 'TOKEN_NOT_YET_VALID'],
    ['a token for another audience', async () => bearer(PERSONAS.clerk, { audience: 'another-system' }), 'TOKEN_WRONG_AUDIENCE'],
    ['a token from another issuer', async () => bearer(PERSONAS.clerk, { issuer: 'someone-else' }), 'TOKEN_WRONG_ISSUER'],
    [
      'a forged token (claims changed after signing)',
      async () => {
        const [header, payload, signature] = (await mintToken(PERSONAS.clerk)).split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
        const forged = Buffer.from(JSON.stringify({ ...claims, role: 'INVESTIGATOR', purpose: 'COURT_ORDER' })).toString('base64url');
        return { authorization: `Bearer ${header}.${forged}.${signature}` };
      },
      'TOKEN_INVALID',
    ],
    ['a token without a known role', async () => bearer({ sub: 'x', role: 'ADMIN', purpose: 'SERVICE_COUNTER' }), 'TOKEN_CLAIMS'],
  ])('refuses %s with 401 and nothing fetched', async (_what, headers, reason) => {
    const response = await refusedBeforeAnySubgraph(NAME, { code: subject }, await headers());
    expect(response.status).toBe(401);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
  });
});

describe('purpose of use', () => {
  const clerk = { sub: 'c', role: 'CLERK', agency: 'residents' };
  it.each([
    [clerk, {}, 'PURPOSE_REQUIRED'],
    [clerk, { 'x-purpose': 'CURIOSITY' }, 'PURPOSE_UNKNOWN'],
    [{ ...clerk, purpose: 'COURT_ORDER' }, {}, 'PURPOSE_NOT_ALLOWED'],
    // The purpose is the token's: a header cannot supply one the token lacks, nor replace the token's.
    [clerk, { 'x-purpose': 'SERVICE_COUNTER' }, 'PURPOSE_NOT_IN_TOKEN'],
    [{ ...clerk, purpose: 'SERVICE_COUNTER' }, { 'x-purpose': 'CIVIL_REGISTRATION' }, 'PURPOSE_NOT_IN_TOKEN'],
    [{ sub: 'i', role: 'INVESTIGATOR', agency: 'police', purpose: 'POLICE_CASE' }, {}, 'CASE_REFERENCE_REQUIRED'],
    [{ sub: 'i', role: 'INVESTIGATOR', agency: 'police', purpose: 'POLICE_CASE', case_ref: 'CA-HN/2026/77' }, { 'x-case-reference': 'CA-HN/2026/78' }, 'CASE_REFERENCE_MISMATCH'],
  ])('refuses %j with %j: 403 %s', async (claims, extra, reason) => {
    const response = await refusedBeforeAnySubgraph(NAME, { code: subject }, { ...(await bearer(claims)), ...extra });
    expect(response.status).toBe(403);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason });
  });

  it('lets the x-purpose header choose among the purposes the token lists', async () => {
    const token = await bearer({ sub: 'r', role: 'REGISTRAR', agency: 'residents', purpose: ['SERVICE_COUNTER', 'CIVIL_REGISTRATION'] });
    expect((await federation.query<any>(NAME, { code: subject }, { ...token, 'x-purpose': 'SERVICE_COUNTER' })).errors).toBeUndefined();
    // Several purposes and no choice: the request has none.
    const none = await refusedBeforeAnySubgraph(NAME, { code: subject }, token);
    expect(none.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PURPOSE_REQUIRED' });
  });

  it('takes an investigator\'s case reference from the header when the token has none', async () => {
    const token = await bearer({ sub: 'i', role: 'INVESTIGATOR', agency: 'police', purpose: 'POLICE_CASE' });
    const response = await federation.query<any>(NAME, { code: subject }, { ...token, 'x-case-reference': 'CA-HN/2026/77' });
    expect(response.errors).toBeUndefined();
  });
});

describe('field-level access by role and purpose, at the gateway', () => {
  it('refuses a clerk asking for sensitive fields, naming them, before any subgraph is called', async () => {
    const response = await refusedBeforeAnySubgraph(SENSITIVE, { code: subject }, await bearer(PERSONAS.clerk));
    expect(response.errors?.[0].extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'FIELDS_NOT_ALLOWED',
      deniedFields: ['Citizen.bloodGroup', 'Citizen.ethnicity', 'Citizen.religion'],
    });
  });

  it('lets an investigator under a court order see them', async () => {
    const response = await federation.query<any>(SENSITIVE, { code: subject }, await bearer(PERSONAS.investigator));
    expect(response.errors).toBeUndefined();
    expect(response.data.citizen.ethnicity).toEqual(expect.any(String));
  });

  it('gives an analyst aggregates, never names, codes or addresses', async () => {
    const analyst = await bearer(PERSONAS.analyst);
    expect((await federation.query<any>(`{ citizenStatistics(groupBy: [SEX]) { total } }`, {}, analyst)).errors).toBeUndefined();
    const names = await refusedBeforeAnySubgraph(NAME, { code: subject }, analyst);
    expect(names.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'FIELDS_NOT_ALLOWED' });
    const search = await refusedBeforeAnySubgraph(`{ searchCitizens(birthProvince: "001") { edges { node { personalCode } } } }`, {}, analyst);
    expect(search.errors?.[0].extensions?.deniedFields).toEqual(expect.arrayContaining(['Query.searchCitizens', 'Citizen.personalCode']));
  });

  it('lets a citizen see their own record, sensitive fields included, and nothing of anyone else beyond their parents’ and children’s names', async () => {
    const own = await bearer(PERSONAS.citizen(subject));
    const mine = await federation.query<any>(SENSITIVE, { code: subject }, own);
    expect(mine.errors).toBeUndefined();
    expect(mine.data.citizen.fullName).toEqual(expect.any(String));
    const theirs = await refusedBeforeAnySubgraph(NAME, { code: other }, own);
    expect(theirs.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
    const search = await refusedBeforeAnySubgraph(`{ searchCitizens(name: "Nguyễn") { edges { cursor } } }`, {}, own);
    expect(search.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
    // Of their parents and children, the name and code only (citizen self-service: test/citizen-self-service.test.ts).
    const relatives = await refusedBeforeAnySubgraph(`query ($code: PersonalCode!) { citizen(personalCode: $code) { parents { fullName dateOfBirth } } }`, { code: subject }, own);
    expect(relatives.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD', deniedFields: ['Citizen.dateOfBirth (of a parent or child)'] });
  });

  it('classifies every field of the supergraph', () => {
    const sdl = fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8');
    const classifications = readClassifications(sdl);
    const supergraph = buildASTSchema(parse(sdl), { assumeValidSDL: true });
    const unclassified: string[] = [];
    let fields = 0;
    for (const type of Object.values(supergraph.getTypeMap())) {
      if (!isObjectType(type) || /^(__|join__|link__)/.test(type.name)) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.astNode?.directives?.some((d) => d.name.value === 'inaccessible')) continue;
        fields += 1;
        if (!classifications.has(`${type.name}.${field.name}`)) unclassified.push(`${type.name}.${field.name}`);
      }
    }
    expect(fields).toBeGreaterThan(100);
    expect(unclassified).toEqual([]);
    expect(classifications.get('Citizen.ethnicity')).toBe('SENSITIVE');
    expect(classifications.get('Citizen.parents')).toBe('RELATIONSHIPS');
  });
});

describe('sealed subgraphs', () => {
  /** Who a direct call goes as: a credential of `issuer` (the gateway by default) for `audience`, signed over the call's body. */
  interface As {
    audience: string;
    principal: PrincipalClaims;
    issuer?: ServiceIssuer;
    /** Signs with this key instead of the issuer's own. */
    key?: PrivateServiceJwk;
  }
  const credential = (audience: string, principal: PrincipalClaims): As => ({ audience, principal });
  const clerk: PrincipalClaims = { sub: 'test:clerk', role: 'CLERK', agency: 'residents', pc: null, purpose: 'SERVICE_COUNTER', rid: 'access-test-1' };

  const call = async (agency: keyof TestFederation['subgraphUrls'], query: string, variables: object = {}, as?: As) => {
    const body = JSON.stringify({ query, variables });
    const issuer = as?.issuer ?? GATEWAY_ISSUER;
    const token = !as
      ? undefined
      : as.key
        ? await createCredentialSigner(issuer, as.key).sign(as.audience, body, { principal: as.principal })
        : await serviceCredential(issuer as ServiceIssuer, as.audience, body, { principal: as.principal });
    const response = await fetch(federation.subgraphUrls[agency], {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Service ${token}` } : {}) },
      body,
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  it.each(AGENCIES.map((a) => a.id))('%s answers nothing without a credential, _entities and _service included', async (agency) => {
    for (const query of [
      `{ _service { sdl } }`,
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { personalCode } } }`,
    ]) {
      const { status, body } = await call(agency, query, { r: [{ __typename: 'Citizen', personalCode: subject }] });
      expect(status).toBe(401);
      expect(body.data).toBeUndefined();
      expect(body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'CREDENTIAL_REQUIRED' });
    }
  });

  it('refuses a credential for another subgraph, or signed with a key the trust file does not list for its issuer', async () => {
    const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const key = { ...(await exportJWK(foreign.privateKey)), kid: serviceKeyOf('gateway').kid } as PrivateServiceJwk;
    for (const as of [credential('national-id', clerk), { ...credential('residents', clerk), key }]) {
      const { status, body } = await call('residents', `{ _service { sdl } }`, {}, as);
      expect(status).toBe(401);
      expect(body.data).toBeUndefined();
    }
  });

  it('enforces the policy again itself: a clerk asking residents directly for sensitive fields', async () => {
    const { body } = await call('residents', SENSITIVE, { code: subject }, credential('residents', clerk));
    expect(body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'FIELD_NOT_ALLOWED' });
    expect(body.data?.citizen?.ethnicity ?? null).toBeNull();
  });

  it("refuses a citizen another citizen's record through a root field and through _entities, in every subgraph", async () => {
    const citizen: PrincipalClaims = { sub: `citizen:${subject}`, role: 'CITIZEN', agency: null, pc: subject, purpose: 'OWN_DATA', rid: 'access-test-2' };
    const root = await call('residents', NAME, { code: other }, credential('residents', citizen));
    expect(root.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
    for (const [agency, selection] of [
      ['residents', 'fullName'],
      ['national-id', 'identityCard { number }'],
      ['birth-registry', 'birthRegistration { registrationNumber }'],
    ] as const) {
      const entities = await call(
        agency,
        `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { ${selection} } } }`,
        { r: [{ __typename: 'Citizen', personalCode: other, personalCodes: [other], dateOfDeath: null }] },
        credential(agency, citizen),
      );
      expect(entities.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
      expect(entities.body.data?._entities ?? [null]).toEqual([null]);
      const own = await call(
        agency,
        `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { ${selection} } } }`,
        { r: [{ __typename: 'Citizen', personalCode: subject, personalCodes: [subject], dateOfDeath: null }] },
        credential(agency, citizen),
      );
      expect(own.body.errors).toBeUndefined();
    }
  });
});

describe('the unified view under access control', () => {
  it('is served whole to a clerk at a service counter when it asks only for what clerks may see', async () => {
    const response = await federation.query<any>(COUNTER_CITIZEN, { code: subject }, await bearer(PERSONAS.clerk));
    expect(response.errors).toBeUndefined();
    expect(response.data.citizen).toMatchObject({ personalCode: subject, identityCard: { number: expect.any(String) } });
    expect(response.data.citizen.birthRegistration.registrationNumber).toEqual(expect.any(String));
    const full = await federation.query<any>(UNIFIED_CITIZEN, { code: subject }, await bearer(PERSONAS.clerk));
    expect(full.errors?.[0].extensions?.deniedFields).toEqual([
      'Citizen.bloodGroup', 'Citizen.ethnicity', 'Citizen.maritalStatus', 'Citizen.religion',
    ]);
  });
});
