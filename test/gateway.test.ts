import { startFederation, type TestFederation, statements } from './support/federation';
import { citizenWithEverything, householdOfSize, one, openFixtures, type Fixtures } from './support/fixtures';
import { bearer, PERSONAS } from './support/tokens';
import { BY_IDENTITY_CARD, CITIZEN_LIST, HOUSEHOLD, UNIFIED_CITIZEN } from './support/queries';

/**
 * End to end through the real gateway and the three real subgraphs over HTTP, against the seeded
 * embedded PostgreSQL. Expected values are read from the agency databases, never written into the test.
 */
let federation: TestFederation;
let f: Fixtures;

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
});

const iso = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : null);

describe('the unified view of one citizen', () => {
  it('joins the three agencies into one citizen, as each database records it', async () => {
    const code = await citizenWithEverything(f);
    const response = await federation.query<{ citizen: Record<string, any> }>(UNIFIED_CITIZEN, { code });
    expect(response.errors).toBeUndefined();
    const citizen = response.data!.citizen;

    const core = await one<any>(f.residents, 'SELECT * FROM cong_dan WHERE so_dinh_danh = $1', [code]);
    expect(citizen).toMatchObject({
      personalCode: code,
      fullName: core.ho_ten,
      dateOfBirth: iso(core.ngay_sinh),
      sex: core.gioi_tinh === 1 ? 'MALE' : 'FEMALE',
      ethnicity: core.dan_toc,
      deceased: false,
    });
    const residence = await one<any>(
      f.residents,
      `SELECT * FROM dang_ky_cu_tru WHERE so_dinh_danh = $1 AND loai_cu_tru = 'THUONG_TRU' AND trang_thai = 'HIEU_LUC'`,
      [code],
    );
    expect(citizen.permanentResidence).toMatchObject({
      kind: 'PERMANENT',
      status: 'ACTIVE',
      address: { provinceCode: residence.ma_tinh, street: residence.dia_chi_chi_tiet, ward: residence.phuong_xa },
    });
    const membership = await one<any>(f.residents, 'SELECT * FROM thanh_vien_ho WHERE so_dinh_danh = $1 AND den_ngay IS NULL', [code]);
    expect(citizen.household.household.number).toBe(membership.so_ho);

    const card = await one<any>(f.nationalId, `SELECT * FROM the_can_cuoc WHERE so_dinh_danh = $1 AND trang_thai = 'CON_HIEU_LUC'`, [code]);
    expect(citizen.identityCard).toMatchObject({ number: card.so_the, status: 'VALID', issuedOn: iso(card.ngay_cap) });
    const { rows: cards } = await f.nationalId.query('SELECT so_the FROM the_can_cuoc WHERE so_dinh_danh = $1', [code]);
    expect(citizen.identityCards.map((c: any) => c.number).sort()).toEqual(cards.map((c) => c.so_the).sort());

    const birth = await one<any>(f.birthRegistry, 'SELECT * FROM dang_ky_khai_sinh WHERE so_dinh_danh_tre = $1', [code]);
    expect(citizen.birthRegistration).toMatchObject({
      registrationNumber: birth.so_dang_ky,
      childName: birth.ho_ten_tre,
      childDateOfBirth: iso(birth.ngay_sinh_tre),
      registrationProvinceCode: birth.ma_tinh_dang_ky,
    });
    // Consistency across agencies, as the birth registry and the population database record it.
    expect(citizen.birthRegistration.childDateOfBirth).toBe(citizen.dateOfBirth);
    expect(citizen.personalCodeCheck).toMatchObject({ provinceCode: birth.ma_tinh_dang_ky, consistent: true, discrepancyDetails: [] });
    expect(citizen.parents.map((p: any) => p.personalCode).sort()).toEqual([birth.so_dinh_danh_cha, birth.so_dinh_danh_me].sort());
  });

  it('costs exactly one SQL statement per agency database', async () => {
    const code = await citizenWithEverything(f);
    const counts = await federation.countStatements(() => federation.query(UNIFIED_CITIZEN, { code }));
    expect(counts).toEqual(statements({ residents: 1, 'national-id': 1, 'birth-registry': 1 }));
  });

  it('returns null, not an error, for a well-formed code that no citizen has', async () => {
    const { rows } = await f.residents.query(`SELECT so_dinh_danh FROM cong_dan WHERE so_dinh_danh LIKE '001%'`);
    const taken = new Set(rows.map((r) => r.so_dinh_danh));
    let unknown = '001099000000';
    for (let n = 0; taken.has(unknown); n += 1) unknown = `001099${String(n).padStart(6, '0')}`;
    const response = await federation.query(UNIFIED_CITIZEN, { code: unknown });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ citizen: null });
  });

  it('flags a record whose sex or year of birth disagrees with its code, each discrepancy with a stable code', async () => {
    const row = await one<{ code: string; year_differs: boolean; sex_differs: boolean }>(
      f.residents,
      `SELECT so_dinh_danh AS code,
              substr(so_dinh_danh, 5, 2)::int <> extract(year FROM ngay_sinh)::int % 100 AS year_differs,
              (substr(so_dinh_danh, 4, 1)::int % 2) <> (gioi_tinh - 1) AS sex_differs
         FROM cong_dan
        WHERE substr(so_dinh_danh, 5, 2)::int <> extract(year FROM ngay_sinh)::int % 100
           OR (substr(so_dinh_danh, 4, 1)::int % 2) <> (gioi_tinh - 1)
        ORDER BY so_dinh_danh LIMIT 1`,
    );
    const query = `query($code: PersonalCode!) {
      citizen(personalCode: $code) { personalCodeCheck { consistent discrepancies discrepancyDetails { code message codeSays recordSays } } }
    }`;
    const response = await federation.query<any>(query, { code: row.code });
    const check = response.data.citizen.personalCodeCheck;
    expect(check.consistent).toBe(false);
    const codes = [...(row.sex_differs ? ['SEX_MISMATCH'] : []), ...(row.year_differs ? ['BIRTH_YEAR_MISMATCH'] : [])];
    expect(check.discrepancyDetails.map((d: any) => d.code)).toEqual(codes);
    for (const detail of check.discrepancyDetails) expect(detail.message).toMatch(/the code says .* the record says/i);
    // The deprecated list of sentences is the same messages, for clients built before the codes.
    expect(check.discrepancies).toEqual(check.discrepancyDetails.map((d: any) => d.message));

    // The codes do not depend on the language; the messages are the caller's.
    const vi = await federation.query<any>(query, { code: row.code }, { ...(await bearer(PERSONAS.investigator)), 'accept-language': 'vi-VN' });
    const viCheck = vi.data.citizen.personalCodeCheck;
    expect(viCheck.discrepancyDetails.map((d: any) => [d.code, d.codeSays, d.recordSays])).toEqual(
      check.discrepancyDetails.map((d: any) => [d.code, d.codeSays, d.recordSays]),
    );
    for (const detail of viCheck.discrepancyDetails) expect(detail.message).toMatch(/^Số định danh ghi .*; hồ sơ ghi /);
  });
});

