import assert from 'node:assert';
import { createResidentsSubgraph } from '../subgraphs/residents/server';
import { createNationalIdSubgraph } from '../subgraphs/national-id/server';
import { createBirthRegistrySubgraph } from '../subgraphs/birth-registry/server';
import { readConfig as residentsConfig } from '../subgraphs/residents/config';
import { readConfig as nationalIdConfig } from '../subgraphs/national-id/config';
import { readConfig as birthRegistryConfig } from '../subgraphs/birth-registry/config';
import type { AgencySubgraph } from '../lib/agency-subgraph';
import { testDatabases } from './support/databases';
import { openFixtures, type Fixtures } from './support/fixtures';

/**
 * Each subgraph answered exactly as the gateway asks it: `_entities(representations: [...])`, through
 * the schema (executeOperation), with a fresh per-request context. Batching is checked by counting the
 * SQL statements one `_entities` call makes for one and for many citizens.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySubgraph = AgencySubgraph<any, any, any>;

let f: Fixtures;
let residents: Awaited<ReturnType<typeof createResidentsSubgraph>>;
let nationalId: Awaited<ReturnType<typeof createNationalIdSubgraph>>;
let birthRegistry: Awaited<ReturnType<typeof createBirthRegistrySubgraph>>;
let codes: string[];

beforeAll(async () => {
  const { serviceUrls } = testDatabases();
  residents = await createResidentsSubgraph(residentsConfig({ RESIDENTS_DATABASE_URL: serviceUrls.residents.database!, AUDIT_DATABASE_URL: serviceUrls.residents.audit }));
  nationalId = await createNationalIdSubgraph(nationalIdConfig({ NATIONAL_ID_DATABASE_URL: serviceUrls['national-id'].database!, AUDIT_DATABASE_URL: serviceUrls['national-id'].audit }));
  birthRegistry = await createBirthRegistrySubgraph(birthRegistryConfig({ BIRTH_REGISTRY_DATABASE_URL: serviceUrls['birth-registry'].database!, AUDIT_DATABASE_URL: serviceUrls['birth-registry'].audit }));
  f = openFixtures();
  // Parents of registered births: they have cards, children and (some) their own births.
  const { rows } = await f.birthRegistry.query(
    `SELECT DISTINCT so_dinh_danh_me AS code FROM dang_ky_khai_sinh WHERE so_dinh_danh_me IS NOT NULL ORDER BY 1 LIMIT 8`,
  );
  codes = rows.map((r) => r.code);
});

afterAll(async () => {
  await f?.end();
  for (const subgraph of [residents, nationalId, birthRegistry]) {
    await subgraph?.server.apollo.stop();
    await subgraph?.close();
  }
});

async function entities(subgraph: AnySubgraph, selection: string, representations: object[]) {
  const before = subgraph.db.statements.total;
  const response = await subgraph.server.apollo.executeOperation(
    {
      query: `query($representations: [_Any!]!) { _entities(representations: $representations) { ${selection} } }`,
      variables: { representations },
    },
    { contextValue: subgraph.server.createContext() as never },
  );
  assert(response.body.kind === 'single');
  expect(response.body.singleResult.errors).toBeUndefined();
  return { entities: (response.body.singleResult.data as any)._entities as any[], statements: subgraph.db.statements.total - before };
}

const citizens = (list: string[]) => list.map((personalCode) => ({ __typename: 'Citizen', personalCode }));

describe('residents: Citizen entities', () => {
  it('resolves references in the order given, null for unknown codes; a code no record has costs one look in the register', async () => {
    const unknown = '001099999999';
    const result = await entities(
      residents,
      '... on Citizen { personalCode fullName permanentResidence { kind } household { relationshipToHead } }',
      citizens([codes[1], unknown, codes[0]]),
    );
    expect(result.entities.map((e) => e?.personalCode ?? null)).toEqual([codes[1], null, codes[0]]);
    // One statement for the records; the unknown code sends the batch once to the register of codes
    // (it might be a cancelled code of someone's). Known codes alone cost one: next test.
    expect(result.statements).toBe(2);
  });

  it('costs one statement for eight citizens as for one', async () => {
    const selection = '... on Citizen { fullName residenceHistory { status } householdHistory { household { number } } }';
    expect((await entities(residents, selection, citizens(codes.slice(0, 1)))).statements).toBe(1);
    expect((await entities(residents, selection, citizens(codes))).statements).toBe(1);
  });
});

describe('national-id: Citizen entities', () => {
  it('returns each citizen’s cards, matching the database, in one statement for eight citizens', async () => {
    const result = await entities(
      nationalId,
      '... on Citizen { personalCode identityCard { number } identityCards { number status replacedBy { number } } legacyIdNumbers }',
      citizens(codes),
    );
    expect(result.statements).toBe(1);
    const { rows } = await f.nationalId.query('SELECT so_dinh_danh, so_the FROM the_can_cuoc WHERE so_dinh_danh = ANY($1)', [codes]);
    for (const entity of result.entities) {
      const expected = rows.filter((r) => r.so_dinh_danh === entity.personalCode).map((r) => r.so_the).sort();
      expect(entity.identityCards.map((c: any) => c.number).sort()).toEqual(expected);
    }
  });
});

describe('birth-registry: Citizen and BirthRegistration entities', () => {
  it('answers own birth, parents and children of eight citizens in one statement', async () => {
    const result = await entities(
      birthRegistry,
      '... on Citizen { personalCode birthRegistration { registrationNumber } parents { personalCode } children { personalCode } }',
      citizens(codes),
    );
    expect(result.statements).toBe(1);
    const { rows } = await f.birthRegistry.query('SELECT so_dinh_danh_tre FROM dang_ky_khai_sinh WHERE so_dinh_danh_me = $1', [codes[0]]);
    expect(result.entities[0].children.map((c: any) => c.personalCode).sort()).toEqual(rows.map((r) => r.so_dinh_danh_tre).sort());
  });

  it('resolves registrations by registration number', async () => {
    const { rows } = await f.birthRegistry.query('SELECT so_dang_ky, ho_ten_tre FROM dang_ky_khai_sinh ORDER BY id LIMIT 3');
    const result = await entities(
      birthRegistry,
      '... on BirthRegistration { registrationNumber childName }',
      rows.map((r) => ({ __typename: 'BirthRegistration', registrationNumber: r.so_dang_ky })),
    );
    expect(result.entities).toEqual(rows.map((r) => ({ registrationNumber: r.so_dang_ky, childName: r.ho_ten_tre })));
    expect(result.statements).toBe(1);
  });
});

describe('subgraph input checks (defence in depth, for direct calls)', () => {
  it('refuses a malformed personal code with BAD_USER_INPUT', async () => {
    const response = await residents.server.apollo.executeOperation(
      { query: 'query($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }', variables: { code: '00309900000' } },
      { contextValue: residents.server.createContext() },
    );
    assert(response.body.kind === 'single');
    expect(response.body.singleResult.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.singleResult.errors?.[0].message).toMatch(/exactly 12 digits/);
  });
});
