import { startFederation, type GraphQLResponse, type TestFederation } from './support/federation';
import { one, openFixtures, type Fixtures } from './support/fixtures';
import { today } from '../lib/graphql/arguments';

/**
 * Residence and household writes through the real gateway: each mutation's answer and the unified view
 * right after it, the rows kept as history, the change log, every refusal (with nothing written), and
 * concurrent writes about the same citizen or household. Subjects are picked from the seeded population by
 * what they have, in an order of their own (md5 of the code) and away from the first citizens and
 * households by key that other test files read; each subject is used by one test only.
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

const ACTOR = 'registrar:test';
let requests = 0;
const requestId = () => `rw-${process.pid}-${++requests}`;

const iso = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : null);
const TODAY = iso(today())!;
const addDays = (day: string, days: number) => iso(new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000))!;

const ADDRESS = { provinceCode: '031', district: 'Quận Ngô Quyền', ward: 'Phường Máy Tơ', street: '12 Lê Lai' };

const CITIZEN_VIEW = /* GraphQL */ `
  personalCode
  permanentResidence { id kind status from to address { provinceCode provinceName district ward street } }
  temporaryResidences { id kind status from to address { street } }
  residenceHistory { id kind status from to address { street } }
  household { relationshipToHead from to household { number head { personalCode } } }
  householdHistory { relationshipToHead from to household { number } }
`;
const HOUSEHOLD_VIEW = /* GraphQL */ `
  number establishedOn address { provinceCode district ward street }
  head { personalCode }
  members { relationshipToHead from to citizen { personalCode } }
`;

const UNIFIED = `query($code: PersonalCode!) { citizen(personalCode: $code) { ${CITIZEN_VIEW} } }`;
const HOUSEHOLD = `query($number: String!) { household(number: $number) { ${HOUSEHOLD_VIEW} } }`;

const REGISTER_PERMANENT = /* GraphQL */ `
  mutation($code: PersonalCode!, $address: AddressInput!, $from: Date!) {
    registerPermanentResidence(personalCode: $code, address: $address, from: $from) { ${CITIZEN_VIEW} identityCard { number } }
  }`;
const REGISTER_TEMPORARY = /* GraphQL */ `
  mutation($code: PersonalCode!, $address: AddressInput!, $from: Date!, $to: Date) {
    registerTemporaryResidence(personalCode: $code, address: $address, from: $from, to: $to) { ${CITIZEN_VIEW} }
  }`;
const MOVE_OUT = /* GraphQL */ `
  mutation($code: PersonalCode!, $id: ID!, $on: Date!) { moveOut(personalCode: $code, residenceId: $id, on: $on) { ${CITIZEN_VIEW} } }`;
const CREATE_HOUSEHOLD = /* GraphQL */ `
  mutation($code: PersonalCode!, $address: AddressInput!, $on: Date!) {
    createHousehold(headPersonalCode: $code, address: $address, establishedOn: $on) { ${HOUSEHOLD_VIEW} }
  }`;
const JOIN_HOUSEHOLD = /* GraphQL */ `
  mutation($code: PersonalCode!, $number: String!, $relationship: HouseholdRelationship!, $from: Date!) {
    joinHousehold(personalCode: $code, householdNumber: $number, relationshipToHead: $relationship, from: $from) { ${HOUSEHOLD_VIEW} }
  }`;
const LEAVE_HOUSEHOLD = /* GraphQL */ `
  mutation($code: PersonalCode!, $on: Date!) { leaveHousehold(personalCode: $code, on: $on) { ${CITIZEN_VIEW} } }`;
const CHANGE_HEAD = /* GraphQL */ `
  mutation($number: String!, $code: PersonalCode!, $previous: HouseholdRelationship!, $on: Date!) {
    changeHouseholdHead(householdNumber: $number, newHeadPersonalCode: $code, previousHeadRelationship: $previous, on: $on) { ${HOUSEHOLD_VIEW} }
  }`;

// ---------------------------------------------------------------------------------------------------------
// Subjects

const used = new Set<string>();
const AWAY = `c.so_dinh_danh > (SELECT so_dinh_danh FROM cong_dan ORDER BY so_dinh_danh OFFSET 150 LIMIT 1)
  AND NOT EXISTS (SELECT 1 FROM thanh_vien_ho y WHERE y.so_dinh_danh = c.so_dinh_danh AND y.den_ngay IS NULL
                    AND y.so_ho IN (SELECT so_ho FROM ho_gia_dinh ORDER BY so_ho LIMIT 40))`;

interface Subject {
  code: string;
  household: string;
  birth: Date;
}

/** The first row (by this file's own order) whose citizen and household no other test here has taken. */
async function take(where: string, params: unknown[] = []): Promise<Subject> {
  const { rows } = await f.residents.query<Subject>(
    `SELECT c.so_dinh_danh AS code, t.so_ho AS household, c.ngay_sinh AS birth
       FROM cong_dan c JOIN thanh_vien_ho t ON t.so_dinh_danh = c.so_dinh_danh AND t.den_ngay IS NULL
      WHERE ${AWAY} AND ${where}
      ORDER BY md5(c.so_dinh_danh || 'residence-writes')`,
    params,
  );
  const row = rows.find((r) => !used.has(r.code) && !used.has(r.household));
  if (!row) throw new Error(`The seeded population has no unused subject for: ${where}`);
  used.add(row.code);
  used.add(row.household);
  return row;
}