describe('lists cost the same number of statements whatever their size', () => {
  it('100 citizens with fields from all three agencies: one statement per agency database', async () => {
    const { rows } = await f.residents.query('SELECT so_dinh_danh FROM cong_dan ORDER BY so_dinh_danh LIMIT 100');
    const codes = rows.map((r) => r.so_dinh_danh);
    let response: any;
    const counts = await federation.countStatements(async () => {
      response = await federation.query(CITIZEN_LIST, { codes });
    });
    expect(response.errors).toBeUndefined();
    expect(response.data.citizens.map((c: any) => c.personalCode)).toEqual(codes);
    expect(counts).toEqual(statements({ residents: 1, 'national-id': 1, 'birth-registry': 1 }));
  });

  it('a household of many members costs what a household of two costs', async () => {
    const large = await householdOfSize(f, 'largest');
    const small = await householdOfSize(f, 2);
    expect(large.members).toBeGreaterThanOrEqual(6);

    let largeResponse: any;
    const largeCounts = await federation.countStatements(async () => {
      largeResponse = await federation.query(HOUSEHOLD, { number: large.number });
    });
    const smallCounts = await federation.countStatements(() => federation.query(HOUSEHOLD, { number: small.number }));

    expect(largeResponse.errors).toBeUndefined();
    expect(largeResponse.data.household.members).toHaveLength(large.members);
    expect(largeCounts).toEqual(smallCounts);
    expect(largeCounts).toEqual(statements({ residents: 1, 'national-id': 1, 'birth-registry': 1 }));
  });

  it('asking for relatives by name costs one more residents statement, however many relatives', async () => {
    const code = await citizenWithEverything(f);
    const query = `query($code: PersonalCode!) {
      citizen(personalCode: $code) { fullName parents { fullName dateOfBirth } children { fullName } identityCard { number } }
    }`;
    let response: any;
    const counts = await federation.countStatements(async () => {
      response = await federation.query(query, { code });
    });
    expect(response.errors).toBeUndefined();
    expect(response.data.citizen.parents).toHaveLength(2);
    expect(response.data.citizen.parents.every((p: any) => typeof p.fullName === 'string')).toBe(true);
    expect(counts).toEqual(statements({ residents: 2, 'national-id': 1, 'birth-registry': 1 }));
  });
});

