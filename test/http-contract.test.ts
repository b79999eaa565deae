import { startFederation, type TestFederation, statements } from './support/federation';
import { citizenWithEverything, one, openFixtures, type Fixtures } from './support/fixtures';
import { bearer, PERSONAS } from './support/tokens';
import { startTcpProxy, throughProxy, type TcpProxy } from './support/tcp-proxy';
import { testDatabases } from './support/databases';
import { UNIFIED_CITIZEN } from './support/queries';

/**
 * The GraphQL-over-HTTP contract (README, "The HTTP contract"), one request of each kind through real HTTP to
 * the real gateway and subgraphs, for both media types a client may accept: the status, the content type and
 * the shape of the body. A request the gateway refuses (malformed, invalid, bad input, not authenticated, not
 * allowed, over a limit) has no `data`, a 4xx status and touches no agency database, wherever the refusal is
 * found (at the gateway, or by a subgraph while the operation runs); an answer, even a partial one, is 200 with
 * `data`, and each field an unavailable agency left null has its error, with its path.
 *
 * The federation of this file runs with the National ID Center's database down (its sessions ended, its port
 * refusing) and the birth registry's subgraph stopped, a small body limit and a rate limit of 2 requests per
 * caller: every request below goes as a caller of its own, except the one that is rate limited.
 */
let federation: TestFederation;
let proxy: TcpProxy;
let f: Fixtures;
let code: string;
let deceased: string;

const RESPONSE_JSON = 'application/graphql-response+json';
const NOTHING = statements();
const INTERNALS = /SELECT|INSERT|prisma|stacktrace|\bat \/|https?:\/\/|127\.0\.0\.1|serviceName|ECONN|terminat/i;
let callers = 0;
/** A token of its own for each request (the rate limit counts per caller). */
const as = (claims: Record<string, unknown>) => bearer({ ...claims, sub: `http-contract:${(callers += 1)}` } as never);

beforeAll(async () => {
  f = openFixtures();
  code = await citizenWithEverything(f);
  ({ code: deceased } = await one<{ code: string }>(f.residents, 'SELECT so_dinh_danh AS code FROM cong_dan WHERE ngay_mat IS NOT NULL ORDER BY so_dinh_danh LIMIT 1'));
  const url = new URL(testDatabases().serviceUrls['national-id'].database!);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  federation = await startFederation({
    gatewayEnv: { REQUEST_BODY_LIMIT: '10kb', RATE_LIMIT_PER_SECOND: '0.01', RATE_LIMIT_BURST: '2' },
    subgraphEnv: { NATIONAL_ID_DATABASE_URL: throughProxy(url.toString(), proxy) },
  });
  // The national-id database goes away: its sessions are ended by PostgreSQL, its port refuses new ones.
  await federation.query(UNIFIED_CITIZEN, { code }, await as(PERSONAS.investigator));
  const ports = proxy.upstreamPorts();
  await proxy.stopListening();
  await f.nationalId.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]);
  await federation.stopSubgraph('birth-registry');
});

afterAll(async () => {
  await federation?.stop();
  await proxy?.stop();
  await f?.end();
});

interface Sent {
  status: number;
  contentType: string;
  headers: Headers;
  body: { data?: any; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[] };
  statements: Record<string, number>;
}

async function send(accept: string, request: { method?: string; url?: string; headers?: Record<string, string>; body?: unknown }): Promise<Sent> {
  let response!: Response;
  const statements = await federation.countStatements(async () => {
    response = await fetch(request.url ?? federation.gatewayUrl, {
      method: request.method ?? 'POST',
      headers: { accept, ...(request.method === 'GET' ? {} : { 'content-type': 'application/json' }), ...request.headers },
      ...(request.method === 'GET' ? {} : { body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body) }),
    });
  });
  const text = await response.text();
  expect(text).not.toMatch(INTERNALS);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, body: JSON.parse(text), statements };
}