const currentMembers = `(SELECT count(*) FROM thanh_vien_ho x WHERE x.so_ho = t.so_ho AND x.den_ngay IS NULL)`;
/** A living member, not the head, of a household of at least `size` members. */
const member = (size = 2) => take(`c.ngay_mat IS NULL AND t.quan_he_chu_ho <> 'CHU_HO' AND ${currentMembers} >= $1`, [size]);
/** A living head of a household of at least `size` members. */
const head = (size = 2) => take(`c.ngay_mat IS NULL AND t.quan_he_chu_ho = 'CHU_HO' AND ${currentMembers} >= $1`, [size]);
const deceased = () => take('c.ngay_mat IS NOT NULL');

/** Other living non-head members of the subject's household. */
async function housemates(s: Subject): Promise<string[]> {
  const { rows } = await f.residents.query<{ code: string }>(
    `SELECT t.so_dinh_danh AS code FROM thanh_vien_ho t JOIN cong_dan c USING (so_dinh_danh)
      WHERE t.so_ho = $1 AND t.den_ngay IS NULL AND t.so_dinh_danh <> $2 AND t.quan_he_chu_ho <> 'CHU_HO' AND c.ngay_mat IS NULL
      ORDER BY t.so_dinh_danh`,
    [s.household, s.code],
  );
  for (const row of rows) used.add(row.code);
  return rows.map((r) => r.code);
}

/** A well-formed personal code no citizen has (a real code's first six digits, other random digits). */
async function unknownCode(): Promise<string> {
  const base = (await one<{ code: string }>(f.residents, 'SELECT so_dinh_danh AS code FROM cong_dan ORDER BY md5(so_dinh_danh) LIMIT 1')).code;
  for (let i = 0; ; i++) {
    const code = base.slice(0, 6) + String((Number(base.slice(6)) + 7919 * (i + 1)) % 1_000_000).padStart(6, '0');
    const { rowCount } = await f.residents.query('SELECT 1 FROM cong_dan WHERE so_dinh_danh = $1', [code]);
    if (rowCount === 0) return code;
  }
}