describe('households', () => {
  it('lists the current members, head first, with their relationship to the head', async () => {
    const large = await householdOfSize(f, 'largest');
    const response = await federation.query<any>(HOUSEHOLD, { number: large.number });
    const household = response.data.household;
    const { rows: members } = await f.residents.query(
      'SELECT so_dinh_danh, quan_he_chu_ho FROM thanh_vien_ho WHERE so_ho = $1 AND den_ngay IS NULL',
      [large.number],
    );
    const head = await one<any>(f.residents, 'SELECT so_dinh_danh_chu_ho FROM ho_gia_dinh WHERE so_ho = $1', [large.number]);
    expect(household.head.personalCode).toBe(head.so_dinh_danh_chu_ho);
    expect(household.members[0]).toMatchObject({ relationshipToHead: 'HEAD', citizen: { personalCode: head.so_dinh_danh_chu_ho } });
    expect(household.members.map((m: any) => m.citizen.personalCode).sort()).toEqual(members.map((m) => m.so_dinh_danh).sort());
  });

  it('returns null for an unknown household number', async () => {
    const response = await federation.query(HOUSEHOLD, { number: 'NO-SUCH-HOUSEHOLD' });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ household: null });
  });
});

describe('lookup by identity card number', () => {
  it('finds the citizen behind a legacy 9-digit ID number', async () => {
    const legacy = await one<{ number: string; code: string }>(
      f.nationalId,
      `SELECT so_the AS number, so_dinh_danh AS code FROM the_can_cuoc WHERE loai_the = 'CMND' ORDER BY so_the LIMIT 1`,
    );
    const response = await federation.query<any>(BY_IDENTITY_CARD, { number: legacy.number });
    expect(response.errors).toBeUndefined();
    expect(response.data.citizenByIdentityCard.personalCode).toBe(legacy.code);
    expect(response.data.citizenByIdentityCard.legacyIdNumbers).toContain(legacy.number);
    const core = await one<any>(f.residents, 'SELECT ho_ten FROM cong_dan WHERE so_dinh_danh = $1', [legacy.code]);
    expect(response.data.citizenByIdentityCard.fullName).toBe(core.ho_ten);
  });

  it('lists each legacy ID number once, though a CMND keeps its number through renewals and replacements', async () => {
    // A holder with several CMND rows of one number (the generator renews and replaces CMNDs under their number).
    const renewed = await one<{ code: string; number: string }>(
      f.nationalId,
      `SELECT so_dinh_danh AS code, so_the AS number FROM the_can_cuoc WHERE loai_the = 'CMND'
        GROUP BY so_dinh_danh, so_the HAVING count(*) > 1 ORDER BY so_dinh_danh LIMIT 1`,
    );
    const { rows } = await f.nationalId.query<{ number: string }>(
      `SELECT DISTINCT so_the AS number FROM the_can_cuoc WHERE loai_the = 'CMND' AND so_dinh_danh = $1`,
      [renewed.code],
    );
    const response = await federation.query<any>(BY_IDENTITY_CARD, { number: renewed.number });
    expect(response.errors).toBeUndefined();
    const numbers: string[] = response.data.citizenByIdentityCard.legacyIdNumbers;
    expect(numbers).toHaveLength(new Set(numbers).size);
    expect([...numbers].sort()).toEqual(rows.map((r) => r.number).sort());
  });

  it('finds the citizen behind a 12-digit chip card number', async () => {
    const chip = await one<{ number: string; code: string }>(
      f.nationalId,
      `SELECT so_the AS number, so_dinh_danh AS code FROM the_can_cuoc WHERE loai_the = 'CCCD_CHIP' ORDER BY so_the LIMIT 1`,
    );
    const response = await federation.query<any>(BY_IDENTITY_CARD, { number: chip.number });
    expect(response.data.citizenByIdentityCard.personalCode).toBe(chip.code);
  });

  it('returns null for a number no card has', async () => {
    const response = await federation.query(BY_IDENTITY_CARD, { number: '000000000' });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ citizenByIdentityCard: null });
  });
});