/** [what, status, extensions.code, extensions.reason (null: none asserted), the request]: five each, always (jest's each). */
type Refusal = [what: string, status: number, code: string, reason: string | null, request: () => Promise<Parameters<typeof send>[1]>];

const REFUSALS: Refusal[] = [
  ['malformed JSON', 400, 'BAD_REQUEST', null, async () => ({ body: '{"query": ', headers: await as(PERSONAS.investigator) })],
  ['a body with no query', 400, 'BAD_REQUEST', null, async () => ({ body: { variables: { code: '001099000001' } }, headers: await as(PERSONAS.investigator) })],
  ['a parse error', 400, 'GRAPHQL_PARSE_FAILED', null, async () => ({ body: { query: '{ citizen(personalCode: "001099000001") { fullName ' }, headers: await as(PERSONAS.investigator) })],
  ['a validation error', 400, 'GRAPHQL_VALIDATION_FAILED', null, async () => ({ body: { query: '{ citizen(personalCode: "001099000001") { password } }' }, headers: await as(PERSONAS.investigator) })],
  [
    'a variable of the wrong type (graphql-js coercion)',
    400,
    'BAD_USER_INPUT',
    'VARIABLE_INVALID',
    async () => ({ body: { query: 'query ($first: Int) { searchCitizens(birthProvince: "001", first: $first) { edges { cursor } } }', variables: { first: 'ten' } }, headers: await as(PERSONAS.clerk) }),
  ],
  ['a malformed personal code (found by the gateway)', 400, 'BAD_USER_INPUT', 'PERSONAL_CODE_FORMAT', async () => ({ body: { query: UNIFIED_CITIZEN, variables: { code: '12345' } }, headers: await as(PERSONAS.investigator) })],
  [
    'an unknown province (found by the residents subgraph)',
    400,
    'BAD_USER_INPUT',
    'UNKNOWN_PROVINCE',
    async () => ({ body: { query: '{ searchCitizens(birthProvince: "003") { edges { node { fullName } } } }' }, headers: await as(PERSONAS.clerk) }),
  ],
  [
    'a date in the future in a write (found by the residents subgraph)',
    400,
    'BAD_USER_INPUT',
    'DATE_IN_FUTURE',
    async () => ({
      body: {
        query: 'mutation ($input: RecordDeathInput!) { recordDeath(input: $input) { personalCode deceased } }',
        variables: { input: { personalCode: code, dateOfDeath: '2999-01-01', deathRegistration: 'KT-2999/1' } },
      },
      headers: await as(PERSONAS.registrar('residents')),
    }),
  ],
  [
    'more codes than a list takes (found by the residents subgraph, a non-null field)',
    400,
    'BAD_USER_INPUT',
    'TOO_MANY_VALUES',
    async () => ({
      body: { query: 'query ($c: [PersonalCode!]!) { citizens(personalCodes: $c) { fullName } }', variables: { c: Array.from({ length: 101 }, (_, i) => `001099${String(i).padStart(6, '0')}`) } },
      headers: await as(PERSONAS.investigator),
    }),
  ],
  ['a token with no purpose', 403, 'FORBIDDEN', 'PURPOSE_REQUIRED', async () => ({ body: { query: UNIFIED_CITIZEN, variables: { code } }, headers: await as({ role: 'CLERK', agency: 'residents' }) })],
  ['a broken token', 401, 'UNAUTHENTICATED', 'TOKEN_INVALID', async () => ({ body: { query: UNIFIED_CITIZEN, variables: { code } }, headers: { authorization: 'Bearer a.b.c' } })],
  ['no token', 401, 'UNAUTHENTICATED', 'TOKEN_MISSING', async () => ({ body: { query: UNIFIED_CITIZEN, variables: { code } } })],
  ['a field the role may not see', 403, 'FORBIDDEN', 'FIELDS_NOT_ALLOWED', async () => ({ body: { query: `{ citizen(personalCode: "${code}") { ethnicity } }` }, headers: await as(PERSONAS.clerk) })],
  ["another citizen's record, asked by a citizen", 403, 'FORBIDDEN', 'NOT_OWN_RECORD', async () => ({ body: { query: UNIFIED_CITIZEN, variables: { code: deceased } }, headers: await as(PERSONAS.citizen(code)) })],
  ['a body over the limit', 413, 'BAD_REQUEST', null, async () => ({ body: { query: '{ __typename }', variables: { padding: 'x'.repeat(20_000) } }, headers: await as(PERSONAS.investigator) })],
  ['an unknown trusted document id', 400, 'TRUSTED_DOCUMENT_UNKNOWN', null, async () => ({ body: { documentId: `sha256:${'0'.repeat(64)}` }, headers: await as(PERSONAS.investigator) })],
];

