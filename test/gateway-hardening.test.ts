import type { IncomingMessage } from 'node:http';
import { getOperationAST, parse } from 'graphql';
import { readConfig } from '../gateway/config';
import { measureOperation, DEFAULT_FIELD_WEIGHTS } from '../gateway/operation-limits';
import { callerKey, TokenBuckets } from '../gateway/rate-limit';
import { allowsAdHocQueries, trustedDocuments } from '../gateway/trusted-documents';
import type { GatewayContext } from '../gateway/data-source';
import { composeApiSchema } from '../tools/compose';
import { OPERATIONS_MANIFEST, readManifest, sha256Hex, TRUSTED_DOCUMENTS_DIR } from '../lib/trusted-documents';
import type { Principal } from '../lib/access/principal';
import { startFederation, type TestFederation, statements } from './support/federation';
import { bearer, PERSONAS } from './support/tokens';
import { productionGateway } from './support/service-credentials';
import { citizenWithEverything, openFixtures } from './support/fixtures';
import { CITIZEN_LIST, UNIFIED_CITIZEN } from './support/queries';

/**
 * The gateway's own defences, through the real gateway over HTTP: each test tries to break a rule and
 * is refused with a precise error and a stable code, before any agency database is touched.
 */
const NOTHING = statements();
const manifest = readManifest(OPERATIONS_MANIFEST);
const idOf = (name: string) => manifest.operations.find((o) => o.name === name)!.id;

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] };
}

