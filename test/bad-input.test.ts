import { startFederation, type TestFederation, type GraphQLResponse, statements } from './support/federation';
import { UNIFIED_CITIZEN } from './support/queries';

/**
 * Bad input gets a precise error with a stable code, before any agency database is touched, and no
 * error ever carries SQL, a stack trace or a subgraph URL.
 */
let federation: TestFederation;

beforeAll(async () => {
  federation = await startFederation();
});

afterAll(async () => {
  await federation?.stop();
});

async function refused(query: string, variables?: Record<string, unknown>) {
  let response!: GraphQLResponse;
  const counts = await federation.countStatements(async () => {
    response = await federation.query(query, variables);
  });
  expect(counts).toEqual(statements());
  // One shape wherever it is found (the gateway, or a subgraph while the operation runs): HTTP 400, no data.
  expect(response.status).toBe(400);
  expect(response).not.toHaveProperty('data');
  expect(response.errors).toHaveLength(1);
  expectNothingInternal(response);
  return response.errors![0];
}

function expectNothingInternal(response: unknown) {
  const text = JSON.stringify(response);
  expect(text).not.toMatch(/SELECT|INSERT|prisma|stacktrace|\bat \/|https?:\/\/|127\.0\.0\.1|serviceName/i);
}

describe('malformed personal codes', () => {
  it('refuses a code of the wrong length given as a literal, naming the argument and the part', async () => {
    const error = await refused(`{ citizen(personalCode: "12345") { fullName } }`);
    expect(error.message).toMatch(/Argument personalCode: A personal code is exactly 12 digits .*"12345" \(5 characters\)/);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'personalCode', reason: 'PERSONAL_CODE_FORMAT' });
  });

  it('refuses an unknown province code given as a variable', async () => {
    const error = await refused(UNIFIED_CITIZEN, { code: '003303123456' });
    expect(error.message).toMatch(/Variable \$code: .*starts with "003", which is not a province code/);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', variable: 'code', reason: 'PERSONAL_CODE_PROVINCE' });
  });

  it('refuses a list with one bad code among good ones', async () => {
    const error = await refused(`query($codes: [PersonalCode!]!) { citizens(personalCodes: $codes) { fullName } }`, {
      codes: ['001099000001', '00109900000X'],
    });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', variable: 'codes', reason: 'PERSONAL_CODE_FORMAT' });
  });

  it('refuses a bad code or date deep inside a mutation input variable, before any agency is called', async () => {
    const mutation = `mutation ($input: RegisterBirthInput!) { registerBirth(input: $input) { status } }`;
    const input = {
      idempotencyKey: 'bad-input-test-0001',
      registrationProvinceCode: '031',
      registeringAuthority: 'UBND',
      placeOfBirth: 'Hải Phòng',
      childName: 'Nguyễn Văn A',
      childSex: 'MALE',
      childDateOfBirth: '2026-10-01',
      ethnicity: 'Kinh',
      mother: { personalCode: '0310851234' },
    };
    const badCode = await refused(mutation, { input });
    expect(badCode.extensions).toMatchObject({ code: 'BAD_USER_INPUT', variable: 'input', field: 'input.mother.personalCode', reason: 'PERSONAL_CODE_FORMAT' });
    const badDate = await refused(mutation, { input: { ...input, mother: undefined, childDateOfBirth: '2026-02-30' } });
    expect(badDate.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.childDateOfBirth', reason: 'DATE_INVALID' });
  });

  it('refuses a code given as a number', async () => {
    const error = await refused(UNIFIED_CITIZEN, { code: 1099000001 });
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/string of 12 digits; got number/);
  });
});

describe('other bad input', () => {
  it('refuses an identity card number that is neither 9 nor 12 digits', async () => {
    const error = await refused(`{ citizenByIdentityCard(number: "12ab") { personalCode } }`);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CARD_NUMBER_FORMAT', argument: 'number' });
  });

  it('refuses an unknown province in a search', async () => {
    const error = await refused(`{ searchCitizens(birthProvince: "003") { edges { cursor } } }`);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_PROVINCE', argument: 'birthProvince' });
    expect(error.message).toMatch(/"003" is not a province code/);
  });

  it('refuses a date that is not in the calendar', async () => {
    const error = await refused(`{ searchCitizens(dateOfBirth: "2023-02-30") { edges { cursor } } }`);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DATE_INVALID', argument: 'dateOfBirth' });
  });

  it('refuses more than 100 codes in one list', async () => {
    const codes = Array.from({ length: 101 }, (_, i) => `001099${String(i).padStart(6, '0')}`);
    const error = await refused(`query($codes: [PersonalCode!]!) { citizens(personalCodes: $codes) { fullName } }`, { codes });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOO_MANY_VALUES' });
    expect(error.message).toMatch(/at most 100 values; got 101/);
  });

  it('refuses a search without any filter and a forged cursor', async () => {
    const none = await refused(`{ searchCitizens { edges { cursor } } }`);
    expect(none.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NO_FILTER' });
    const forged = await refused(`{ searchCitizens(birthProvince: "001", after: "bm90LWEtY3Vyc29y") { edges { cursor } } }`);
    expect(forged.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'BAD_CURSOR' });
  });

  it('answers a syntax error with GRAPHQL_PARSE_FAILED and an unknown field with GRAPHQL_VALIDATION_FAILED', async () => {
    const parse = await federation.query(`{ citizen(personalCode: "001099000001") { fullName `);
    expect(parse.errors![0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const validation = await federation.query(`{ citizen(personalCode: "001099000001") { password } }`);
    expect(validation.errors![0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expectNothingInternal(validation);
  });
});
