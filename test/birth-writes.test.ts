import crypto from 'node:crypto';
import { parsePersonalCode } from '../lib/personal-code';
import { completePendingBirths } from '../subgraphs/birth-registry/birth-completion';
import { startFederation, type TestFederation } from './support/federation';
import { startFaultyProxy, type FaultyProxy } from './support/faulty-proxy';
import { openFixtures, type Fixtures } from './support/fixtures';
import { eventually } from './support/eventually';

/**
 * registerBirth through the real gateway: the birth registry records the registration and asks the
 * residents subgraph (a real service call, through a proxy that can fail on command) for the child's code.
 */
let federation: TestFederation;
let f: Fixtures;
let residentsLink: FaultyProxy;
const ACTOR = { 'x-actor': 'registrar:birth-test' };

beforeAll(async () => {
  federation = await startFederation({
    residentsServiceThrough: async (url) => {
      residentsLink = await startFaultyProxy(url);
      return residentsLink.url;
    },
  });
  f = openFixtures();
});

afterAll(async () => {
  await federation?.stop();
  await residentsLink?.stop();
  await f?.end();
});

afterEach(() => {
  residentsLink.mode = 'pass';
});

const REGISTER = /* GraphQL */ `
  mutation ($input: RegisterBirthInput!) {
    registerBirth(input: $input) {
      status
      registration { registrationNumber registrationProvinceCode childName child { personalCode fullName } mother { citizen { personalCode } name } }
      possibleDuplicateOf { registrationNumber }
    }
  }
`;

const CHILD = /* GraphQL */ `
  query ($code: PersonalCode!) {
    citizen(personalCode: $code) {
      personalCode fullName sex dateOfBirth ethnicity
      birthRegistration { registrationNumber }
      parents { personalCode }
    }
  }
`;

const key = () => crypto.randomUUID();
let serial = 0;
/** A name of its own for every registration a test makes, so none looks like another's child by accident. */
const childName = () => `Nguyễn Thị Thử ${process.pid}-${++serial}-${crypto.randomBytes(3).toString('hex')}`;

async function livingAdults(sex: 1 | 2, salt: string, count: number): Promise<{ code: string; born: Date }[]> {
  const { rows } = await f.residents.query(
    `SELECT so_dinh_danh AS code, ngay_sinh AS born FROM cong_dan
      WHERE ngay_mat IS NULL AND gioi_tinh = $1 AND ngay_sinh BETWEEN '1975-01-01' AND '1998-12-31'
      ORDER BY md5(so_dinh_danh || $2) LIMIT $3`,
    [sex, salt, count],
  );
  return rows;
}

function birthInput(overrides: Record<string, unknown> = {}) {
  return {
    idempotencyKey: key(),
    registrationProvinceCode: '031',
    registeringAuthority: 'UBND phường Lê Chân, Hải Phòng',
    placeOfBirth: 'Bệnh viện Phụ sản Hải Phòng',
    childName: childName(),
    childSex: 'FEMALE',
    childDateOfBirth: '2026-10-15',
    ethnicity: 'Kinh',
    mother: { name: 'Lê Thị Mẹ', nationality: 'VN' },
    ...overrides,
  };
}

const registerBirth = (input: Record<string, unknown>, headers: Record<string, string> | undefined = ACTOR) =>
  federation.query<any>(REGISTER, { input }, headers);

async function countRows(registrationNumber: string | null, idempotencyKey: string) {
  const requests = await f.birthRegistry.query(`SELECT count(*)::int AS n FROM cg_yeu_cau_khai_sinh WHERE khoa_idempotency = $1`, [idempotencyKey]);
  const codes = registrationNumber
    ? await f.residents.query(`SELECT count(*)::int AS n FROM so_dinh_danh WHERE khoa_khai_sinh = $1`, [registrationNumber])
    : { rows: [{ n: 0 }] };
  return { requests: requests.rows[0].n as number, codes: codes.rows[0].n as number };
}