/** As an investigator (who may read a whole record) unless the headers say otherwise. */
async function post(federation: TestFederation, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(federation.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(headers.authorization ? {} : await bearer(PERSONAS.investigator)), ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

/** Sends the request, expects exactly one error and no SQL statement anywhere; returns the answer. */
async function refused(federation: TestFederation, body: unknown, headers?: Record<string, string>): Promise<Answer & { error: any }> {
  let answer!: Answer;
  const counts = await federation.countStatements(async () => {
    answer = await post(federation, body, headers);
  });
  expect(counts).toEqual(NOTHING);
  expect(answer.body.data ?? null).toBeNull();
  expect(answer.body.errors).toHaveLength(1);
  expect(JSON.stringify(answer.body)).not.toMatch(/stacktrace|\bat \/|https?:\/\/|serviceName/);
  return { ...answer, error: answer.body.errors![0] };
}

let code: string;
beforeAll(async () => {
  const f = openFixtures();
  try {
    code = await citizenWithEverything(f);
  } finally {
    await f.end();
  }
});

describe('operation limits (development settings, free-form documents allowed)', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    federation = await startFederation({
      gatewayEnv: {
        TRUSTED_DOCUMENTS: 'off',
        OPERATION_MAX_DEPTH: '6',
        OPERATION_MAX_ALIASES: '10',
        OPERATION_MAX_TOKENS: '500',
        OPERATION_MAX_DIRECTIVES: '5',
        OPERATION_MAX_COST: '50000',
        OPERATION_MAX_COST_AD_HOC: '3000',
      },
    });
  });
  afterAll(async () => federation?.stop());

  const limit = (limitName: string, maximum: number) => ({ code: 'OPERATION_LIMIT_EXCEEDED', limit: limitName, maximum });

  it('refuses a deep query', async () => {
    const deep = `{ citizen(personalCode: "${code}") { parents { parents { parents { parents { parents { personalCode } } } } } } }`;
    const { status, error } = await refused(federation, { query: deep });
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ ...limit('depth', 6), actual: 7 });
    expect(error.message).toMatch(/7 deep; at most 6/);
  });

  it('refuses an aliased flood', async () => {
    const aliases = Array.from({ length: 11 }, (_, i) => `c${i}: citizen(personalCode: "${code}") { fullName }`).join(' ');
    const { status, error } = await refused(federation, { query: `{ ${aliases} }` });
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ ...limit('aliases', 10), actual: 11 });
  });

  it('counts aliases inside fragments as many times as the fragments are spread', async () => {
    const query = `
      query { citizen(personalCode: "${code}") { ...A ...A ...A } }
      fragment A on Citizen { a: fullName b: sex c: dateOfBirth d: ethnicity }`;
    const { error } = await refused(federation, { query });
    expect(error.extensions).toEqual({ ...limit('aliases', 10), actual: 12 });
  });

  it('refuses a token flood while parsing it', async () => {
    const flood = `{ citizen(personalCode: "${code}") { ${'fullName '.repeat(600)} } }`;
    const { status, error } = await refused(federation, { query: flood });
    expect(status).toBe(400);
    expect(error.extensions).toEqual(limit('tokens', 500));
    expect(error.message).toMatch(/more than 500 tokens/);
  });

  it('refuses a directive flood', async () => {
    const fields = Array.from({ length: 6 }, () => 'fullName @include(if: true)').join(' ');
    const { status, error } = await refused(federation, { query: `{ citizen(personalCode: "${code}") { ${fields} } }` });
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ ...limit('directives', 5), actual: 6 });
  });

  it('refuses a costly query before any subgraph is called', async () => {
    const costly = `{ searchCitizens(name: "Nguyễn", first: 100) { edges { node { fullName children { fullName identityCards { number } } } } } }`;
    const { status, error } = await refused(federation, { query: costly });
    expect(status).toBe(400);
    expect(error.extensions).toMatchObject(limit('cost', 3000));
    expect(error.extensions!.actual).toBeGreaterThan(40000);
    expect(error.message).toMatch(/free-form document/);
  });

  it('sizes a list by its list argument: a free-form list of 100 citizens is over the lower, free-form ceiling', async () => {
    const codes = Array.from({ length: 100 }, () => code);
    // The trusted CitizenList, sent by id: under the trusted ceiling, answered.
    const trusted = await post(federation, { documentId: idOf('CitizenList'), variables: { codes } });
    expect(trusted.body.errors).toBeUndefined();
    expect(trusted.body.data.citizens).toHaveLength(100);
    // The same view, minus one field, written by hand: a free-form document, refused under the lower ceiling.
    const freeForm = CITIZEN_LIST.replace('query CitizenList', 'query MyList').replace(/\n\s*children \{\s*personalCode\s*__typename\s*\}/, '');
    expect(freeForm).not.toBe(CITIZEN_LIST);
    const { error } = await refused(federation, { query: freeForm, variables: { codes } });
    expect(error.extensions).toMatchObject(limit('cost', 3000));
    expect(error.extensions!.actual).toBeGreaterThan(3000);
    expect(error.extensions!.actual).toBeLessThan(50000);
    // Three codes fit under it.
    const three = await post(federation, { query: freeForm, variables: { codes: codes.slice(0, 3) } });
    expect(three.body.errors).toBeUndefined();
  });

  it('leaves ordinary operations alone, and shows field suggestions outside production', async () => {
    const ok = await post(federation, { query: UNIFIED_CITIZEN, variables: { code } });
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data.citizen.personalCode).toBe(code);
    const typo = await post(federation, { query: `{ citizen(personalCode: "${code}") { fullNam } }` });
    expect(typo.body.errors![0].message).toMatch(/Did you mean "fullName"/);
  });
});