/** A living citizen in no household: a member who has left theirs (through the mutation). */
async function freeCitizen(): Promise<Subject> {
  const s = await member(3);
  const left = await write(LEAVE_HOUSEHOLD, { code: s.code, on: TODAY });
  expect(left.errors).toBeUndefined();
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Calls and checks

async function write<Data = Record<string, any>>(mutation: string, variables: Record<string, unknown>, id = requestId()) {
  const response = await federation.query<Data>(mutation, variables, { 'x-actor': ACTOR, 'x-request-id': id });
  return Object.assign(response, { requestId: id });
}

async function read(code: string): Promise<Record<string, any>> {
  const response = await federation.query<{ citizen: Record<string, any> }>(UNIFIED, { code });
  expect(response.errors).toBeUndefined();
  return response.data!.citizen;
}

async function logOf(id: string) {
  const { rows } = await f.residents.query(
    'SELECT nguoi_thuc_hien, ma_yeu_cau, thao_tac, bang, khoa, so_dinh_danh, chi_tiet FROM cg_nhat_ky_thay_doi WHERE ma_yeu_cau = $1 ORDER BY id',
    [id],
  );
  return rows;
}

/** Everything a refused write might have touched about these citizens and households. */
async function fingerprint(codes: string[], households: string[]) {
  const { rows } = await f.residents.query(
    `SELECT (SELECT coalesce(string_agg(r::text, '|' ORDER BY r.id), '') FROM dang_ky_cu_tru r WHERE r.so_dinh_danh = ANY($1)) AS residences,
            (SELECT coalesce(string_agg(m::text, '|' ORDER BY m.id), '') FROM thanh_vien_ho m WHERE m.so_dinh_danh = ANY($1) OR m.so_ho = ANY($2)) AS memberships,
            (SELECT coalesce(string_agg(h::text, '|' ORDER BY h.so_ho), '') FROM ho_gia_dinh h WHERE h.so_ho = ANY($2) OR h.so_dinh_danh_chu_ho = ANY($1)) AS households,
            (SELECT count(*) FROM cg_nhat_ky_thay_doi l WHERE l.so_dinh_danh = ANY($1)) AS log`,
    [codes, households],
  );
  return rows[0];
}

function expectNothingInternal(response: unknown) {
  expect(JSON.stringify(response)).not.toMatch(/SELECT|INSERT|UPDATE|prisma|stacktrace|\bat \/|https?:\/\/|127\.0\.0\.1|serviceName/i);
}

/** Sends a write that must be refused; checks the error, and that nothing was written or logged. */
async function refused(
  mutation: string,
  variables: Record<string, unknown>,
  touched: { codes?: string[]; households?: string[] },
  expected: Record<string, unknown>,
  headers: Record<string, string> = { 'x-actor': ACTOR },
) {
  const codes = touched.codes ?? [];
  const households = touched.households ?? [];
  const before = await fingerprint(codes, households);
  const id = requestId();
  const response: GraphQLResponse = await federation.query(mutation, variables, { ...headers, 'x-request-id': id });
  expect(response.data ?? null).toBeNull();
  expect(response.errors).toHaveLength(1);
  expect(response.errors![0].extensions).toMatchObject(expected);
  expectNothingInternal(response);
  expect(await fingerprint(codes, households)).toEqual(before);
  expect(await logOf(id)).toEqual([]);
  return response.errors![0];
}

const residences = async (code: string) =>
  (
    await f.residents.query(
      `SELECT id::text, loai_cu_tru, trang_thai, ma_tinh, dia_chi_chi_tiet, tu_ngay, den_ngay FROM dang_ky_cu_tru WHERE so_dinh_danh = $1 ORDER BY id`,
      [code],
    )
  ).rows;
const memberships = async (where: string, params: unknown[]) =>
  (await f.residents.query(`SELECT id::text, so_ho, so_dinh_danh, quan_he_chu_ho, tu_ngay, den_ngay FROM thanh_vien_ho WHERE ${where} ORDER BY id`, params))
    .rows;

// ---------------------------------------------------------------------------------------------------------

describe('residence registrations', () => {
  it('registers a permanent residence, ending the current one as moved out, visible at once and logged', async () => {
    const s = await member();
    const before = await residences(s.code);
    const current = before.filter((r) => r.loai_cu_tru === 'THUONG_TRU' && r.trang_thai === 'HIEU_LUC');
    expect(current).toHaveLength(1);

    const response = await write(REGISTER_PERMANENT, { code: s.code, address: { ...ADDRESS, street: '  12   Lê Lai ' }, from: TODAY });
    expect(response.errors).toBeUndefined();
    const answered = (response.data as any).registerPermanentResidence;
    expect(answered.permanentResidence).toMatchObject({
      kind: 'PERMANENT',
      status: 'ACTIVE',
      from: TODAY,
      to: null,
      address: { ...ADDRESS, provinceName: 'Hải Phòng', street: '12 Lê Lai' },
    });
    expect(answered).toHaveProperty('identityCard'); // the answer is a whole Citizen of the graph

    const view = await read(s.code);
    expect(view.permanentResidence).toEqual(answered.permanentResidence);
    expect(view.residenceHistory.find((r: any) => r.id === current[0].id)).toMatchObject({ kind: 'PERMANENT', status: 'MOVED_OUT', to: TODAY });
    expect(view.residenceHistory).toHaveLength(before.length + 1);

    const after = await residences(s.code);
    expect(after.filter((r) => r.loai_cu_tru === 'THUONG_TRU' && r.trang_thai === 'HIEU_LUC').map((r) => r.id)).toEqual([answered.permanentResidence.id]);
    expect(after.find((r) => r.id === current[0].id)).toMatchObject({ trang_thai: 'DA_CHUYEN_DI', den_ngay: new Date(`${TODAY}T00:00:00Z`) });
    // Nothing else changed: every earlier row is still there as it was, except the one that ended.
    expect(after.filter((r) => r.id !== current[0].id && r.id !== answered.permanentResidence.id)).toEqual(before.filter((r) => r.id !== current[0].id));

    const log = await logOf(response.requestId);
    expect(log).toEqual([
      expect.objectContaining({
        nguoi_thuc_hien: ACTOR,
        thao_tac: 'REGISTER_PERMANENT_RESIDENCE',
        bang: 'dang_ky_cu_tru',
        khoa: answered.permanentResidence.id,
        so_dinh_danh: s.code,
      }),
    ]);
    expect(log[0].chi_tiet.ended).toEqual([{ id: current[0].id, status: 'DA_CHUYEN_DI', to: TODAY }]);
  });

  it('registers a temporary residence beside the permanent one, with the end of its term', async () => {
    const s = await member();
    const before = await read(s.code);
    const to = addDays(TODAY, 180);
    const response = await write(REGISTER_TEMPORARY, { code: s.code, address: ADDRESS, from: TODAY, to });
    expect(response.errors).toBeUndefined();
    const answered = (response.data as any).registerTemporaryResidence;
    const added = answered.temporaryResidences.find((r: any) => r.from === TODAY && r.to === to);
    expect(added).toMatchObject({ kind: 'TEMPORARY', status: 'ACTIVE', address: { street: ADDRESS.street } });
    expect(answered.permanentResidence).toEqual(before.permanentResidence);

    const view = await read(s.code);
    expect(view.temporaryResidences).toHaveLength(before.temporaryResidences.length + 1);
    expect(view.temporaryResidences).toContainEqual(added);
    expect(view.residenceHistory.map((r: any) => r.id)).toContain(added.id);
    expect(await logOf(response.requestId)).toEqual([
      expect.objectContaining({ nguoi_thuc_hien: ACTOR, thao_tac: 'REGISTER_TEMPORARY_RESIDENCE', khoa: added.id, so_dinh_danh: s.code }),
    ]);
  });

  it('moves a citizen out of a temporary and then the permanent residence, keeping both in the history', async () => {
    const s = await member();
    const registered = await write(REGISTER_TEMPORARY, { code: s.code, address: ADDRESS, from: addDays(TODAY, -30) });
    expect(registered.errors).toBeUndefined();
    const temporary = (registered.data as any).registerTemporaryResidence.temporaryResidences.find((r: any) => r.from === addDays(TODAY, -30));

    const movedOut = await write(MOVE_OUT, { code: s.code, id: temporary.id, on: TODAY });
    expect(movedOut.errors).toBeUndefined();
    const answered = (movedOut.data as any).moveOut;
    expect(answered.temporaryResidences.map((r: any) => r.id)).not.toContain(temporary.id);
    expect(answered.residenceHistory.find((r: any) => r.id === temporary.id)).toMatchObject({ status: 'MOVED_OUT', from: addDays(TODAY, -30), to: TODAY });
    expect(await logOf(movedOut.requestId)).toEqual([
      expect.objectContaining({ nguoi_thuc_hien: ACTOR, thao_tac: 'MOVE_OUT', khoa: temporary.id, so_dinh_danh: s.code }),
    ]);

    const permanent = answered.permanentResidence;
    const second = await write(MOVE_OUT, { code: s.code, id: permanent.id, on: TODAY });
    expect(second.errors).toBeUndefined();
    const view = await read(s.code);
    expect(view.permanentResidence).toBeNull();
    expect(view.residenceHistory.find((r: any) => r.id === permanent.id)).toMatchObject({ status: 'MOVED_OUT', from: permanent.from, to: TODAY });
    const rows = await residences(s.code);
    expect(rows.find((r) => r.id === permanent.id)).toMatchObject({ trang_thai: 'DA_CHUYEN_DI', den_ngay: new Date(`${TODAY}T00:00:00Z`) });
    expect(rows.find((r) => r.id === temporary.id)).toMatchObject({ trang_thai: 'DA_CHUYEN_DI' });
  });

  describe('refusals (nothing written)', () => {
    let s: Subject;
    let other: Subject;
    let dead: Subject;
    let unknown: string;
    let permanentFrom: string;
    beforeAll(async () => {
      s = await member();
      other = await member();
      dead = await deceased();
      unknown = await unknownCode();
      permanentFrom = iso((await one<{ from: Date }>(f.residents, `SELECT tu_ngay AS "from" FROM dang_ky_cu_tru WHERE so_dinh_danh = $1 AND loai_cu_tru = 'THUONG_TRU' AND trang_thai = 'HIEU_LUC'`, [s.code])).from)!;
    });
    const touched = () => ({ codes: [s.code, other.code, dead.code] });

    it('without x-actor: UNAUTHENTICATED / ACTOR_REQUIRED', async () => {
      await refused(REGISTER_PERMANENT, { code: s.code, address: ADDRESS, from: TODAY }, touched(), { code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' }, {});
      await refused(REGISTER_TEMPORARY, { code: s.code, address: ADDRESS, from: TODAY }, touched(), { code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' }, {});
      await refused(MOVE_OUT, { code: s.code, id: '1', on: TODAY }, touched(), { code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' }, {});
    });

    it('an unknown citizen: NOT_FOUND / CITIZEN_NOT_FOUND', async () => {
      for (const mutation of [REGISTER_PERMANENT, REGISTER_TEMPORARY]) {
        await refused(mutation, { code: unknown, address: ADDRESS, from: TODAY }, { codes: [unknown] }, {
          code: 'NOT_FOUND',
          reason: 'CITIZEN_NOT_FOUND',
          argument: 'personalCode',
        });
      }
      await refused(MOVE_OUT, { code: unknown, id: '1', on: TODAY }, { codes: [unknown] }, { code: 'NOT_FOUND', reason: 'CITIZEN_NOT_FOUND' });
    });

    it('a deceased citizen: CONFLICT / CITIZEN_DECEASED', async () => {
      for (const mutation of [REGISTER_PERMANENT, REGISTER_TEMPORARY]) {
        await refused(mutation, { code: dead.code, address: ADDRESS, from: TODAY }, touched(), { code: 'CONFLICT', reason: 'CITIZEN_DECEASED' });
      }
    });

    it.each([
      ['an unknown province', 'UNKNOWN_PROVINCE', 'address.provinceCode', { provinceCode: '003' }],
      ['an empty street', 'TEXT_REQUIRED', 'address.street', { street: '   ' }],
      ['an empty ward', 'TEXT_REQUIRED', 'address.ward', { ward: '' }],
      ['a district longer than its column', 'TEXT_TOO_LONG', 'address.district', { district: 'x'.repeat(101) }],
      ['a street longer than its column', 'TEXT_TOO_LONG', 'address.street', { street: 'x'.repeat(256) }],
    ])('%s: BAD_USER_INPUT / %s on %s', async (_what, reason, argument, change) => {
      for (const mutation of [REGISTER_PERMANENT, REGISTER_TEMPORARY]) {
        await refused(mutation, { code: s.code, address: { ...ADDRESS, ...change }, from: TODAY }, touched(), { code: 'BAD_USER_INPUT', reason, argument });
      }
    });

    it('dates: in the future, before birth, before the current permanent residence, end not after start or past', async () => {
      const input = { code: s.code, address: ADDRESS };
      const tomorrow = addDays(TODAY, 1);
      const beforeBirth = addDays(iso(s.birth)!, -1);
      for (const mutation of [REGISTER_PERMANENT, REGISTER_TEMPORARY]) {
        await refused(mutation, { ...input, from: tomorrow }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE', argument: 'from' });
        await refused(mutation, { ...input, from: beforeBirth }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_BEFORE_BIRTH', argument: 'from' });
      }
      await refused(REGISTER_PERMANENT, { ...input, from: addDays(permanentFrom, -1) }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: 'DATE_BEFORE_CURRENT_RESIDENCE',
        argument: 'from',
      });
      await refused(REGISTER_TEMPORARY, { ...input, from: addDays(TODAY, -10), to: addDays(TODAY, -10) }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: 'END_NOT_AFTER_START',
        argument: 'to',
      });
      await refused(REGISTER_TEMPORARY, { ...input, from: addDays(TODAY, -10), to: addDays(TODAY, -1) }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: 'END_IN_PAST',
        argument: 'to',
      });
    });

    it('moving out: a registration of someone else, one already ended, a date before its start or in the future, a malformed id', async () => {
      const rows = await residences(s.code);
      const active = rows.find((r) => r.loai_cu_tru === 'THUONG_TRU' && r.trang_thai === 'HIEU_LUC')!;
      const othersActive = (await residences(other.code)).find((r) => r.trang_thai === 'HIEU_LUC')!;
      await refused(MOVE_OUT, { code: s.code, id: othersActive.id, on: TODAY }, touched(), { code: 'NOT_FOUND', reason: 'RESIDENCE_NOT_FOUND', argument: 'residenceId' });
      await refused(MOVE_OUT, { code: s.code, id: '999999999999', on: TODAY }, touched(), { code: 'NOT_FOUND', reason: 'RESIDENCE_NOT_FOUND' });
      await refused(MOVE_OUT, { code: s.code, id: 'abc', on: TODAY }, touched(), { code: 'BAD_USER_INPUT', reason: 'RESIDENCE_ID_FORMAT', argument: 'residenceId' });
      await refused(MOVE_OUT, { code: s.code, id: active.id, on: addDays(iso(active.tu_ngay)!, -1) }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: 'DATE_BEFORE_START',
        argument: 'on',
      });
      await refused(MOVE_OUT, { code: s.code, id: active.id, on: addDays(TODAY, 1) }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE' });
      const ended = (await residences(other.code)).find((r) => r.trang_thai !== 'HIEU_LUC') ?? (await one<any>(f.residents, `SELECT id::text, so_dinh_danh FROM dang_ky_cu_tru WHERE trang_thai <> 'HIEU_LUC' ORDER BY md5(id::text) LIMIT 1`));
      const owner = ended.so_dinh_danh ?? other.code;
      await refused(MOVE_OUT, { code: owner, id: ended.id, on: TODAY }, { codes: [owner] }, { code: 'CONFLICT', reason: 'RESIDENCE_NOT_ACTIVE' });
    });
  });

  it('the database refuses a second permanent residence in force, whatever writes it', async () => {
    const s = await member();
    const client = await f.residents.connect();
    try {
      await client.query('BEGIN');
      await expect(
        client.query(
          `INSERT INTO dang_ky_cu_tru (so_dinh_danh, loai_cu_tru, ma_tinh, quan_huyen, phuong_xa, dia_chi_chi_tiet, tu_ngay, trang_thai)
           VALUES ($1, 'THUONG_TRU', '001', 'a', 'b', 'c', now(), 'HIEU_LUC')`,
          [s.code],
        ),
      ).rejects.toMatchObject({ code: '23505' });
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('households', () => {
  it('a member leaves, founds a household of their own and another citizen joins it', async () => {
    const founder = await member(3);
    const left = await write(LEAVE_HOUSEHOLD, { code: founder.code, on: TODAY });
    expect(left.errors).toBeUndefined();
    const afterLeaving = (left.data as any).leaveHousehold;
    expect(afterLeaving.household).toBeNull();
    expect(afterLeaving.householdHistory.find((m: any) => m.household.number === founder.household)).toMatchObject({ to: TODAY });
    expect(await logOf(left.requestId)).toEqual([expect.objectContaining({ nguoi_thuc_hien: ACTOR, thao_tac: 'LEAVE_HOUSEHOLD', so_dinh_danh: founder.code })]);
    // The household they left goes on without them.
    const old = await federation.query<{ household: any }>(HOUSEHOLD, { number: founder.household });
    expect(old.data!.household.members.map((m: any) => m.citizen.personalCode)).not.toContain(founder.code);

    const created = await write(CREATE_HOUSEHOLD, { code: founder.code, address: ADDRESS, on: TODAY });
    expect(created.errors).toBeUndefined();
    const household = (created.data as any).createHousehold;
    expect(household.number).toMatch(/^HK031\d{9}$/);
    expect(household).toMatchObject({
      establishedOn: TODAY,
      address: ADDRESS,
      head: { personalCode: founder.code },
      members: [{ relationshipToHead: 'HEAD', from: TODAY, to: null, citizen: { personalCode: founder.code } }],
    });
    expect(await logOf(created.requestId)).toEqual([
      expect.objectContaining({ nguoi_thuc_hien: ACTOR, thao_tac: 'CREATE_HOUSEHOLD', bang: 'ho_gia_dinh', khoa: household.number, so_dinh_danh: founder.code }),
    ]);
    const founderView = await read(founder.code);
    expect(founderView.household).toMatchObject({ relationshipToHead: 'HEAD', household: { number: household.number, head: { personalCode: founder.code } } });
    expect(founderView.householdHistory.map((m: any) => [m.household.number, m.to])).toEqual(
      expect.arrayContaining([
        [household.number, null],
        [founder.household, TODAY],
      ]),
    );

    const joiner = await freeCitizen();
    const joined = await write(JOIN_HOUSEHOLD, { code: joiner.code, number: household.number, relationship: 'WIFE', from: TODAY });
    expect(joined.errors).toBeUndefined();
    expect((joined.data as any).joinHousehold.members.map((m: any) => [m.citizen.personalCode, m.relationshipToHead])).toEqual([
      [founder.code, 'HEAD'],
      [joiner.code, 'WIFE'],
    ]);
    expect(await logOf(joined.requestId)).toEqual([expect.objectContaining({ nguoi_thuc_hien: ACTOR, thao_tac: 'JOIN_HOUSEHOLD', so_dinh_danh: joiner.code })]);
    const joinerView = await read(joiner.code);
    expect(joinerView.household).toMatchObject({ relationshipToHead: 'WIFE', from: TODAY, household: { number: household.number } });
    expect(joinerView.householdHistory.find((m: any) => m.household.number === joiner.household)).toMatchObject({ to: TODAY });
    expect(await memberships('so_dinh_danh = $1 AND den_ngay IS NULL', [joiner.code])).toHaveLength(1);
  });

  it('changes the head: the previous head stays a member, both memberships are closed and reopened', async () => {
    const h = await head(3);
    const [next] = await housemates(h);
    const before = await memberships('so_ho = $1', [h.household]);
    const response = await write(CHANGE_HEAD, { number: h.household, code: next, previous: 'FATHER', on: TODAY });
    expect(response.errors).toBeUndefined();
    const household = (response.data as any).changeHouseholdHead;
    expect(household.head.personalCode).toBe(next);
    expect(household.members[0]).toMatchObject({ relationshipToHead: 'HEAD', from: TODAY, citizen: { personalCode: next } });
    expect(household.members).toContainEqual({ relationshipToHead: 'FATHER', from: TODAY, to: null, citizen: { personalCode: h.code } });
    expect(household.members).toHaveLength(before.filter((m) => m.den_ngay === null).length);

    const after = await memberships('so_ho = $1', [h.household]);
    expect(after).toHaveLength(before.length + 2);
    const oldRows = before.filter((m) => m.den_ngay === null && (m.so_dinh_danh === h.code || m.so_dinh_danh === next));
    for (const row of oldRows) expect(after.find((m) => m.id === row.id)).toMatchObject({ ...row, den_ngay: new Date(`${TODAY}T00:00:00Z`) });
    expect((await one<any>(f.residents, 'SELECT so_dinh_danh_chu_ho FROM ho_gia_dinh WHERE so_ho = $1', [h.household])).so_dinh_danh_chu_ho).toBe(next);

    const previousView = await read(h.code);
    expect(previousView.household).toMatchObject({ relationshipToHead: 'FATHER', household: { number: h.household, head: { personalCode: next } } });
    expect(previousView.householdHistory).toContainEqual({ relationshipToHead: 'HEAD', from: expect.any(String), to: TODAY, household: { number: h.household } });
    const log = await logOf(response.requestId);
    expect(log.map((l) => [l.thao_tac, l.so_dinh_danh, l.nguoi_thuc_hien]).sort()).toEqual(
      [
        ['CHANGE_HOUSEHOLD_HEAD', h.code, ACTOR],
        ['CHANGE_HOUSEHOLD_HEAD', next, ACTOR],
      ].sort(),
    );
  });

  it('the head cannot leave while others are members; as the last member, leaving dissolves the household', async () => {
    const h = await head(2);
    await refused(LEAVE_HOUSEHOLD, { code: h.code, on: TODAY }, { codes: [h.code], households: [h.household] }, {
      code: 'CONFLICT',
      reason: 'HEAD_CANNOT_LEAVE',
      householdNumber: h.household,
    });

    const alone = await freeCitizen();
    const created = await write(CREATE_HOUSEHOLD, { code: alone.code, address: ADDRESS, on: TODAY });
    const number = (created.data as any).createHousehold.number;
    const left = await write(LEAVE_HOUSEHOLD, { code: alone.code, on: TODAY });
    expect(left.errors).toBeUndefined();
    expect(await logOf(left.requestId)).toEqual([expect.objectContaining({ thao_tac: 'DISSOLVE_HOUSEHOLD', so_dinh_danh: alone.code })]);
    const dissolved = await federation.query<{ household: any }>(HOUSEHOLD, { number });
    expect(dissolved.data!.household).toMatchObject({ number, members: [] });
    expect(await memberships('so_ho = $1', [number])).toEqual([expect.objectContaining({ so_dinh_danh: alone.code, den_ngay: new Date(`${TODAY}T00:00:00Z`) })]);

    const joiner = await freeCitizen();
    await refused(JOIN_HOUSEHOLD, { code: joiner.code, number, relationship: 'CHILD', from: TODAY }, { codes: [joiner.code], households: [number] }, {
      code: 'CONFLICT',
      reason: 'HOUSEHOLD_DISSOLVED',
    });
  });

  describe('refusals (nothing written)', () => {
    let free: Subject;
    let inOne: Subject;
    let h: Subject;
    let dead: Subject;
    let unknown: string;
    beforeAll(async () => {
      free = await freeCitizen();
      inOne = await member();
      h = await head(3);
      dead = await deceased();
      unknown = await unknownCode();
    });
    const touched = () => ({ codes: [free.code, inOne.code, h.code, dead.code], households: [inOne.household, h.household, dead.household] });

    it('without x-actor: UNAUTHENTICATED / ACTOR_REQUIRED', async () => {
      const expected = { code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' };
      await refused(CREATE_HOUSEHOLD, { code: free.code, address: ADDRESS, on: TODAY }, touched(), expected, {});
      await refused(JOIN_HOUSEHOLD, { code: free.code, number: h.household, relationship: 'CHILD', from: TODAY }, touched(), expected, {});
      await refused(LEAVE_HOUSEHOLD, { code: inOne.code, on: TODAY }, touched(), expected, {});
      await refused(CHANGE_HEAD, { number: h.household, code: inOne.code, previous: 'OTHER', on: TODAY }, touched(), expected, {});
    });

    it('unknown citizens and households: NOT_FOUND', async () => {
      await refused(CREATE_HOUSEHOLD, { code: unknown, address: ADDRESS, on: TODAY }, { codes: [unknown] }, { code: 'NOT_FOUND', reason: 'CITIZEN_NOT_FOUND', argument: 'headPersonalCode' });
      await refused(JOIN_HOUSEHOLD, { code: unknown, number: h.household, relationship: 'CHILD', from: TODAY }, touched(), { code: 'NOT_FOUND', reason: 'CITIZEN_NOT_FOUND' });
      await refused(LEAVE_HOUSEHOLD, { code: unknown, on: TODAY }, { codes: [unknown] }, { code: 'NOT_FOUND', reason: 'CITIZEN_NOT_FOUND' });
      await refused(JOIN_HOUSEHOLD, { code: free.code, number: 'HK000000000000', relationship: 'CHILD', from: TODAY }, touched(), {
        code: 'NOT_FOUND',
        reason: 'HOUSEHOLD_NOT_FOUND',
        argument: 'householdNumber',
      });
      await refused(CHANGE_HEAD, { number: 'HK000000000000', code: inOne.code, previous: 'OTHER', on: TODAY }, touched(), { code: 'NOT_FOUND', reason: 'HOUSEHOLD_NOT_FOUND' });
      await refused(CHANGE_HEAD, { number: h.household, code: unknown, previous: 'OTHER', on: TODAY }, touched(), { code: 'NOT_FOUND', reason: 'CITIZEN_NOT_FOUND' });
    });

    it('a deceased citizen cannot found, join or head a household', async () => {
      await refused(CREATE_HOUSEHOLD, { code: dead.code, address: ADDRESS, on: TODAY }, touched(), { code: 'CONFLICT', reason: 'CITIZEN_DECEASED' });
      await refused(JOIN_HOUSEHOLD, { code: dead.code, number: h.household, relationship: 'CHILD', from: TODAY }, touched(), { code: 'CONFLICT', reason: 'CITIZEN_DECEASED' });
      const { rows } = await f.residents.query<{ number: string; code: string }>(
        `SELECT t.so_ho AS number, t.so_dinh_danh AS code FROM thanh_vien_ho t JOIN cong_dan c USING (so_dinh_danh)
          WHERE t.den_ngay IS NULL AND t.quan_he_chu_ho <> 'CHU_HO' AND c.ngay_mat IS NOT NULL ORDER BY md5(t.so_dinh_danh) LIMIT 1`,
      );
      expect(rows).toHaveLength(1);
      await refused(CHANGE_HEAD, { number: rows[0].number, code: rows[0].code, previous: 'OTHER', on: TODAY }, { codes: [rows[0].code], households: [rows[0].number] }, {
        code: 'CONFLICT',
        reason: 'CITIZEN_DECEASED',
        argument: 'newHeadPersonalCode',
      });
    });

    it('one household at a time: joining or founding while a member is refused with ALREADY_IN_HOUSEHOLD', async () => {
      await refused(JOIN_HOUSEHOLD, { code: inOne.code, number: h.household, relationship: 'CHILD', from: TODAY }, touched(), {
        code: 'CONFLICT',
        reason: 'ALREADY_IN_HOUSEHOLD',
        householdNumber: inOne.household,
      });
      await refused(JOIN_HOUSEHOLD, { code: inOne.code, number: inOne.household, relationship: 'CHILD', from: TODAY }, touched(), {
        code: 'CONFLICT',
        reason: 'ALREADY_IN_HOUSEHOLD',
      });
      await refused(CREATE_HOUSEHOLD, { code: inOne.code, address: ADDRESS, on: TODAY }, touched(), { code: 'CONFLICT', reason: 'ALREADY_IN_HOUSEHOLD' });
    });

    it('state refusals: leaving when in none, a head change to a non-member or to the head', async () => {
      await refused(LEAVE_HOUSEHOLD, { code: free.code, on: TODAY }, touched(), { code: 'CONFLICT', reason: 'NOT_IN_HOUSEHOLD' });
      await refused(CHANGE_HEAD, { number: h.household, code: inOne.code, previous: 'OTHER', on: TODAY }, touched(), {
        code: 'CONFLICT',
        reason: 'NOT_A_MEMBER',
        argument: 'newHeadPersonalCode',
      });
      await refused(CHANGE_HEAD, { number: h.household, code: h.code, previous: 'OTHER', on: TODAY }, touched(), { code: 'CONFLICT', reason: 'ALREADY_HEAD' });
    });

    it('bad input: HEAD as a relationship, addresses, dates', async () => {
      await refused(JOIN_HOUSEHOLD, { code: free.code, number: h.household, relationship: 'HEAD', from: TODAY }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: 'RELATIONSHIP_HEAD_NOT_ALLOWED',
        argument: 'relationshipToHead',
      });
      const [mate] = await housemates(h);
      await refused(CHANGE_HEAD, { number: h.household, code: mate, previous: 'HEAD', on: TODAY }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: 'RELATIONSHIP_HEAD_NOT_ALLOWED',
        argument: 'previousHeadRelationship',
      });
      await refused(CHANGE_HEAD, { number: h.household, code: mate, previous: 'OTHER', on: addDays(TODAY, 1) }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE' });
      await refused(CREATE_HOUSEHOLD, { code: free.code, address: { ...ADDRESS, provinceCode: '999' }, on: TODAY }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: 'UNKNOWN_PROVINCE',
        argument: 'address.provinceCode',
      });
      await refused(CREATE_HOUSEHOLD, { code: free.code, address: { ...ADDRESS, street: '' }, on: TODAY }, touched(), { code: 'BAD_USER_INPUT', reason: 'TEXT_REQUIRED' });
      await refused(CREATE_HOUSEHOLD, { code: free.code, address: { ...ADDRESS, ward: 'y'.repeat(101) }, on: TODAY }, touched(), { code: 'BAD_USER_INPUT', reason: 'TEXT_TOO_LONG' });
      await refused(CREATE_HOUSEHOLD, { code: free.code, address: ADDRESS, on: addDays(TODAY, 1) }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE', argument: 'establishedOn' });
      await refused(CREATE_HOUSEHOLD, { code: free.code, address: ADDRESS, on: addDays(iso(free.birth)!, -1) }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_BEFORE_BIRTH' });
      // free left their household today: a new membership cannot start before that.
      await refused(CREATE_HOUSEHOLD, { code: free.code, address: ADDRESS, on: addDays(TODAY, -1) }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_BEFORE_PREVIOUS_MEMBERSHIP' });
      const established = iso((await one<{ d: Date }>(f.residents, 'SELECT ngay_lap AS d FROM ho_gia_dinh WHERE so_ho = $1', [h.household])).d)!;
      await refused(JOIN_HOUSEHOLD, { code: free.code, number: h.household, relationship: 'CHILD', from: addDays(established, -1) }, touched(), {
        code: 'BAD_USER_INPUT',
        reason: expect.stringMatching(/^DATE_BEFORE_(ESTABLISHED|PREVIOUS_MEMBERSHIP|BIRTH)$/),
      });
      await refused(LEAVE_HOUSEHOLD, { code: inOne.code, on: addDays(TODAY, 1) }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE' });
      const since = iso((await one<{ d: Date }>(f.residents, 'SELECT tu_ngay AS d FROM thanh_vien_ho WHERE so_dinh_danh = $1 AND den_ngay IS NULL', [inOne.code])).d)!;
      await refused(LEAVE_HOUSEHOLD, { code: inOne.code, on: addDays(since, -1) }, touched(), { code: 'BAD_USER_INPUT', reason: 'DATE_BEFORE_START', argument: 'on' });
    });
  });
});

describe('concurrent writes', () => {
  it('10 parallel permanent registrations of one citizen: each ends the previous, exactly one stays in force', async () => {
    const s = await member();
    const before = await residences(s.code);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => write(REGISTER_PERMANENT, { code: s.code, address: { ...ADDRESS, street: `Số ${i + 1} Lê Lai` }, from: TODAY })),
    );
    for (const response of responses) expect(response.errors).toBeUndefined();

    const after = await residences(s.code);
    const added = after.filter((r) => !before.some((b) => b.id === r.id));
    expect(added).toHaveLength(10);
    const inForce = after.filter((r) => r.loai_cu_tru === 'THUONG_TRU' && r.trang_thai === 'HIEU_LUC');
    expect(inForce).toHaveLength(1);
    // Every other new registration, and the one in force before, ended the day the next one started.
    const ended = after.filter((r) => r.loai_cu_tru === 'THUONG_TRU' && r.trang_thai === 'DA_CHUYEN_DI' && iso(r.den_ngay) === TODAY);
    const previous = before.find((r) => r.loai_cu_tru === 'THUONG_TRU' && r.trang_thai === 'HIEU_LUC')!;
    expect(ended.map((r) => r.id).sort()).toEqual([previous.id, ...added.filter((r) => r.id !== inForce[0].id).map((r) => r.id)].sort());
    // The last to commit is the one in force, and the graph says so.
    const { rows: log } = await f.residents.query<{ khoa: string }>(
      `SELECT khoa FROM cg_nhat_ky_thay_doi WHERE so_dinh_danh = $1 AND thao_tac = 'REGISTER_PERMANENT_RESIDENCE' AND ma_yeu_cau = ANY($2) ORDER BY id`,
      [s.code, responses.map((r) => r.requestId)],
    );
    expect(log).toHaveLength(10);
    expect(log[9].khoa).toBe(inForce[0].id);
    expect((await read(s.code)).permanentResidence.id).toBe(inForce[0].id);
  });

  it('one citizen joining several households at once ends in exactly one of them', async () => {
    const joiner = await freeCitizen();
    const households = [(await head(2)).household, (await head(2)).household, (await head(2)).household];
    const responses = await Promise.all(
      households.map((number) => write(JOIN_HOUSEHOLD, { code: joiner.code, number, relationship: 'OTHER', from: TODAY })),
    );
    const succeeded = responses.filter((r) => !r.errors);
    expect(succeeded).toHaveLength(1);
    for (const response of responses.filter((r) => r.errors)) {
      expect(response.errors![0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_IN_HOUSEHOLD' });
    }
    const current = await memberships('so_dinh_danh = $1 AND den_ngay IS NULL', [joiner.code]);
    expect(current).toHaveLength(1);
    expect((succeeded[0].data as any).joinHousehold.number).toBe(current[0].so_ho);
    expect((await read(joiner.code)).household.household.number).toBe(current[0].so_ho);
  });

  it('parallel head changes of one household end with exactly one head, a current member, and no member lost', async () => {
    const h = await head(4);
    const candidates = await housemates(h);
    expect(candidates.length).toBeGreaterThanOrEqual(2);
    const before = await memberships('so_ho = $1 AND den_ngay IS NULL', [h.household]);
    const requests = [...candidates.slice(0, 3), candidates[0]].map((code) =>
      write(CHANGE_HEAD, { number: h.household, code, previous: 'SIBLING', on: TODAY }),
    );
    const responses = await Promise.all(requests);
    for (const response of responses.filter((r) => r.errors)) {
      expect(response.errors![0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_HEAD' });
    }
    expect(responses.filter((r) => !r.errors).length).toBeGreaterThanOrEqual(Math.min(3, candidates.length));

    const current = await memberships('so_ho = $1 AND den_ngay IS NULL', [h.household]);
    const heads = current.filter((m) => m.quan_he_chu_ho === 'CHU_HO');
    expect(heads).toHaveLength(1);
    expect((await one<any>(f.residents, 'SELECT so_dinh_danh_chu_ho FROM ho_gia_dinh WHERE so_ho = $1', [h.household])).so_dinh_danh_chu_ho).toBe(heads[0].so_dinh_danh);
    expect(current.map((m) => m.so_dinh_danh).sort()).toEqual(before.map((m) => m.so_dinh_danh).sort());
    const graph = await federation.query<{ household: any }>(HOUSEHOLD, { number: h.household });
    expect(graph.data!.household.head.personalCode).toBe(heads[0].so_dinh_danh);
    expect(graph.data!.household.members.filter((m: any) => m.relationshipToHead === 'HEAD')).toHaveLength(1);
  });
});