describe('registering a birth', () => {
  it('records the registration, gives the child a code and a core record, and links the parents', async () => {
    const [mother] = await livingAdults(2, 'birth-mother', 1);
    const [father] = await livingAdults(1, 'birth-father', 1);
    const input = birthInput({ mother: { personalCode: mother.code }, father: { personalCode: father.code } });
    const response = await registerBirth(input);
    expect(response.errors).toBeUndefined();
    const result = response.data.registerBirth;
    expect(result.status).toBe('REGISTERED');
    expect(result.registration.registrationNumber).toMatch(/^031\/\d{4}\/\d{6}$/);
    const code = result.registration.child.personalCode as string;
    expect(parsePersonalCode(code)).toMatchObject({ provinceCode: '031', sex: 'FEMALE', birthYear: 2026 });
    expect(result.registration.child.fullName).toBe(input.childName);
    expect(result.registration.mother.citizen.personalCode).toBe(mother.code);

    const child = (await federation.query<any>(CHILD, { code })).data.citizen;
    expect(child).toMatchObject({ personalCode: code, fullName: input.childName, sex: 'FEMALE', dateOfBirth: '2026-10-15', ethnicity: 'Kinh' });
    expect(child.birthRegistration.registrationNumber).toBe(result.registration.registrationNumber);
    expect(child.parents.map((p: any) => p.personalCode).sort()).toEqual([father.code, mother.code].sort());
    const motherView = await federation.query<any>(`query ($c: PersonalCode!) { citizen(personalCode: $c) { children { personalCode } } }`, { c: mother.code });
    expect(motherView.data.citizen.children.map((c: any) => c.personalCode)).toContain(code);

    const birthLog = await f.birthRegistry.query(`SELECT thao_tac, nguoi_thuc_hien FROM cg_nhat_ky_thay_doi WHERE khoa = $1 ORDER BY id`, [
      result.registration.registrationNumber,
    ]);
    expect(birthLog.rows).toEqual([
      { thao_tac: 'REGISTER_BIRTH', nguoi_thuc_hien: ACTOR['x-actor'] },
      { thao_tac: 'ASSIGN_PERSONAL_CODE', nguoi_thuc_hien: ACTOR['x-actor'] },
    ]);
    const residentsLog = await f.residents.query(`SELECT thao_tac, nguoi_thuc_hien, dich_vu FROM cg_nhat_ky_thay_doi WHERE khoa = $1`, [code]);
    expect(residentsLog.rows).toEqual([{ thao_tac: 'CREATE_CITIZEN_AT_BIRTH', nguoi_thuc_hien: ACTOR['x-actor'], dich_vu: 'birth-registry' }]);
  });

  it('a retry with the same key returns the same registration and code; another birth under that key is refused', async () => {
    const input = birthInput();
    const first = (await registerBirth(input)).data.registerBirth;
    const again = (await registerBirth(input)).data.registerBirth;
    expect(again).toEqual(first);
    expect(await countRows(first.registration.registrationNumber, input.idempotencyKey)).toEqual({ requests: 1, codes: 1 });

    const reused = await registerBirth({ ...input, childName: childName() });
    expect(reused.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('holds a second registration of the same child (same mother, date of birth, name) for review', async () => {
    const [mother] = await livingAdults(2, 'birth-duplicate', 1);
    const input = birthInput({ mother: { personalCode: mother.code } });
    const first = (await registerBirth(input)).data.registerBirth;
    const second = await registerBirth({ ...input, idempotencyKey: key(), childName: input.childName.toUpperCase(), placeOfBirth: 'Tại nhà' });
    expect(second.errors).toBeUndefined();
    expect(second.data.registerBirth).toEqual({
      status: 'HELD_FOR_REVIEW',
      registration: null,
      possibleDuplicateOf: { registrationNumber: first.registration.registrationNumber },
    });
    const { rows } = await f.birthRegistry.query(`SELECT count(*)::int AS n FROM dang_ky_khai_sinh WHERE lower(ho_ten_tre) = lower($1)`, [input.childName]);
    expect(rows[0].n).toBe(1);
    const { rows: residents } = await f.residents.query(`SELECT count(*)::int AS n FROM cong_dan WHERE lower(ho_ten) = lower($1)`, [input.childName]);
    expect(residents[0].n).toBe(1);
  });

  it('refuses bad input and impossible parents, writing nothing anywhere', async () => {
    const [mother] = await livingAdults(2, 'birth-refusals', 1);
    const { rows: dead } = await f.residents.query(
      `SELECT so_dinh_danh AS code, ngay_mat AS died, gioi_tinh AS sex FROM cong_dan WHERE ngay_mat BETWEEN '2020-01-01' AND '2025-12-31' ORDER BY gioi_tinh, so_dinh_danh`,
    );
    const deadMother = dead.find((d) => d.sex === 2);
    const deadFather = dead.find((d) => d.sex === 1);
    const day = (date: Date, plusMonths: number) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + plusMonths, date.getUTCDate())).toISOString().slice(0, 10);
    const cases: [Record<string, unknown>, string, string][] = [
      [birthInput({ childDateOfBirth: '2999-01-01' }), 'BAD_USER_INPUT', 'DATE_IN_FUTURE'],
      [birthInput({ registrationProvinceCode: '003' }), 'BAD_USER_INPUT', 'UNKNOWN_PROVINCE'],
      [birthInput({ childName: '   ' }), 'BAD_USER_INPUT', 'TEXT_REQUIRED'],
      [birthInput({ idempotencyKey: 'short' }), 'BAD_USER_INPUT', 'IDEMPOTENCY_KEY_FORMAT'],
      [birthInput({ mother: { name: 'Lê Thị C' } }), 'BAD_USER_INPUT', 'PARENT_IDENTITY_REQUIRED'],
      [birthInput({ mother: { name: 'Lê Thị C', nationality: 'Vietnam' } }), 'BAD_USER_INPUT', 'NATIONALITY_FORMAT'],
      [birthInput({ mother: { personalCode: '001099999999' } }), 'NOT_FOUND', 'PARENT_NOT_FOUND'],
      [birthInput({ mother: { personalCode: mother.code }, childDateOfBirth: '1970-01-01' }), 'BAD_USER_INPUT', 'DATE_BEFORE_PARENT_BIRTH'],
      [birthInput({ mother: { personalCode: deadMother.code }, childDateOfBirth: day(deadMother.died, 1) }), 'CONFLICT', 'PARENT_DECEASED'],
      [birthInput({ father: { personalCode: deadFather.code }, childDateOfBirth: day(deadFather.died, 11) }), 'CONFLICT', 'PARENT_DECEASED'],
    ];
    for (const [input, code, reason] of cases) {
      const response = await registerBirth(input);
      expect({ input, error: response.errors?.[0]?.extensions }).toMatchObject({ input, error: { code, reason } });
      expect(await countRows(null, input.idempotencyKey as string)).toEqual({ requests: 0, codes: 0 });
      const { rows } = await f.birthRegistry.query(`SELECT count(*)::int AS n FROM dang_ky_khai_sinh WHERE ho_ten_tre = $1`, [input.childName]);
      expect(rows[0].n).toBe(0);
    }
    const anonymous = birthInput();
    const response = await registerBirth(anonymous, {});
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
    expect(await countRows(null, anonymous.idempotencyKey)).toEqual({ requests: 0, codes: 0 });

    // A father may have died up to 10 months before the birth.
    const posthumous = await registerBirth(birthInput({ father: { personalCode: deadFather.code }, childDateOfBirth: day(deadFather.died, 9) }));
    expect(posthumous.data.registerBirth.status).toBe('REGISTERED');
  });
});

describe('when the Resident Information Center fails in the middle', () => {
  it('unreachable: the registration is kept pending, nothing is issued, and a retry completes it with one code', async () => {
    residentsLink.mode = 'refuse';
    const input = birthInput();
    const pending = await registerBirth(input);
    expect(pending.errors).toBeUndefined();
    expect(pending.data.registerBirth.status).toBe('PENDING_PERSONAL_CODE');
    const number = pending.data.registerBirth.registration.registrationNumber;
    expect(pending.data.registerBirth.registration.child).toBeNull();
    expect(await countRows(number, input.idempotencyKey)).toEqual({ requests: 1, codes: 0 });

    residentsLink.mode = 'pass';
    const done = (await registerBirth(input)).data.registerBirth;
    expect(done.status).toBe('REGISTERED');
    expect(done.registration.registrationNumber).toBe(number);
    expect(await countRows(number, input.idempotencyKey)).toEqual({ requests: 1, codes: 1 });
  });

  it('the answer is lost after residents committed: the retry gets the code residents issued, not a second one', async () => {
    residentsLink.mode = 'lose-answers';
    const input = birthInput();
    const lost = (await registerBirth(input)).data.registerBirth;
    expect(lost.status).toBe('PENDING_PERSONAL_CODE');
    const number = lost.registration.registrationNumber;
    const issued = await f.residents.query(`SELECT so_dinh_danh FROM so_dinh_danh WHERE khoa_khai_sinh = $1`, [number]);
    expect(issued.rows).toHaveLength(1);

    residentsLink.mode = 'pass';
    const done = (await registerBirth(input)).data.registerBirth;
    expect(done.registration.child.personalCode).toBe(issued.rows[0].so_dinh_danh);
    expect(await countRows(number, input.idempotencyKey)).toEqual({ requests: 1, codes: 1 });
    const { rows } = await f.residents.query(`SELECT count(*)::int AS n FROM cong_dan WHERE ho_ten = $1`, [input.childName]);
    expect(rows[0].n).toBe(1);
  });

  it('the background completion finishes pending registrations once residents answers again', async () => {
    residentsLink.mode = 'refuse';
    const inputs = [birthInput(), birthInput()];
    for (const input of inputs) expect((await registerBirth(input)).data.registerBirth.status).toBe('PENDING_PERSONAL_CODE');
    const stillDown = await completePendingBirths(federation.birthRegistry);
    expect(stillDown.completed).toBe(0);

    residentsLink.mode = 'pass';
    await completePendingBirths(federation.birthRegistry);
    for (const input of inputs) {
      const { rows } = await f.birthRegistry.query(
        `SELECT r.trang_thai, d.so_dinh_danh_tre FROM cg_yeu_cau_khai_sinh r JOIN dang_ky_khai_sinh d ON d.id = r.id_dang_ky WHERE r.khoa_idempotency = $1`,
        [input.idempotencyKey],
      );
      expect(rows[0].trang_thai).toBe('HOAN_TAT');
      expect(parsePersonalCode(rows[0].so_dinh_danh_tre).provinceCode).toBe('031');
    }
  });
});

describe('registering births concurrently', () => {
  // Concurrent registrations queue: on the request's key, and on one counter row per province (their numbers), one
  // commit after another. On a quiet machine every one comes back REGISTERED. On a loaded one (slow fsyncs: a queue
  // of 20 took 7-8 s, a round of 20 up to 38 s beside three CPU burners and a disk writer), a birth may wait for its
  // code (residents answered too late: PENDING_PERSONAL_CODE) or be refused as one the agency cannot take now
  // (AGENCY_UNAVAILABLE: reason AGENCY_BUSY when its transaction could not start or finish in time, or the pool had no
  // connection in time, or the gateway's own timeout passed); never an internal error. A retry with the same
  // idempotency key completes it, exactly once.
  type Registered = Awaited<ReturnType<typeof registerBirth>>;
  const outcome = (response: Registered) =>
    response.data?.registerBirth?.status ?? response.errors?.map((e) => `${e.extensions?.code}/${e.extensions?.reason}`).join(', ');
  const OUTCOME_UNDER_LOAD = /^(REGISTERED|PENDING_PERSONAL_CODE|AGENCY_UNAVAILABLE\/(AGENCY_BUSY|AGENCY_DATABASE_UNAVAILABLE|AGENCY_UNREACHABLE))$/;

  /** The registration, REGISTERED: as answered, or after retries with the same key. */
  async function completed(input: Record<string, unknown>, answered: Registered) {
    const done = outcome(answered) === 'REGISTERED' ? answered : await eventually(() => registerBirth(input), (retry) => outcome(retry) === 'REGISTERED', { withinMs: 60_000, everyMs: 200 });
    expect(outcome(done)).toBe('REGISTERED');
    return done.data.registerBirth;
  }

  it('20 clients retrying one birth at once: one registration, one code', async () => {
    const input = birthInput();
    const responses = await Promise.all(Array.from({ length: 20 }, () => registerBirth(input)));
    for (const response of responses) expect(outcome(response)).toMatch(OUTCOME_UNDER_LOAD);
    const results = [];
    for (const response of responses) results.push(await completed(input, response));
    const codes = new Set(results.map((r) => r.registration.child.personalCode));
    const numbers = new Set(results.map((r) => r.registration.registrationNumber));
    expect(numbers.size).toBe(1);
    expect(codes.size).toBe(1);
    expect([...codes][0]).toMatch(/^031326\d{6}$/);
    expect(await countRows([...numbers][0], input.idempotencyKey)).toEqual({ requests: 1, codes: 1 });
  }, 180_000);

  it('20 different births at once: 20 registrations with distinct numbers and codes, each once', async () => {
    const inputs = Array.from({ length: 20 }, () => birthInput());
    const responses = await Promise.all(inputs.map((input) => registerBirth(input)));
    for (const response of responses) expect(outcome(response)).toMatch(OUTCOME_UNDER_LOAD);
    const results = [];
    for (const [i, input] of inputs.entries()) results.push(await completed(input, responses[i]));
    expect(new Set(results.map((r) => r.registration.registrationNumber)).size).toBe(20);
    expect(new Set(results.map((r) => r.registration.child.personalCode)).size).toBe(20);
    for (const [i, result] of results.entries()) {
      expect(await countRows(result.registration.registrationNumber, inputs[i].idempotencyKey)).toEqual({ requests: 1, codes: 1 });
    }
  }, 180_000);
});
