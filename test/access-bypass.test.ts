import fs from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER } from '../tools/dev-keys';
import { startFederation, type TestFederation, statements } from './support/federation';
import { livingCardHoldersWithBirth, openFixtures, type Fixtures } from './support/fixtures';
import { bearer, mintToken, PERSONAS } from './support/tokens';
import { mintDevToken } from '../tools/dev-keys';
import { testDatabases } from './support/databases';
import { CLERK_PRINCIPAL, postWithCredential, serviceCredential } from './support/service-credentials';

/**
 * The ways round access control that an attacker found in the first round (issue 11), each tried again
 * here: odd claim types, root fields hidden in fragments, and odd requests that used to reach a crash.
 */
let federation: TestFederation;
let f: Fixtures;
let own: string;
let stranger: string;

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
  [own, stranger] = await livingCardHoldersWithBirth(f, 'access-bypass', 2);
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
});

const SENSITIVE = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName religion maritalStatus } }`;

async function nothingFetched(run: () => Promise<Awaited<ReturnType<TestFederation['query']>>>) {
  let response!: Awaited<ReturnType<TestFederation['query']>>;
  const counts = await federation.countStatements(async () => {
    response = await run();
  });
  expect(counts).toEqual(statements());
  expect(response.data ?? null).toBeNull();
  return response;
}

/** A token with exactly these claims (no defaults filled in), signed by the trusted key. */
const signed = (claims: Record<string, unknown>, options?: Parameters<typeof mintDevToken>[2]) =>
  mintDevToken(testDatabases().keysDir, claims as never, options).then((token) => ({ authorization: `Bearer ${token}` }));

describe('finding 1: claims of the wrong kind, signed by a trusted key, are refused', () => {
  const citizen = { role: 'CITIZEN', personal_code: '', purpose: 'OWN_DATA' };
  it.each([
    ['sub a number', { sub: 7 }, 'sub'],
    ['sub null', { sub: null }, 'sub'],
    ['sub an object', { sub: { id: 'x' } }, 'sub'],
    ['sub a list', { sub: ['citizen:1'] }, 'sub'],
    ['sub empty', { sub: '' }, 'sub'],
    ['sub of 500 characters', { sub: 'a'.repeat(500) }, 'sub'],
    ['sub with a control character', { sub: 'citizen\u0000x' }, 'sub'],
    ['personal_code a number', { personal_code: 1 }, 'personal_code'],
    ['purpose an object', { purpose: { toString: 'OWN_DATA' } }, 'purpose'],
    ['purpose a number', { purpose: 7 }, 'purpose'],
    ['purpose an empty list', { purpose: [] }, 'purpose'],
    ['purpose named after a built-in', { purpose: 'constructor' }, 'purpose'],
    ['role named after a built-in', { role: '__proto__' }, 'role'],
    ['an agency on a citizen', { agency: 'residents' }, 'agency'],
  ])('a citizen token with %s: 401 TOKEN_CLAIMS, nothing fetched', async (_what, claims, claim) => {
    const headers = await signed({ sub: 'citizen:x', ...citizen, personal_code: own, ...claims });
    const response = await nothingFetched(() => federation.query(SENSITIVE, { code: stranger }, headers));
    expect(response.status).toBe(401);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: expect.stringMatching(/^TOKEN_CLAIMS$/), claim });
  });

  it.each([
    ['a clerk without an agency', { sub: 'c', role: 'CLERK', purpose: 'SERVICE_COUNTER' }, 'agency'],
    ['a clerk whose agency is a number', { sub: 'c', role: 'CLERK', agency: 7, purpose: 'SERVICE_COUNTER' }, 'agency'],
    ['a clerk carrying a personal code', { sub: 'c', role: 'CLERK', agency: 'residents', personal_code: '001200342514', purpose: 'SERVICE_COUNTER' }, 'personal_code'],
    ['an investigator whose case_ref is an object', { sub: 'i', role: 'INVESTIGATOR', agency: 'police', purpose: 'POLICE_CASE', case_ref: { n: 1 } }, 'case_ref'],
  ])('%s: 401 TOKEN_CLAIMS', async (_what, claims, claim) => {
    const response = await nothingFetched(async () => federation.query(SENSITIVE, { code: stranger }, await signed(claims)));
    expect(response.status).toBe(401);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_CLAIMS', claim });
  });

  it('refuses a token that lives longer than the maximum lifetime', async () => {
    const response = await nothingFetched(async () => federation.query(SENSITIVE, { code: own }, await bearer(PERSONAS.citizen(own), { expiresIn: 30 * 24 * 3600 })));
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_CLAIMS', claim: 'exp' });
  });

  it.each([
    ['sub a number', { sub: 7 }],
    ['sub an object', { sub: { id: 'x' } }],
    ['a citizen without a personal code', { role: 'CITIZEN', pc: null, purpose: 'OWN_DATA' }],
    ['a personal code that is not one', { role: 'CITIZEN', pc: 'x', purpose: 'OWN_DATA' }],
    ['purpose a list', { purpose: ['SERVICE_COUNTER'] }],
  ])('a subgraph refuses a correctly signed gateway credential whose principal has %s: 401, no data', async (_what, change) => {
    const body = JSON.stringify({ query: `query ($c: PersonalCode!) { citizen(personalCode: $c) { fullName } }`, variables: { c: stranger } });
    const credential = await serviceCredential('gateway', 'residents', body, { principal: { ...CLERK_PRINCIPAL, ...change } as never });
    const answer = await postWithCredential(federation.subgraphUrls.residents, body, credential);
    expect(answer.status).toBe(401);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_REQUIRED' });
  });

  it('still serves the well-formed token of the same citizen', async () => {
    const response = await federation.query<any>(SENSITIVE, { code: own }, await bearer(PERSONAS.citizen(own)));
    expect(response.errors).toBeUndefined();
    expect(response.data.citizen.fullName).toEqual(expect.any(String));
  });
});

describe('the standard bearer-token attacks', () => {
  const jwks = () => JSON.parse(fs.readFileSync(testDatabases().jwksFile, 'utf8')) as { keys: (JWK & { kid: string })[] };
  const claims = () => ({ ...PERSONAS.citizen(own), iss: DEV_TOKEN_ISSUER, aud: DEV_TOKEN_AUDIENCE, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['alg none', async () => `${b64({ alg: 'none', kid: jwks().keys[0].kid })}.${b64(claims())}.`, 'TOKEN_MALFORMED'],
    ['alg none with a signature', async () => `${b64({ alg: 'none', kid: jwks().keys[0].kid })}.${b64(claims())}.c2lnbmF0dXJl`],
    [
      'HS256 keyed with the public key',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(jwks().keys[0]));
        return new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: jwks().keys[0].kid }).sign(secret);
      },
    ],
    [
      "a foreign key under the trusted key's kid",
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: jwks().keys[0].kid }).sign(privateKey);
      },
    ],
    [
      'a foreign key embedded in the header',
      async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
        return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', jwk: await exportJWK(publicKey) }).sign(privateKey);
      },
    ],
  ] as [string, () => Promise<string>, string?][])('%s: 401, nothing fetched', async (_what, token, reason = 'TOKEN_INVALID') => {
    const response = await nothingFetched(async () => federation.query(SENSITIVE, { code: own }, { authorization: `Bearer ${await token()}` }));
    expect(response.status).toBe(401);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
  });
});

describe('finding 2: root fields inside fragments are checked like any other', () => {
  const asCitizen = () => bearer(PERSONAS.citizen(own));
  it.each([
    ['an inline fragment on Query', `query ($code: PersonalCode!) { ... on Query { citizen(personalCode: $code) { fullName religion } } }`],
    ['an inline fragment without a type', `query ($code: PersonalCode!) { ... { citizen(personalCode: $code) { fullName } } }`],
    ['nested inline fragments', `query ($code: PersonalCode!) { ... on Query { ... on Query { ... { citizen(personalCode: $code) { fullName } } } } }`],
    ['a named fragment', `query ($code: PersonalCode!) { ...Q } fragment Q on Query { citizen(personalCode: $code) { fullName religion } }`],
    ['a named fragment inside an inline one', `query ($code: PersonalCode!) { ... on Query { ...Q } } fragment Q on Query { citizen(personalCode: $code) { fullName } }`],
    ['an alias beside the own record', `query ($code: PersonalCode!, $own: PersonalCode!) { mine: citizen(personalCode: $own) { fullName } theirs: citizen(personalCode: $code) { fullName } }`],
  ])("a citizen reaching a stranger's record through %s: 403 NOT_OWN_RECORD, nothing fetched", async (_what, query) => {
    const response = await nothingFetched(async () => federation.query(query, { code: stranger, own }, await asCitizen()));
    expect(response.status).toBe(403);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
  });

  it('a citizen searching the population through a fragment: refused', async () => {
    const response = await nothingFetched(async () =>
      federation.query(`{ ... on Query { searchCitizens(name: "Nguyễn") { edges { node { personalCode } } } } }`, {}, await asCitizen()),
    );
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_OWN_RECORD' });
  });

  it.each([
    ['an inline fragment on Mutation', `mutation ($code: PersonalCode!) { ... on Mutation { recordDeath(input: { personalCode: $code, dateOfDeath: "2026-11-01", deathRegistration: "KT-01/2026" }) { personalCode } } }`],
    ['a named fragment on Mutation', `mutation ($code: PersonalCode!) { ...W } fragment W on Mutation { recordDeath(input: { personalCode: $code, dateOfDeath: "2026-11-01", deathRegistration: "KT-01/2026" }) { personalCode } }`],
  ])('a clerk writing through %s: 403 WRITE_NOT_ALLOWED, nothing written', async (_what, query) => {
    const response = await nothingFetched(async () => federation.query(query, { code: stranger }, await bearer(PERSONAS.clerk)));
    expect(response.status).toBe(403);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'WRITE_NOT_ALLOWED' });
  });

  it('a registrar writing outside civil registration (a service counter purpose): refused', async () => {
    const token = await bearer({ sub: 'registrar:counter', role: 'REGISTRAR', agency: 'birth-registry', purpose: 'SERVICE_COUNTER' });
    const response = await nothingFetched(() =>
      federation.query(`mutation { ... on Mutation { registerBirth(input: { idempotencyKey: "bypass-0001", registrationProvinceCode: "031", registeringAuthority: "x", placeOfBirth: "x", childName: "Lê An", childSex: FEMALE, childDateOfBirth: "2026-11-20", ethnicity: "Kinh", mother: { name: "Lê Hoa", nationality: "VN" } }) { status } } }`, {}, token),
    );
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'WRITE_NOT_ALLOWED' });
  });
});

describe('finding 9: the purpose and case reference bound to the token, also once an operation is known to be allowed', () => {
  it('an investigator without a case reference is refused the operation another investigator was just allowed', async () => {
    const query = `query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName religion } }`;
    const withCase = await federation.query<any>(query, { code: own }, await bearer({ sub: 'i1', role: 'INVESTIGATOR', agency: 'police', purpose: 'POLICE_CASE', case_ref: 'CA-HN/2026/9' }));
    expect(withCase.errors).toBeUndefined();
    const response = await nothingFetched(async () => federation.query(query, { code: own }, await bearer({ sub: 'i2', role: 'INVESTIGATOR', agency: 'police', purpose: 'POLICE_CASE' })));
    expect(response.status).toBe(403);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'CASE_REFERENCE_REQUIRED' });
  });
});

describe('finding 10: status codes as GraphQL over HTTP says, and no crash on odd values', () => {
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer(PERSONAS.investigator)), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };

  it.each([
    ['bad input at the gateway (a malformed personal code)', { query: SENSITIVE, variables: { code: '12345' } }, 400, 'BAD_USER_INPUT'],
    ['a string argument of 100,000 characters', { query: `query ($n: String!) { household(number: $n) { number } }`, variables: { n: 'x'.repeat(100_000) } }, 400, 'BAD_USER_INPUT'],
    ['an unknown operationName', { query: `query A { __typename } query B { __typename }`, operationName: 'C' }, 400, undefined],
    ['a subscription', { query: `subscription { citizen(personalCode: "001200342514") { fullName } }` }, 400, undefined],
    ['a validation error', { query: `{ citizen(personalCode: "001200342514") { noSuchField } }` }, 400, 'GRAPHQL_VALIDATION_FAILED'],
    ['a parse error', { query: `{ citizen(` }, 400, 'GRAPHQL_PARSE_FAILED'],
    ['variables that are not an object', { query: SENSITIVE, variables: [1, 2] }, 400, undefined],
    ['a query that is not a string', { query: { toString: 'x' } }, 400, undefined],
  ])('%s: HTTP %s', async (_what, body, status, code) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    if (code) expect(response.body.errors[0].extensions.code).toBe(code);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js):\d+|127\.0\.0\.1:\d+|SELECT /);
  });

  it.each([
    ['an x-purpose header named after a built-in', { 'x-purpose': '__proto__' }],
    ['an x-purpose header of 10,000 characters', { 'x-purpose': 'P'.repeat(10_000) }],
    ['an x-request-id of 10,000 characters', { 'x-request-id': 'r'.repeat(10_000) }],
    ['an x-case-reference with control characters', { 'x-case-reference': 'a\tb' }],
    ['an authorization header of 20,000 characters', { authorization: `Bearer ${'a'.repeat(20_000)}.b.c` }],
  ])('%s: a 4xx refusal or an answer, never a 5xx', async (_what, headers) => {
    const response = await post({ query: SENSITIVE, variables: { code: own } }, headers);
    expect(response.status).toBeLessThan(500);
  });

  it('LIKE wildcards in a search are matched literally: "%%" finds no one, where it used to find everyone', async () => {
    const clerk = await bearer(PERSONAS.clerk);
    for (const name of ['%%', '__', '%_', '\\%']) {
      const response = await federation.query<any>(`query ($n: String) { searchCitizens(name: $n, first: 5) { edges { node { personalCode } } } }`, { n: name }, clerk);
      expect(response.errors).toBeUndefined();
      expect(response.data.searchCitizens.edges).toEqual([]);
    }
  });

  it('a refusal inside the token check is 401 with WWW-Authenticate', async () => {
    const response = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${(await mintToken(PERSONAS.clerk)).slice(0, -4)}AAAA` },
      body: JSON.stringify({ query: SENSITIVE, variables: { code: own } }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });
});
