import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { Pool } from 'pg';
import { startFederation, type TestFederation, statements } from './support/federation';
import { bearer, PERSONAS } from './support/tokens';
import { productionGateway } from './support/service-credentials';
import { testDatabases } from './support/databases';
import { citizenWithEverything, openFixtures } from './support/fixtures';

/**
 * Introspection reveals the schema, never a person's data: in development it answers any caller with a valid
 * token and purpose, whatever their role; in production it is off unless INTROSPECTION=true, and then answers
 * only callers who may send free-form documents. Never without a token. Data fields asked beside it are checked
 * by the access policy as always, however the document hides them (aliases, fragments).
 */
const NOTHING = statements();
// What GraphiQL sends to fill its Docs panel and autocomplete (graphql-js builds GraphiQL's query the same way).
const FULL_INTROSPECTION = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true, directiveIsRepeatable: true });

interface Answer {
  status: number;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] };
}

async function post(federation: TestFederation, query: string, headers: Record<string, string>, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(federation.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** Sends the request and checks that no agency database was asked anything. */
async function withoutData(federation: TestFederation, query: string, headers: Record<string, string>, variables?: Record<string, unknown>): Promise<Answer> {
  let answer!: Answer;
  expect(await federation.countStatements(async () => void (answer = await post(federation, query, headers, variables)))).toEqual(NOTHING);
  return answer;
}

/** Expects one refusal with that code and nothing of the schema or of any record in the answer. */
function expectRefused(answer: Answer, status: number, code: string, reason?: string) {
  expect({ status: answer.status, code: answer.body.errors?.[0]?.extensions?.code }).toEqual({ status, code });
  if (reason) expect(answer.body.errors![0].extensions!.reason).toBe(reason);
  expect(answer.body.errors).toHaveLength(1);
  expect(answer.body.data ?? null).toBeNull();
}

let code: string;
let other: string;
beforeAll(async () => {
  const f = openFixtures();
  try {
    code = await citizenWithEverything(f);
    other = (await f.residents.query<{ code: string }>(`SELECT so_dinh_danh AS code FROM cong_dan WHERE so_dinh_danh <> $1 ORDER BY so_dinh_danh LIMIT 1`, [code])).rows[0].code;
  } finally {
    await f.end();
  }
});

describe('development: introspection for every authenticated caller', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    federation = await startFederation();
  });
  afterAll(async () => federation?.stop());

  const roles = {
    CLERK: PERSONAS.clerk,
    REGISTRAR: PERSONAS.registrar('residents'),
    INVESTIGATOR: PERSONAS.investigator,
    ANALYST: PERSONAS.analyst,
    AUDITOR: PERSONAS.auditor,
    CITIZEN: () => PERSONAS.citizen(code),
  } as const;

  it.each(Object.keys(roles))('the role %s gets the whole schema, as GraphiQL asks for it, and no agency database is touched', async (role) => {
    const persona = roles[role as keyof typeof roles];
    const answer = await withoutData(federation, FULL_INTROSPECTION, await bearer(typeof persona === 'function' ? persona() : persona));
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    const schema = buildClientSchema(answer.body.data as IntrospectionQuery);
    expect(Object.keys(schema.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['citizen', 'citizens', 'household', 'searchCitizens', 'citizenStatistics']));
    expect(schema.getType('Citizen')).toBeDefined();
    // The API schema only: no federation internals.
    expect(Object.keys(schema.getTypeMap()).filter((name) => /^(join__|link__|_Entity$|_Service$)/.test(name))).toEqual([]);
  });

  it('answers __type in aliases and fragments, nested in inline fragments on Query', async () => {
    const answer = await withoutData(
      federation,
      `query { ... on Query { t: __type(name: "Citizen") { ...TypeName fields { name } } } ...Root }
       fragment TypeName on __Type { name kind }
       fragment Root on Query { s: __schema { queryType { name } } __typename }`,
      await bearer(PERSONAS.analyst),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ t: { name: 'Citizen', kind: 'OBJECT' }, s: { queryType: { name: 'Query' } }, __typename: 'Query' });
    expect(answer.body.data.t.fields.map((f: { name: string }) => f.name)).toContain('fullName');
  });

  it('refuses a caller without a token, with a token it cannot verify, and with a purpose its role may not use', async () => {
    expectRefused(await withoutData(federation, FULL_INTROSPECTION, {}), 401, 'UNAUTHENTICATED');
    const forged = (await bearer(PERSONAS.clerk)).authorization.replace(/.{6}$/, 'AAAAAA');
    expectRefused(await withoutData(federation, FULL_INTROSPECTION, { authorization: forged }), 401, 'UNAUTHENTICATED');
    expectRefused(await withoutData(federation, `{ __schema { queryType { name } } }`, await bearer({ ...PERSONAS.clerk, purpose: 'AUDIT' })), 403, 'FORBIDDEN', 'PURPOSE_NOT_ALLOWED');
  });

  describe("an attacker's tries: data fields beside introspection are checked as always", () => {
    it('an analyst asking for a name beside __schema: refused whole, the schema part included', async () => {
      const answer = await withoutData(
        federation,
        `query ($c: PersonalCode!) { __schema { types { name } } citizen(personalCode: $c) { __typename fullName } }`,
        await bearer(PERSONAS.analyst),
        { c: code },
      );
      expectRefused(answer, 403, 'FORBIDDEN', 'FIELDS_NOT_ALLOWED');
      expect(answer.body.errors![0].extensions!.deniedFields).toContain('Citizen.fullName');
    });

    it('a clerk hiding a sensitive field in a fragment that also asks __type', async () => {
      const answer = await withoutData(
        federation,
        `query ($c: PersonalCode!) { ...F } fragment F on Query { __type(name: "Citizen") { name } x: citizen(personalCode: $c) { fullName ... on Citizen { ethnicity } } }`,
        await bearer(PERSONAS.clerk),
        { c: code },
      );
      expectRefused(answer, 403, 'FORBIDDEN', 'FIELDS_NOT_ALLOWED');
      expect(answer.body.errors![0].extensions!.deniedFields).toEqual(['Citizen.ethnicity']);
    });

    it("a citizen asking for another person's record behind an aliased __type", async () => {
      const answer = await withoutData(
        federation,
        `query ($o: PersonalCode!) { t: __type(name: "Citizen") { fields { name } } ... on Query { mine: citizen(personalCode: $o) { fullName } } }`,
        await bearer(PERSONAS.citizen(code)),
        { o: other },
      );
      expectRefused(answer, 403, 'FORBIDDEN', 'NOT_OWN_RECORD');
    });

    it('a clerk: introspection beside fields the role may see is answered, and the data part is audited as ever', async () => {
      const audit = new Pool({ connectionString: testDatabases().auditUrl, max: 1 });
      try {
        const requestId = `introspection-${Date.now()}`;
        const answer = await post(
          federation,
          `query ($c: PersonalCode!) { __type(name: "Citizen") { name } citizen(personalCode: $c) { fullName } }`,
          { ...(await bearer(PERSONAS.clerk)), 'x-request-id': requestId },
          { c: code },
        );
        expect(answer.status).toBe(200);
        expect(answer.body.data).toEqual({ __type: { name: 'Citizen' }, citizen: { fullName: expect.any(String) } });
        const { rows } = await audit.query<{ persons: string[] }>(`SELECT persons::text[] AS persons FROM audit_log WHERE request_id = $1 AND action = 'READ'`, [requestId]);
        expect(rows.flatMap((r) => r.persons)).toContain(code);
      } finally {
        await audit.end();
      }
    });
  });
});