describe('trusted documents (TRUSTED_DOCUMENTS=required)', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    federation = await startFederation({ gatewayEnv: { TRUSTED_DOCUMENTS: 'required' } });
  });
  afterAll(async () => federation?.stop());

  it('runs a manifest operation sent by id, in either request shape', async () => {
    const byDocumentId = await post(federation, { documentId: idOf('UnifiedCitizen'), variables: { code } });
    expect(byDocumentId.body.errors).toBeUndefined();
    expect(byDocumentId.body.data.citizen.personalCode).toBe(code);
    const apolloShape = await post(federation, { extensions: { persistedQuery: { version: 1, sha256Hash: idOf('UnifiedCitizen') } }, variables: { code } });
    expect(apolloShape.body).toEqual(byDocumentId.body);
    // GraphQL over HTTP's spelling of a SHA-256 document id names the same document.
    const prefixed = await post(federation, { documentId: `sha256:${idOf('UnifiedCitizen').toUpperCase()}`, variables: { code } });
    expect(prefixed.body).toEqual(byDocumentId.body);
  });

  it('treats the exact text of a manifest operation as that trusted document', async () => {
    const response = await post(federation, { query: UNIFIED_CITIZEN, variables: { code } });
    expect(response.body.errors).toBeUndefined();
    expect(sha256Hex(UNIFIED_CITIZEN)).toBe(idOf('UnifiedCitizen'));
  });

  it('refuses an unknown document id', async () => {
    const unknown = `sha256:${'0'.repeat(64)}`;
    const { status, error } = await refused(federation, { documentId: unknown, variables: { code } });
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ code: 'TRUSTED_DOCUMENT_UNKNOWN', documentId: unknown });
    const apq = await refused(federation, { extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } });
    expect(apq.error.extensions.code).toBe('TRUSTED_DOCUMENT_UNKNOWN');
  });

  it('refuses an id sent with another query text (no smuggling a document under a trusted id)', async () => {
    const { error } = await refused(federation, {
      documentId: idOf('UnifiedCitizen'),
      query: `{ citizens(personalCodes: ["${code}"]) { fullName } }`,
    });
    expect(error.extensions).toMatchObject({ code: 'TRUSTED_DOCUMENT_UNKNOWN', documentId: idOf('UnifiedCitizen') });
    expect(error.message).toMatch(/not that document's text/);
  });

  it('refuses a free-form document from a caller whose role does not allow ad hoc queries, before parsing it', async () => {
    const { status, error } = await refused(federation, { query: `{ citizen(personalCode: "${code}") { fullName } }` });
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ code: 'TRUSTED_DOCUMENT_REQUIRED' });
    // Not parsed, not validated: a misspelt field is not even looked at, so the schema is not probed this way.
    const probe = await refused(federation, { query: `{ citizen(personalCode: "${code}") { secretField } }` });
    expect(probe.error.extensions.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
    expect(probe.error.message).not.toMatch(/secretField|Did you mean/);
  });

  it('accepts free-form documents from an analyst, under the lower cost ceiling', async () => {
    const analyst = await bearer(PERSONAS.analyst);
    const answer = await post(federation, { query: `{ citizenStatistics(groupBy: [SEX, BIRTH_DECADE]) { total groups { sex count } } }` }, analyst);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.citizenStatistics.total).toBeGreaterThan(0);
    // The 100-citizen list as free-form text (not the manifest's): over the ad hoc ceiling, refused before the policy is even asked.
    const codes = Array.from({ length: 100 }, (_, i) => `0011${String(90000000 + i)}`);
    const costly = await refused(federation, { query: `${CITIZEN_LIST}\n# ad hoc`, variables: { codes } }, analyst);
    expect(costly.error.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'cost' });
  });

  it('gives clients no way to register documents (automatic persisted queries are off)', async () => {
    const query = `{ citizen(personalCode: "${code}") { fullName } }`;
    const { error } = await refused(federation, { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } } });
    expect(error.extensions.code).toBe('TRUSTED_DOCUMENT_UNKNOWN');
  });
});

describe('the ad hoc rule and the admission check', () => {
  const principal = (role: Principal['role']): Principal => ({ subject: 'u', role, agency: null, personalCode: null, purpose: null, caseReference: null, requestId: 'r' });
  const req = {} as IncomingMessage;

  it('allows free-form documents to analysts only', () => {
    expect(allowsAdHocQueries({ principal: principal('ANALYST') })).toBe(true);
    for (const role of ['CLERK', 'REGISTRAR', 'INVESTIGATOR', 'AUDITOR', 'CITIZEN'] as const) {
      expect(allowsAdHocQueries({ principal: principal(role) })).toBe(false);
    }
    expect(allowsAdHocQueries({})).toBe(false);
  });

  it('lets an analyst send free-form documents when trusted documents are required', () => {
    const { check } = trustedDocuments({ mode: 'required', dir: TRUSTED_DOCUMENTS_DIR });
    const context = (p?: Principal): GatewayContext => ({ requestId: 'r', ...(p ? { principal: p } : {}) });
    expect(() => check(context(principal('ANALYST')), req)).not.toThrow();
    expect(() => check(context(principal('CLERK')), req)).toThrow(/only trusted documents/);
    expect(() => check(context(), req)).toThrow(/only trusted documents/);
    const off = trustedDocuments({ mode: 'off', dir: TRUSTED_DOCUMENTS_DIR });
    expect(() => off.check(context(), req)).not.toThrow();
  });
});

/** What production requires to be set (and nothing else): set in beforeAll. */
let PRODUCTION: Record<string, string>;

