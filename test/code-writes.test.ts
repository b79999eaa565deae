import { PrismaClient } from '../prisma/residents/generated/client';
import { openDatabase, type Database } from '../lib/database';
import { isPersonalCode, parsePersonalCode } from '../lib/personal-code';
import { issuePersonalCode, BLOCK_SIZE } from '../subgraphs/residents/code-issuance';
import { startFederation, type TestFederation } from './support/federation';
import { livingCardHoldersWithBirth, one, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';
import { serviceCredential } from './support/service-credentials';

/**
 * Personal codes: issuance under concurrency and at a full block (the issuing function on the real
 * residents database, the code path the mutations run), and cancellation/re-issue and death through
 * the real gateway.
 */
let federation: TestFederation;
let f: Fixtures;
let residents: Database<PrismaClient>;
const ACTOR = { 'x-actor': 'registrar:code-writes-test' };

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
    // 2,000 transactions queue for 10 connections: far longer than the 5 s a request waits in production, and on a
    // busy machine (a load average of 30 was seen) longer than a minute. What this test proves is that concurrent
    // issuance never repeats a code, not how fast it is (that is the bench's), so the wait is bounded only loosely.
  residents = openDatabase(
    { url: testDatabases().serviceUrls.residents.database!, poolSize: 10, applicationName: 'code-writes-test', connectionTimeoutMs: 120_000 },
    (adapter) => new PrismaClient({ adapter }),
  );
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
  await residents?.close();
});

const issue = (provinceCode: string, sex: 'MALE' | 'FEMALE', dateOfBirth: string) =>
  residents.prisma.$transaction((tx) => issuePersonalCode(tx, { provinceCode, sex, dateOfBirth: new Date(`${dateOfBirth}T00:00:00Z`) }, { actor: 'test' }), {
    maxWait: 480_000,
    timeout: 60_000,
  });

describe('issuing personal codes', () => {
  it('issues 2,000 distinct valid codes concurrently for one province, sex and year', async () => {
    const codes = await Promise.all(Array.from({ length: 2000 }, () => issue('031', 'FEMALE', '2026-03-01')));
    expect(new Set(codes).size).toBe(2000);
    for (const code of codes) {
      expect(isPersonalCode(code)).toBe(true);
      expect(code.slice(0, 6)).toBe('031326');
      expect(parsePersonalCode(code)).toMatchObject({ provinceCode: '031', sex: 'FEMALE', birthYear: 2026 });
    }
    const { rows } = await f.residents.query(`SELECT count(*)::int AS n FROM so_dinh_danh WHERE so_dinh_danh = ANY($1) AND nguoi_cap = 'test'`, [codes]);
    expect(rows[0].n).toBe(2000);
    // Random, not sequential: consecutive issues are not neighbours.
    const serials = codes.map((code) => Number(code.slice(6))).sort((a, b) => a - b);
    const gaps = serials.slice(1).map((serial, i) => serial - serials[i]);
    expect(gaps.filter((gap) => gap === 1).length).toBeLessThan(50);
  }, 600_000);

  it('finds the last free code of a nearly full block, then says the block is full', async () => {
    // Block 096 1 00: Cà Mau, women born in 1900. No seeded citizen is that old.
    const block = '096100';
    await f.residents.query(
      `INSERT INTO so_dinh_danh (so_dinh_danh, so_dinh_danh_hien_hanh, trang_thai, nguoi_cap)
       SELECT c, c, 'HIEU_LUC', 'block-filler' FROM (SELECT $1 || lpad(n::text, 6, '0') AS c FROM generate_series(0, $2::int - 1) n) s
        WHERE c <> $1 || '424242'
       ON CONFLICT DO NOTHING`,
      [block, BLOCK_SIZE],
    );
    expect(await issue('096', 'FEMALE', '1900-06-01')).toBe(`${block}424242`);
    await expect(issue('096', 'FEMALE', '1900-06-01')).rejects.toMatchObject({ code: 'CONFLICT', reason: 'CODE_BLOCK_EXHAUSTED' });
    // The neighbouring block (men born in 1900) is untouched.
    expect((await issue('096', 'MALE', '1900-06-01')).slice(0, 6)).toBe('096000');
  }, 120_000);
});