describe('production: introspection off unless INTROSPECTION=true', () => {
  let PRODUCTION: Awaited<ReturnType<typeof productionGateway>>;
  beforeAll(async () => {
    PRODUCTION = await productionGateway();
  });

  describe('by default', () => {
    let federation: TestFederation;
    beforeAll(async () => {
      federation = await startFederation({ serviceKeys: PRODUCTION.serviceKeys, gatewayEnv: { ...PRODUCTION.env, RATE_LIMIT_PER_SECOND: '0' } });
    });
    afterAll(async () => federation?.stop());

    it.each([
      ['the full introspection query', FULL_INTROSPECTION],
      ['__type behind an alias in an inline fragment', `{ ... on Query { t: __type(name: "Citizen") { name } } }`],
      ['__schema in a named fragment', `{ ...F } fragment F on Query { x: __schema { types { name } } }`],
    ])('refuses %s, even to a role allowed free-form documents', async (_, query) => {
      const answer = await withoutData(federation, query, await bearer(PERSONAS.analyst));
      expectRefused(answer, 400, 'GRAPHQL_VALIDATION_FAILED');
      expect(answer.body.errors![0].message).toMatch(/introspection is not allowed/i);
    });

    it('refuses it without a token before anything else', async () => {
      expectRefused(await withoutData(federation, FULL_INTROSPECTION, {}), 401, 'UNAUTHENTICATED');
    });
  });

  describe('with INTROSPECTION=true', () => {
    let federation: TestFederation;
    beforeAll(async () => {
      federation = await startFederation({ serviceKeys: PRODUCTION.serviceKeys, gatewayEnv: { ...PRODUCTION.env, RATE_LIMIT_PER_SECOND: '0', INTROSPECTION: 'true' } });
    });
    afterAll(async () => federation?.stop());

    it('answers a caller allowed free-form documents (an analyst)', async () => {
      const answer = await withoutData(federation, FULL_INTROSPECTION, await bearer(PERSONAS.analyst));
      expect(answer.status).toBe(200);
      expect(buildClientSchema(answer.body.data as IntrospectionQuery).getType('Citizen')).toBeDefined();
    });

    it('keeps trusted documents required for everyone else: a clerk cannot send the introspection text', async () => {
      expectRefused(await withoutData(federation, FULL_INTROSPECTION, await bearer(PERSONAS.clerk)), 400, 'TRUSTED_DOCUMENT_REQUIRED');
    });

    it('never answers without a token', async () => {
      expectRefused(await withoutData(federation, FULL_INTROSPECTION, {}), 401, 'UNAUTHENTICATED');
    });
  });
});