describe.each([RESPONSE_JSON, 'application/json'])('accepting %s', (accept) => {
  it.each(REFUSALS)('%s: HTTP %s, %s, no data, no database touched', async (_what, status, code, reason, request) => {
    const sent = await send(accept, await request());
    expect(sent.status).toBe(status);
    expect(sent.contentType).toBe(`${accept}; charset=utf-8`);
    expect(sent.body).not.toHaveProperty('data');
    expect(sent.body.errors!.length).toBeGreaterThan(0);
    expect(sent.body.errors![0].extensions).toMatchObject({ code, ...(reason ? { reason } : {}) });
    expect(sent.body.errors![0].message).toEqual(expect.any(String));
    // A request error has no field to point at: neither a path nor a subgraph's own locations.
    expect(sent.body.errors![0].path).toBeUndefined();
    expect(sent.statements).toEqual(NOTHING);
    if (status === 401) expect(sent.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('rate limited: HTTP 429 with Retry-After, no data', async () => {
    const headers = await as(PERSONAS.analyst);
    const request = { body: { query: '{ __typename }' }, headers };
    expect((await send(accept, request)).status).toBe(200);
    expect((await send(accept, request)).status).toBe(200);
    const limited = await send(accept, request);
    expect(limited.status).toBe(429);
    expect(limited.contentType).toBe(`${accept}; charset=utf-8`);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.body).not.toHaveProperty('data');
    expect(limited.body.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('a mutation sent with GET: HTTP 405 with Allow: POST, nothing written', async () => {
    const query = encodeURIComponent(`mutation { recordDeath(input: { personalCode: "${code}", dateOfDeath: "2020-01-01", deathRegistration: "KT-1" }) { deceased } }`);
    const sent = await send(accept, {
      method: 'GET',
      url: `${federation.gatewayUrl}?query=${query}`,
      headers: { 'apollo-require-preflight': 'true', ...(await as(PERSONAS.registrar('residents'))) },
    });
    expect(sent.status).toBe(405);
    expect(sent.headers.get('allow')).toBe('POST');
    expect(sent.body).not.toHaveProperty('data');
    expect(sent.statements).toEqual(NOTHING);
  });

  it('an agency down and another agency whose database is down: HTTP 200, the data there is, an AGENCY_UNAVAILABLE error per field left null, by path', async () => {
    const sent = await send(accept, { body: { query: UNIFIED_CITIZEN, variables: { code } }, headers: await as(PERSONAS.investigator) });
    expect(sent.status).toBe(200);
    expect(sent.contentType).toBe(`${accept}; charset=utf-8`);
    const citizen = sent.body.data.citizen;
    expect(citizen.personalCode).toBe(code);
    expect(citizen.fullName).toEqual(expect.any(String));
    const missing = ['identityCard', 'identityCards', 'legacyIdNumbers', 'birthRegistration', 'parents', 'children'];
    for (const field of missing) expect(citizen[field]).toBeNull();
    const byPath = new Map(sent.body.errors!.map((e) => [JSON.stringify(e.path), e.extensions]));
    expect([...byPath.keys()].sort()).toEqual(missing.map((field) => JSON.stringify(['citizen', field])).sort());
    expect(sent.body.errors).toHaveLength(missing.length);
    for (const field of ['identityCard', 'identityCards', 'legacyIdNumbers']) {
      expect(byPath.get(JSON.stringify(['citizen', field]))).toEqual({ code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_DATABASE_UNAVAILABLE', agency: 'National ID Center' });
    }
    for (const field of ['birthRegistration', 'parents', 'children']) {
      expect(byPath.get(JSON.stringify(['citizen', field]))).toEqual({ code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_UNREACHABLE', agency: 'Birth registry' });
    }
  });

  it('a write the records refuse (a death already recorded): HTTP 200, data null and a CONFLICT error (a field error: the request was fine)', async () => {
    const sent = await send(accept, {
      body: {
        query: 'mutation ($input: RecordDeathInput!) { recordDeath(input: $input) { personalCode } }',
        variables: { input: { personalCode: deceased, dateOfDeath: '2020-01-01', deathRegistration: 'KT-2020/1' } },
      },
      headers: await as(PERSONAS.registrar('residents')),
    });
    expect(sent.status).toBe(200);
    // recordDeath is non-null, so its null reaches `data` itself: present and null, as GraphQL over HTTP says of a field error.
    expect(sent.body).toHaveProperty('data', null);
    expect(sent.body.errors![0]).toMatchObject({ path: ['recordDeath'], extensions: { code: 'CONFLICT', reason: 'CITIZEN_DECEASED' } });
  });

  it('a query answered in full: HTTP 200, data and no errors', async () => {
    const sent = await send(accept, { body: { query: `{ citizen(personalCode: "${code}") { fullName } }` }, headers: await as(PERSONAS.clerk) });
    expect(sent.status).toBe(200);
    expect(sent.contentType).toBe(`${accept}; charset=utf-8`);
    expect(sent.body).toEqual({ data: { citizen: { fullName: expect.any(String) } } });
  });
});

describe('a mutation operation of several writes', () => {
  it('keeps a later refusal a field error (HTTP 200): an earlier write was already done, and the client must not read "nothing was done"', async () => {
    const { code: mover } = await one<{ code: string }>(
      f.residents,
      `SELECT so_dinh_danh AS code FROM cong_dan WHERE ngay_mat IS NULL AND ngay_sinh < '2000-01-01' ORDER BY so_dinh_danh DESC OFFSET 17 LIMIT 1`,
    );
    const before = await f.residents.query(`SELECT count(*)::int AS n FROM dang_ky_cu_tru WHERE so_dinh_danh = $1 AND loai_cu_tru = 'TAM_TRU'`, [mover]);
    const sent = await send(RESPONSE_JSON, {
      body: {
        query: `mutation ($c: PersonalCode!) {
          done: registerTemporaryResidence(personalCode: $c, from: "2025-03-01",
            address: { provinceCode: "031", district: "Quận Lê Chân", ward: "Phường An Biên", street: "Số 12 ngõ 34 Tô Hiệu" }) { personalCode }
          refused: recordDeath(input: { personalCode: $c, dateOfDeath: "2999-01-01", deathRegistration: "KT-2999/2" }) { personalCode }
        }`,
        variables: { c: mover },
      },
      headers: await as(PERSONAS.registrar('residents')),
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toHaveProperty('data');
    expect(sent.body.errors!.map((e) => [e.path, e.extensions?.code, e.extensions?.reason])).toEqual([[['refused'], 'BAD_USER_INPUT', 'DATE_IN_FUTURE']]);
    const after = await f.residents.query(`SELECT count(*)::int AS n FROM dang_ky_cu_tru WHERE so_dinh_danh = $1 AND loai_cu_tru = 'TAM_TRU'`, [mover]);
    expect(after.rows[0].n).toBe(before.rows[0].n + 1);
  });
});

describe('messages in the caller\'s language (Accept-Language)', () => {
  const badCode = async (acceptLanguage?: string) => {
    const sent = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await as(PERSONAS.investigator)), ...(acceptLanguage ? { 'accept-language': acceptLanguage } : {}) },
      body: JSON.stringify({ query: UNIFIED_CITIZEN, variables: { code: '12345' } }),
    });
    const body = (await sent.json()) as Sent['body'];
    return { language: sent.headers.get('content-language'), error: body.errors![0] };
  };
  const ENGLISH = /^Variable \$code: A personal code is exactly 12 digits/;
  const VIETNAMESE = /^Biến \$code: Số định danh cá nhân gồm đúng 12 chữ số/;

  it.each([
    [undefined, 'en', ENGLISH],
    ['en', 'en', ENGLISH],
    ['vi', 'vi', VIETNAMESE],
    ['vi-VN', 'vi', VIETNAMESE],
    ['vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7', 'vi', VIETNAMESE],
    ['en-US,en;q=0.9,vi;q=0.8', 'en', ENGLISH],
    ['en;q=0.5, vi;q=0.8', 'vi', VIETNAMESE],
    ['vi;q=0, en', 'en', ENGLISH],
    ['fr-FR, de', 'en', ENGLISH],
    ['*', 'en', ENGLISH],
    ['x'.repeat(5000), 'en', ENGLISH],
  ])('Accept-Language %#: %s gives %s', async (header, language, words) => {
    const { language: contentLanguage, error } = await badCode(header);
    expect(contentLanguage).toBe(language);
    expect(error.message).toMatch(words);
    // The codes are the same in every language: a frontend may switch on them and write its own words.
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', variable: 'code', reason: 'PERSONAL_CODE_FORMAT' });
  });

  it.each([
    [
      'bad input a subgraph finds',
      async () => ({ body: { query: '{ searchCitizens(birthProvince: "003") { edges { cursor } } }' }, headers: await as(PERSONAS.clerk) }),
      /^birthProvince "003" không phải là mã tỉnh trong bảng mã quốc gia/,
    ],
    ['a refused token', async () => ({ body: { query: '{ __typename }' }, headers: { authorization: 'Bearer a.b.c' } }), /^Token không hợp lệ/],
    [
      'a refusal by the policy',
      async () => ({ body: { query: `{ citizen(personalCode: "${code}") { ethnicity } }` }, headers: await as(PERSONAS.clerk) }),
      /^Vai trò CLERK với mục đích SERVICE_COUNTER không được xem Citizen\.ethnicity/,
    ],
    ['a body that is not JSON', async () => ({ body: '{', headers: await as(PERSONAS.clerk) }), /^Nội dung yêu cầu không phải là JSON hợp lệ\.$/],
    ['a parse error (graphql-js detail kept)', async () => ({ body: { query: '{' }, headers: await as(PERSONAS.clerk) }), /^Văn bản GraphQL sai cú pháp: Syntax Error/],
    [
      'an agency that did not answer',
      async () => ({ body: { query: `{ citizen(personalCode: "${code}") { birthRegistration { registrationNumber } } }` }, headers: await as(PERSONAS.investigator) }),
      /^Cơ quan Đăng ký khai sinh không trả lời, nên dữ liệu của cơ quan này \(đăng ký khai sinh, cha mẹ và con\) bị thiếu/,
    ],
  ])('%s, in Vietnamese', async (_what, request, words) => {
    const { headers, ...rest } = await request();
    const sent = await send(RESPONSE_JSON, { ...rest, headers: { ...headers, 'accept-language': 'vi-VN' } });
    expect(sent.headers.get('content-language')).toBe('vi');
    expect(sent.body.errors![0].message).toMatch(words);
  });
});