const CITIZEN_WITH_CODES = /* GraphQL */ `
  query ($code: PersonalCode!) {
    citizen(personalCode: $code) {
      personalCode sex dateOfBirth deceased dateOfDeath
      personalCodes
      formerPersonalCodes { code cancelledOn reason legalDocument replacedBy }
      personalCodeCheck { consistent }
      permanentResidence { address { provinceCode } }
      identityCard { number status }
      identityCards { number status }
      birthRegistration { registrationNumber }
    }
  }
`;

const REISSUE = /* GraphQL */ `
  mutation ($input: ReissuePersonalCodeInput!) { reissuePersonalCode(input: $input) { personalCode sex personalCodes } }
`;

const RECORD_DEATH = /* GraphQL */ `
  mutation ($input: RecordDeathInput!) { recordDeath(input: $input) { personalCode deceased dateOfDeath } }
`;

describe('cancelling and re-issuing a code', () => {
  let subjects: string[];
  beforeAll(async () => {
    subjects = await livingCardHoldersWithBirth(f, 'code-writes', 6);
  });

  it('issues a new code after a sex change; the old code still leads to the person, with cards and birth', async () => {
    const old = subjects[0];
    const before = await federation.query<any>(CITIZEN_WITH_CODES, { code: old });
    const newSex = before.data.citizen.sex === 'MALE' ? 'FEMALE' : 'MALE';
    const response = await federation.query<any>(
      REISSUE,
      { input: { personalCode: old, reason: 'SEX_CHANGE', legalDocument: 'QĐ 17/2026/QĐ-UBND', sex: newSex } },
      ACTOR,
    );
    expect(response.errors).toBeUndefined();
    const fresh = response.data.reissuePersonalCode.personalCode as string;
    expect(fresh).not.toBe(old);
    expect(fresh.slice(0, 3)).toBe(old.slice(0, 3));
    expect(parsePersonalCode(fresh).sex).toBe(newSex);
    expect(response.data.reissuePersonalCode.personalCodes).toEqual([fresh, old]);

    for (const asked of [old, fresh]) {
      const view = (await federation.query<any>(CITIZEN_WITH_CODES, { code: asked })).data.citizen;
      expect(view.personalCode).toBe(fresh);
      expect(view.sex).toBe(newSex);
      expect(view.personalCodeCheck.consistent).toBe(before.data.citizen.personalCodeCheck.consistent);
      expect(view.formerPersonalCodes).toEqual([
        { code: old, cancelledOn: expect.any(String), reason: 'SEX_CHANGE', legalDocument: 'QĐ 17/2026/QĐ-UBND', replacedBy: fresh },
      ]);
      // The National ID Center and the birth registry still cite the old code; the graph still finds them.
      expect(view.identityCards).toEqual(before.data.citizen.identityCards);
      expect(view.identityCard).toEqual(before.data.citizen.identityCard);
      expect(view.birthRegistration).toEqual(before.data.citizen.birthRegistration);
      expect(view.birthRegistration).not.toBeNull();
      expect(view.permanentResidence).toEqual(before.data.citizen.permanentResidence);
    }
    // The card number (the old code) still leads to the person.
    const byCard = await federation.query<any>(`query ($n: String!) { citizenByIdentityCard(number: $n) { fullName personalCodes } }`, { n: old });
    expect(byCard.data.citizenByIdentityCard.personalCodes).toEqual([fresh, old]);

    const register = await f.residents.query(`SELECT so_dinh_danh, so_dinh_danh_hien_hanh, trang_thai, nguoi_huy FROM so_dinh_danh WHERE so_dinh_danh_hien_hanh = $1 ORDER BY trang_thai`, [fresh]);
    expect(register.rows.map((r) => [r.so_dinh_danh, r.trang_thai, r.nguoi_huy])).toEqual([
      [old, 'DA_HUY', ACTOR['x-actor']],
      [fresh, 'HIEU_LUC', null],
    ]);
    const log = await one<any>(f.residents, `SELECT * FROM cg_nhat_ky_thay_doi WHERE thao_tac = 'REISSUE_PERSONAL_CODE' AND khoa = $1`, [old]);
    expect(log).toMatchObject({ nguoi_thuc_hien: ACTOR['x-actor'], so_dinh_danh: fresh });
    expect(log.ma_yeu_cau).toMatch(/\S/);
  });

  it('re-issuing again keeps every earlier code leading to the person', async () => {
    const first = subjects[1];
    const view = (await federation.query<any>(CITIZEN_WITH_CODES, { code: first })).data.citizen;
    const year = Number(view.dateOfBirth.slice(0, 4));
    const second = (
      await federation.query<any>(REISSUE, { input: { personalCode: first, reason: 'BIRTH_YEAR_CORRECTION', legalDocument: 'TL 1', dateOfBirth: `${year - 1}-01-15` } }, ACTOR)
    ).data.reissuePersonalCode.personalCode;
    const third = (await federation.query<any>(REISSUE, { input: { personalCode: second, reason: 'DATA_ENTRY_ERROR', legalDocument: 'TL 2' } }, ACTOR)).data
      .reissuePersonalCode.personalCode;
    expect(parsePersonalCode(second).birthYear).toBe(year - 1);
    for (const asked of [first, second, third]) {
      const found = (await federation.query<any>(CITIZEN_WITH_CODES, { code: asked })).data.citizen;
      expect(found.personalCode).toBe(third);
      expect(found.personalCodes).toEqual([third, second, first]);
      expect(found.dateOfBirth).toBe(`${year - 1}-01-15`);
      expect(found.identityCards).toEqual(view.identityCards);
    }
  });

  it('refuses bad requests and changes nothing', async () => {
    const code = subjects[2];
    const cases: [Record<string, unknown>, Record<string, string> | undefined, string, string][] = [
      [{ personalCode: code, reason: 'DATA_ENTRY_ERROR', legalDocument: 'x' }, {}, 'UNAUTHENTICATED', 'TOKEN_MISSING'],
      [{ personalCode: code, reason: 'DATA_ENTRY_ERROR', legalDocument: 'x' }, undefined, 'FORBIDDEN', 'WRITE_NOT_ALLOWED'],
      [{ personalCode: code, reason: 'DATA_ENTRY_ERROR', legalDocument: 'x' }, await bearer(PERSONAS.registrar('national-id')), 'FORBIDDEN', 'WRITE_NOT_ALLOWED'],
      [{ personalCode: code, reason: 'DATA_ENTRY_ERROR', legalDocument: 'x' }, await bearer(PERSONAS.clerk), 'FORBIDDEN', 'WRITE_NOT_ALLOWED'],
      [{ personalCode: code, reason: 'DATA_ENTRY_ERROR', legalDocument: '  ' }, ACTOR, 'BAD_USER_INPUT', 'TEXT_REQUIRED'],
      [{ personalCode: code, reason: 'BIRTH_YEAR_CORRECTION', legalDocument: 'x' }, ACTOR, 'BAD_USER_INPUT', 'BIRTH_YEAR_UNCHANGED'],
      [{ personalCode: code, reason: 'DATA_ENTRY_ERROR', legalDocument: 'x', dateOfBirth: '2999-01-01' }, ACTOR, 'BAD_USER_INPUT', 'DATE_IN_FUTURE'],
      [{ personalCode: subjects[0], reason: 'DATA_ENTRY_ERROR', legalDocument: 'x' }, ACTOR, 'CONFLICT', 'PERSONAL_CODE_CANCELLED'],
      [{ personalCode: '001099999999', reason: 'DATA_ENTRY_ERROR', legalDocument: 'x' }, ACTOR, 'NOT_FOUND', 'CITIZEN_NOT_FOUND'],
    ];
    const sex = (await federation.query<any>(CITIZEN_WITH_CODES, { code })).data.citizen.sex;
    cases.push([{ personalCode: code, reason: 'SEX_CHANGE', legalDocument: 'x', sex }, ACTOR, 'BAD_USER_INPUT', 'SEX_UNCHANGED']);
    const { rows: started } = await f.residents.query(`SELECT now() AS t0`);
    for (const [input, headers, code_, reason] of cases) {
      const response = await federation.query<any>(REISSUE, { input }, headers);
      expect({ input, error: response.errors?.[0]?.extensions }).toMatchObject({ input, error: { code: code_, reason } });
      expect(response.data?.reissuePersonalCode ?? null).toBeNull();
    }
    // No code was issued by these requests, and the subject's register rows are as they were.
    const issued = await f.residents.query(`SELECT count(*)::int AS n FROM so_dinh_danh WHERE nguoi_cap = $1 AND ngay_cap >= $2`, [
      ACTOR['x-actor'],
      started[0].t0,
    ]);
    expect(issued.rows[0].n).toBe(0);
    const own = await f.residents.query(`SELECT trang_thai FROM so_dinh_danh WHERE so_dinh_danh_hien_hanh = $1`, [code]);
    expect(own.rows).toEqual([{ trang_thai: 'HIEU_LUC' }]);
    expect((await federation.query<any>(CITIZEN_WITH_CODES, { code })).data.citizen.personalCodes).toEqual([code]);
  });

  it('parallel re-issues of one code: one wins, the others are told the code in force', async () => {
    const code = subjects[3];
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => federation.query<any>(REISSUE, { input: { personalCode: code, reason: 'DATA_ENTRY_ERROR', legalDocument: 'x' } }, ACTOR)),
    );
    const won = responses.filter((r) => !r.errors);
    expect(won).toHaveLength(1);
    const fresh = won[0].data.reissuePersonalCode.personalCode;
    for (const lost of responses.filter((r) => r.errors)) {
      expect(lost.errors![0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'PERSONAL_CODE_CANCELLED', currentPersonalCode: fresh });
    }
    const { rows } = await f.residents.query(`SELECT trang_thai, count(*)::int AS n FROM so_dinh_danh WHERE so_dinh_danh_hien_hanh = $1 GROUP BY 1 ORDER BY 1`, [fresh]);
    expect(rows).toEqual([{ trang_thai: 'DA_HUY', n: 1 }, { trang_thai: 'HIEU_LUC', n: 1 }]);
  });

  it('is not reachable through the gateway: createCitizenAtBirth is for the birth registry service only', async () => {
    const viaGateway = await federation.query<any>(
      `mutation { createCitizenAtBirth(input: { birthRegistrationNumber: "x", provinceCode: "001", fullName: "A", sex: MALE, dateOfBirth: "2026-01-01", ethnicity: "Kinh", nationality: "VN" }) { personalCode } }`,
      {},
      ACTOR,
    );
    expect(viaGateway.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const direct = await fetch(federation.subgraphUrls.residents, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ACTOR },
      body: JSON.stringify({
        query: `mutation { createCitizenAtBirth(input: { birthRegistrationNumber: "x", provinceCode: "001", fullName: "A", sex: MALE, dateOfBirth: "2026-01-01", ethnicity: "Kinh", nationality: "VN" }) { personalCode } }`,
      }),
    });
    expect(direct.status).toBe(401);
    const body = (await direct.json()) as any;
    expect(body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'CREDENTIAL_REQUIRED' });
    expect(body.data).toBeUndefined();
    // With the gateway's credential for a residents registrar: still not a service of another agency.
    const createBody = JSON.stringify({
      query: `mutation { createCitizenAtBirth(input: { birthRegistrationNumber: "x", provinceCode: "001", fullName: "A", sex: MALE, dateOfBirth: "2026-01-01", ethnicity: "Kinh", nationality: "VN" }) { personalCode } }`,
    });
    const asGateway = await serviceCredential('gateway', 'residents', createBody, {
      principal: { sub: 'test:registrar', role: 'REGISTRAR', agency: 'residents', pc: null, purpose: 'CIVIL_REGISTRATION', rid: 'test-rid-1' },
    });
    const credentialed = await fetch(federation.subgraphUrls.residents, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Service ${asGateway}` },
      body: createBody,
    });
    expect(((await credentialed.json()) as any).errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'WRITE_NOT_ALLOWED' });
    const { rows } = await f.residents.query(`SELECT count(*)::int AS n FROM so_dinh_danh WHERE khoa_khai_sinh = 'x'`);
    expect(rows[0].n).toBe(0);
  });
});

describe('recording a death', () => {
  let subjects: string[];
  beforeAll(async () => {
    subjects = await livingCardHoldersWithBirth(f, 'death', 3);
  });

  it('marks the citizen deceased everywhere: the card is no longer valid, residences end', async () => {
    const code = subjects[0];
    const response = await federation.query<any>(RECORD_DEATH, { input: { personalCode: code, dateOfDeath: '2026-10-02', deathRegistration: 'KT 55/2026' } }, ACTOR);
    expect(response.errors).toBeUndefined();
    expect(response.data.recordDeath).toEqual({ personalCode: code, deceased: true, dateOfDeath: '2026-10-02' });
    const view = (await federation.query<any>(CITIZEN_WITH_CODES, { code })).data.citizen;
    expect(view.deceased).toBe(true);
    expect(view.identityCard).toBeNull();
    expect(view.identityCards.map((c: any) => c.status)).toContain('HOLDER_DECEASED');
    expect(view.identityCards.map((c: any) => c.status)).not.toContain('VALID');
    expect(view.permanentResidence).toBeNull();
    const { rows } = await f.residents.query(`SELECT count(*)::int AS n FROM dang_ky_cu_tru WHERE so_dinh_danh = $1 AND trang_thai = 'HIEU_LUC'`, [code]);
    expect(rows[0].n).toBe(0);
    const log = await one<any>(f.residents, `SELECT * FROM cg_nhat_ky_thay_doi WHERE thao_tac = 'RECORD_DEATH' AND khoa = $1`, [code]);
    expect(log.chi_tiet).toMatchObject({ dateOfDeath: '2026-10-02', deathRegistration: 'KT 55/2026' });
  });

  it('refuses a second death, a future date and a date before birth, changing nothing', async () => {
    const dead = subjects[0];
    const alive = subjects[1];
    const born = (await one<any>(f.residents, 'SELECT ngay_sinh FROM cong_dan WHERE so_dinh_danh = $1', [alive])).ngay_sinh as Date;
    const dayBefore = new Date(born.getTime() - 86_400_000).toISOString().slice(0, 10);
    const cases: [Record<string, unknown>, string, string][] = [
      [{ personalCode: dead, dateOfDeath: '2026-10-03', deathRegistration: 'x' }, 'CONFLICT', 'CITIZEN_DECEASED'],
      [{ personalCode: alive, dateOfDeath: '2999-01-01', deathRegistration: 'x' }, 'BAD_USER_INPUT', 'DATE_IN_FUTURE'],
      [{ personalCode: alive, dateOfDeath: dayBefore, deathRegistration: 'x' }, 'BAD_USER_INPUT', 'DATE_BEFORE_BIRTH'],
      [{ personalCode: alive, dateOfDeath: '2026-10-01', deathRegistration: '' }, 'BAD_USER_INPUT', 'TEXT_REQUIRED'],
    ];
    for (const [input, code, reason] of cases) {
      const response = await federation.query<any>(RECORD_DEATH, { input }, ACTOR);
      expect({ input, error: response.errors?.[0]?.extensions }).toMatchObject({ input, error: { code, reason } });
    }
    const rows = await f.residents.query(`SELECT so_dinh_danh, ngay_mat FROM cong_dan WHERE so_dinh_danh = ANY($1) ORDER BY 1`, [[dead, alive]]);
    expect(rows.rows.find((r) => r.so_dinh_danh === alive).ngay_mat).toBeNull();
    expect(rows.rows.find((r) => r.so_dinh_danh === dead).ngay_mat.toISOString().slice(0, 10)).toBe('2026-10-02');
  });

  it('parallel deaths of one citizen: exactly one is recorded', async () => {
    const code = subjects[2];
    const responses = await Promise.all(
      ['2026-09-01', '2026-09-02', '2026-09-03', '2026-09-04'].map((day) =>
        federation.query<any>(RECORD_DEATH, { input: { personalCode: code, dateOfDeath: day, deathRegistration: `KT ${day}` } }, ACTOR),
      ),
    );
    expect(responses.filter((r) => !r.errors)).toHaveLength(1);
    expect(responses.filter((r) => r.errors?.[0].extensions?.reason === 'CITIZEN_DECEASED')).toHaveLength(3);
    const { rows } = await f.residents.query(`SELECT count(*)::int AS n FROM cg_nhat_ky_thay_doi WHERE thao_tac = 'RECORD_DEATH' AND khoa = $1`, [code]);
    expect(rows[0].n).toBe(1);
  });
});