describe('production defaults: no introspection, no field suggestions', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    // Free-form documents are let through here so that validation is reached at all.
    const production = await productionGateway();
    PRODUCTION = production.env;
    federation = await startFederation({ serviceKeys: production.serviceKeys, gatewayEnv: { ...PRODUCTION, TRUSTED_DOCUMENTS: 'off', RATE_LIMIT_PER_SECOND: '0' } });
  });
  afterAll(async () => federation?.stop());

  it('reads the production defaults', () => {
    const config = readConfig(PRODUCTION);
    expect(config).toMatchObject({
      introspection: false,
      fieldSuggestions: false,
      ide: false,
      trustedDocuments: 'required',
      rateLimit: { perSecond: 20, burst: 40 },
    });
    expect(readConfig({})).toMatchObject({ introspection: true, fieldSuggestions: true, trustedDocuments: 'off', rateLimit: { perSecond: 0 } });
    const invalid = () => readConfig({ TRUSTED_DOCUMENTS: 'maybe', OPERATION_MAX_COST: '10', OPERATION_MAX_COST_AD_HOC: '20' });
    expect(invalid).toThrow(/TRUSTED_DOCUMENTS must be required or off/);
    expect(invalid).toThrow(/OPERATION_MAX_COST_AD_HOC \(20\) must not be above OPERATION_MAX_COST \(10\)/);
    expect(readConfig({ OPERATION_FIELD_WEIGHTS: 'Citizen.parents=7' }).limits.fieldWeights).toMatchObject({ 'Citizen.parents': 7, 'Query.searchCitizens': 10 });
  });

  it('refuses introspection', async () => {
    const { status, error } = await refused(federation, { query: '{ __schema { queryType { name } } }' });
    expect(status).toBe(400);
    expect(error.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error.message).toMatch(/introspection is not allowed/i);
  });

  it('does not suggest field names in validation errors', async () => {
    const { error } = await refused(federation, { query: `{ citizen(personalCode: "${code}") { fullNam } }` });
    expect(error.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error.message).toMatch(/Cannot query field "fullNam"/);
    expect(error.message).not.toMatch(/Did you mean/);
  });
});

describe('per-caller rate limit', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    // One request back every 100 s: however slow the machine, the bucket does not refill during the test
    // (refilling is tested with a clock of the test's own below).
    federation = await startFederation({ gatewayEnv: { RATE_LIMIT_PER_SECOND: '0.01', RATE_LIMIT_BURST: '3' } });
  });
  afterAll(async () => federation?.stop());

  it('answers a burst up to RATE_LIMIT_BURST, then 429 with Retry-After (how long until one request is allowed), before anything is parsed or called', async () => {
    const ask = () => post(federation, { documentId: idOf('UnifiedCitizen'), variables: { code } });
    const answers = [await ask(), await ask(), await ask()];
    for (const answer of answers) expect(answer.body.errors).toBeUndefined();
    const { status, headers, error } = await refused(federation, { documentId: idOf('UnifiedCitizen'), variables: { code } });
    expect(status).toBe(429);
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(90);
    expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: Number(headers.get('retry-after')) });
  });

  it('keeps one bucket per caller: the subject when there is one, else the address', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 2, burst: 2 }, () => now);
    expect(buckets.take('a')).toEqual({ allowed: true });
    expect(buckets.take('a')).toEqual({ allowed: true });
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(buckets.take('b')).toEqual({ allowed: true });
    now = 500; // half a second: one token back (2 a second)
    expect(buckets.take('a')).toEqual({ allowed: true });
    expect(buckets.take('a').allowed).toBe(false);
    const slow = new TokenBuckets({ perSecond: 0.1, burst: 1 }, () => 0);
    slow.take('x');
    expect(slow.take('x')).toEqual({ allowed: false, retryAfterSeconds: 10 });

    const principal = { subject: 'clerk:hn-01', role: 'CLERK' } as Principal;
    expect(callerKey({ principal, clientAddress: '10.0.0.1' })).toBe('subject:clerk:hn-01');
    expect(callerKey({ clientAddress: '10.0.0.1' })).toBe('address:10.0.0.1');
  });
});