describe('population statistics', () => {
  it('counts living citizens by province of registration, sex and birth decade, as the database holds them', async () => {
    // Other test files register births and deaths meanwhile: the answer is compared with the database as it was
    // both just before and just after it, in a moment when nothing changed between the two (tried a few times).
    const analyst = await bearer(PERSONAS.analyst);
    const counts = () =>
      one<{ living: number; hanoiWomen1990s: number }>(
        f.residents,
        `SELECT count(*) FILTER (WHERE ngay_mat IS NULL)::int AS living,
                count(*) FILTER (WHERE ngay_mat IS NULL AND so_dinh_danh LIKE '001%' AND gioi_tinh = 2
                                   AND ngay_sinh >= '1990-01-01' AND ngay_sinh < '2000-01-01')::int AS "hanoiWomen1990s"
           FROM cong_dan`,
      );
    let response: any;
    let before: { living: number; hanoiWomen1990s: number };
    let after: typeof before;
    let tries = 0;
    do {
      before = await counts();
      response = await federation.query<any>(`{ citizenStatistics { total groups { provinceCode provinceName sex birthDecade count } } }`, {}, analyst);
      after = await counts();
      tries += 1;
    } while (JSON.stringify(before) !== JSON.stringify(after) && tries < 20);
    expect(after).toEqual(before);
    expect(response.errors).toBeUndefined();
    const { total, groups } = response.data.citizenStatistics;
    expect(total).toBe(after.living);
    const hanoiWomen1990s = { n: after.hanoiWomen1990s };
    const group = groups.find((g: any) => g.provinceCode === '001' && g.sex === 'FEMALE' && g.birthDecade === 1990);
    expect(group?.count ?? 0).toBe(hanoiWomen1990s.n);
    expect(group?.provinceName).toBe('Hà Nội');
  });

  it('groups by fewer dimensions when asked, in one statement', async () => {
    const analyst = await bearer(PERSONAS.analyst);
    let response: any;
    const counts = await federation.countStatements(async () => {
      response = await federation.query(`{ citizenStatistics(groupBy: [SEX]) { total groups { provinceCode sex birthDecade count } } }`, {}, analyst);
    });
    expect(counts).toEqual(statements({ residents: 1 }));
    const groups = response.data.citizenStatistics.groups;
    expect(groups.map((g: any) => g.sex)).toEqual(['MALE', 'FEMALE']);
    expect(groups.every((g: any) => g.provinceCode === null && g.birthDecade === null)).toBe(true);
    expect(groups[0].count + groups[1].count).toBe(response.data.citizenStatistics.total);
  });
});

describe('search', () => {
  it('pages through citizens of a birth province in code order without overlap', async () => {
    const province = (await one<{ p: string }>(f.residents, 'SELECT substr(so_dinh_danh, 1, 3) AS p FROM cong_dan GROUP BY 1 ORDER BY count(*) DESC LIMIT 1')).p;
    const { rows } = await f.residents.query(`SELECT so_dinh_danh FROM cong_dan WHERE so_dinh_danh LIKE $1 || '%' ORDER BY so_dinh_danh LIMIT 10`, [province]);
    const query = `query($p: String!, $after: String) {
      searchCitizens(birthProvince: $p, first: 5, after: $after) { edges { cursor node { personalCode } } pageInfo { hasNextPage endCursor } }
    }`;
    const page1 = (await federation.query<any>(query, { p: province })).data.searchCitizens;
    const page2 = (await federation.query<any>(query, { p: province, after: page1.pageInfo.endCursor })).data.searchCitizens;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const codes = [...page1.edges, ...page2.edges].map((e: any) => e.node.personalCode);
    expect(codes).toEqual(rows.map((r) => r.so_dinh_danh));
  });

  it('finds citizens by the start of their name, ignoring case, and by date of birth', async () => {
    const someone = await one<any>(f.residents, 'SELECT so_dinh_danh, ho_ten, ngay_sinh FROM cong_dan ORDER BY so_dinh_danh OFFSET 17 LIMIT 1');
    const response = await federation.query<any>(
      `query($name: String, $dob: Date) { searchCitizens(name: $name, dateOfBirth: $dob, first: 100) { edges { node { personalCode fullName dateOfBirth } } } }`,
      { name: someone.ho_ten.toLowerCase(), dob: iso(someone.ngay_sinh) },
    );
    const nodes = response.data.searchCitizens.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => n.personalCode)).toContain(someone.so_dinh_danh);
    expect(nodes.every((n: any) => n.dateOfBirth === iso(someone.ngay_sinh))).toBe(true);
  });
});