describe('HTTP hygiene', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    federation = await startFederation({ gatewayEnv: { REQUEST_BODY_LIMIT: '10kb' } });
  });
  afterAll(async () => federation?.stop());

  it('refuses a body over REQUEST_BODY_LIMIT with 413, in JSON', async () => {
    const response = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename }`, variables: { padding: 'x'.repeat(20_000) } }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as Answer['body'];
    expect(body.errors![0]).toEqual({ message: expect.stringMatching(/larger than 10kb/), extensions: { code: 'BAD_REQUEST' } });
  });

  it('refuses a body that is not JSON with 400, in JSON', async () => {
    const response = await fetch(federation.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Answer['body']).errors![0].extensions).toEqual({ code: 'BAD_REQUEST' });
  });

  it('refuses a batched array of operations', async () => {
    let response!: Response;
    const counts = await federation.countStatements(async () => {
      response = await fetch(federation.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await bearer(PERSONAS.investigator)) },
        body: JSON.stringify([
          { query: UNIFIED_CITIZEN, variables: { code } },
          { query: UNIFIED_CITIZEN, variables: { code } },
        ]),
      });
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/batch/i);
    expect(counts).toEqual(NOTHING);
  });

  it('refuses simple requests without a preflight header (CSRF): a GET and a text/plain POST', async () => {
    const query = encodeURIComponent(`{ citizen(personalCode: "${code}") { fullName } }`);
    const token = await bearer(PERSONAS.investigator);
    const counts = await federation.countStatements(async () => {
      const get = await fetch(`${federation.gatewayUrl}?query=${query}`, { headers: token });
      expect(get.status).toBe(400);
      expect(await get.text()).toMatch(/CSRF/);
      const plain = await fetch(federation.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...token },
        body: JSON.stringify({ query: decodeURIComponent(query) }),
      });
      expect(plain.status).toBe(400);
      expect(await plain.text()).toMatch(/CSRF/);
    });
    expect(counts).toEqual(NOTHING);
    // With the header a browser cannot send without a preflight, the same GET is answered.
    const allowed = await fetch(`${federation.gatewayUrl}?query=${query}`, { headers: { 'apollo-require-preflight': 'true', ...token } });
    expect(allowed.status).toBe(200);
  });
});

describe('the cost model', () => {
  const schema = composeApiSchema();
  const measure = (query: string, variables: Record<string, unknown> = {}) => {
    const document = parse(query);
    return measureOperation(schema, document, getOperationAST(document)!, variables, { defaultListSize: 20, fieldWeights: DEFAULT_FIELD_WEIGHTS });
  };

  it('costs each field 1, entity fields their weight, and multiplies lists by their size', () => {
    expect(measure(`{ citizen(personalCode: "001099000001") { fullName sex } }`).cost).toBe(3);
    // identityCards: weight 2, a list of the default size 20, each card 2 fields.
    expect(measure(`{ citizen(personalCode: "001099000001") { identityCards { number status } } }`).cost).toBe(1 + 2 + 20 * 2);
    // citizens: as many as the codes given (literal or variable).
    expect(measure(`{ citizens(personalCodes: ["001099000001", "001099000002"]) { fullName } }`).cost).toBe(1 + 2);
    expect(measure(`query($c: [PersonalCode!]!) { citizens(personalCodes: $c) { fullName } }`, { c: Array(7).fill('x') }).cost).toBe(1 + 7);
    // A connection: `first` sizes it, its edges count once; searchCitizens weighs 10.
    expect(measure(`{ searchCitizens(name: "A", first: 5) { edges { node { fullName } } } }`).cost).toBe(10 + 5 * (1 + 1 * (1 + 1)));
    // Without `first`, the schema's default (20).
    expect(measure(`{ searchCitizens(name: "A") { edges { cursor } } }`).cost).toBe(10 + 20 * 2);
    // __typename and introspection cost nothing.
    expect(measure(`{ __typename __schema { types { name fields { name } } } }`)).toEqual({ depth: 0, aliases: 0, directives: 0, cost: 0 });
  });

  it('measures fragments spread inside fragments without walking them again and again', () => {
    // 2^30 expanded fields: measured in an instant, and counted as many.
    const levels = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Citizen { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const query = `{ citizen(personalCode: "001099000001") { ...F0 } }\n${levels}\nfragment F30 on Citizen { a: fullName }`;
    const started = Date.now();
    const result = measure(query);
    expect(Date.now() - started).toBeLessThan(200);
    expect(result.aliases).toBe(2 ** 30);
    expect(result.cost).toBe(1 + 2 ** 30);
    expect(result.depth).toBe(2);
  });
});
