import crypto from 'node:crypto';
import { startFederation, type GraphQLResponse, type TestFederation } from './support/federation';
import { openFixtures, type Fixtures } from './support/fixtures';
import { cardExpiry } from '../subgraphs/national-id/card-expiry';
import { today } from '../lib/graphql/arguments';

/**
 * Identity card writes (issue, replace, report lost, revoke) through the real gateway and subgraphs,
 * against the shared seeded database. Subjects are picked by what they have, in an order of this file's
 * own (a salted hash of the code), away from the first citizens by code that other test files use; each
 * test has its own. Every refusal is checked for its code and reason and for leaving the rows untouched.
 */
let federation: TestFederation;
let f: Fixtures;

const ACTOR = 'officer:test';
const TODAY = today().toISOString().slice(0, 10);
const daysFromToday = (days: number) => new Date(today().getTime() + days * 86_400_000).toISOString().slice(0, 10);

const CARD = `id number kind status issuedOn expiresOn issuingAuthority replacedBy { number } holder { personalCode fullName }`;
const ISSUE = `mutation($input: IssueIdentityCardInput!) { issueIdentityCard(input: $input) { ${CARD} } }`;
const REPLACE = `mutation($input: ReplaceIdentityCardInput!) { replaceIdentityCard(input: $input) { ${CARD} } }`;
const LOST = `mutation($input: ReportIdentityCardLostInput!) { reportIdentityCardLost(input: $input) { ${CARD} } }`;
const REVOKE = `mutation($input: RevokeIdentityCardInput!) { revokeIdentityCard(input: $input) { ${CARD} } }`;
const VIEW = `query($code: PersonalCode!) {
  citizen(personalCode: $code) {
    personalCode fullName
    identityCard { id number kind status expiresOn }
    identityCards { id number status replacedBy { id number } }
    legacyIdNumbers
  }
}`;

// ---------------------------------------------------------------------------------------------- subjects

interface Person {
  code: string;
  dateOfBirth: string;
  fullName: string;
}
interface CardRow {
  id: string;
  number: string;
  kind: string;
  status: string;
  expiresOn: string | null;
}

let living: Person[] = [];
let deceased: Person[] = [];
const cardsOf = new Map<string, CardRow[]>();
const taken = new Set<string>();

/** Recorded valid and not expiring within a month: VALID today whatever the clock does meanwhile. */
const surelyValid = (c: CardRow) => c.status === 'CON_HIEU_LUC' && (c.expiresOn === null || c.expiresOn > daysFromToday(30));
const hasValid = (code: string) => (cardsOf.get(code) ?? []).some(surelyValid);
const hasNoValid = (code: string) => !(cardsOf.get(code) ?? []).some((c) => c.status === 'CON_HIEU_LUC');

function pick(what: string, from: Person[], test: (p: Person) => boolean): Person {
  const found = from.find((p) => !taken.has(p.code) && test(p));
  if (!found) throw new Error(`The seeded population has no ${what} left for the card-writes tests.`);
  taken.add(found.code);
  return found;
}

async function loadPopulation(): Promise<void> {
  // What other test files pick (the first citizens by code, parents of the first births) stays out.
  const { rows: others } = await f.residents.query<{ code: string }>(`SELECT so_dinh_danh AS code FROM cong_dan ORDER BY so_dinh_danh LIMIT 300`);
  for (const { code } of others) taken.add(code);
  const { rows: parents } = await f.birthRegistry.query<{ code: string }>(
    `SELECT so_dinh_danh_cha AS code FROM dang_ky_khai_sinh WHERE so_dinh_danh_cha IS NOT NULL
     UNION SELECT so_dinh_danh_me FROM dang_ky_khai_sinh WHERE so_dinh_danh_me IS NOT NULL`,
  );
  for (const { code } of parents) taken.add(code);

  const { rows: people } = await f.residents.query<Person & { dead: boolean }>(
    `SELECT so_dinh_danh AS code, to_char(ngay_sinh, 'YYYY-MM-DD') AS "dateOfBirth", ho_ten AS "fullName", ngay_mat IS NOT NULL AS dead
       FROM cong_dan c WHERE ngay_sinh <= current_date - interval '16 years'
        -- Nobody whose code was re-issued (by the code-writes tests, running beside these): their cards are
        -- filed under an earlier code, which a list of cards by code would not show.
        AND NOT EXISTS (SELECT 1 FROM so_dinh_danh r WHERE r.so_dinh_danh_hien_hanh = c.so_dinh_danh AND r.so_dinh_danh <> c.so_dinh_danh)
      ORDER BY md5(so_dinh_danh || ':card-writes')`,
  );
  living = people.filter((p) => !p.dead);
  deceased = people.filter((p) => p.dead);
  const { rows: cards } = await f.nationalId.query<CardRow & { code: string }>(
    `SELECT id::text, so_the AS number, loai_the AS kind, trang_thai AS status, so_dinh_danh AS code,
            to_char(ngay_het_han, 'YYYY-MM-DD') AS "expiresOn"
       FROM the_can_cuoc ORDER BY id`,
  );
  for (const card of cards) cardsOf.set(card.code, [...(cardsOf.get(card.code) ?? []), card]);
}

// ------------------------------------------------------------------------------------------------ helpers

async function send<Data = Record<string, any>>(
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = { 'x-actor': ACTOR },
  on: TestFederation = federation,
): Promise<GraphQLResponse<Data> & { requestId: string }> {
  const requestId = `card-writes-${crypto.randomUUID()}`;
  const response = await on.query<Data>(query, variables, { ...headers, 'x-request-id': requestId });
  return { ...response, requestId };
}

async function view(code: string) {
  const response = await send(VIEW, { code });
  expect(response.errors).toBeUndefined();
  return response.data!.citizen;
}

/** Everything of a holder's that a write could change: their card rows and their change log. */
async function holderState(code: string) {
  const { rows: cards } = await f.nationalId.query(`SELECT * FROM the_can_cuoc WHERE so_dinh_danh = $1 ORDER BY id`, [code]);
  const { rows: log } = await f.nationalId.query(`SELECT * FROM cg_nhat_ky_thay_doi WHERE so_dinh_danh = $1 ORDER BY id`, [code]);
  return { cards, log };
}

async function logOf(code: string, requestId: string) {
  const { rows } = await f.nationalId.query(
    `SELECT nguoi_thuc_hien AS actor, ma_yeu_cau AS "requestId", thao_tac AS action, bang AS "table", khoa AS key, chi_tiet AS details
       FROM cg_nhat_ky_thay_doi WHERE so_dinh_danh = $1 AND ma_yeu_cau = $2 ORDER BY id`,
    [code, requestId],
  );
  return rows;
}

function expectNothingInternal(response: unknown) {
  expect(JSON.stringify(response)).not.toMatch(/SELECT|INSERT|UPDATE |prisma|stacktrace|\bat \/|https?:\/\/|127\.0\.0\.1|ECONNREFUSED/i);
}

/** Sends a write that must be refused, and checks it changed nothing of the holder's. */
async function refused(code: string, query: string, input: Record<string, unknown>, headers?: Record<string, string>, on?: TestFederation) {
  const before = await holderState(code);
  const response = await send(query, { input }, headers, on);
  expect(response.data ?? null).toBeNull();
  expect(response.errors).toHaveLength(1);
  expectNothingInternal(response);
  expect(await holderState(code)).toEqual(before);
  return response.errors![0];
}

const issueInput = (p: Person, extra: Record<string, unknown> = {}) => ({
  personalCode: p.code,
  issuedOn: TODAY,
  issuingAuthority: 'Bộ Công an',
  ...extra,
});

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
  await loadPopulation();
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
});

// -------------------------------------------------------------------------------------------- happy paths

describe('issuing a card', () => {
  it('gives a chip card numbered with the personal code, shown at once in the unified view and logged', async () => {
    const person = pick('living citizen without a card', living, (p) => !cardsOf.has(p.code) || hasNoValid(p.code));
    const response = await send(ISSUE, { input: issueInput(person, { issuingAuthority: '  Bộ   Công an ' }) });
    expect(response.errors).toBeUndefined();
    const expiry = cardExpiry(new Date(`${person.dateOfBirth}T00:00:00Z`), new Date(`${TODAY}T00:00:00Z`));
    const card = response.data!.issueIdentityCard;
    expect(card).toMatchObject({
      number: person.code,
      kind: 'CHIP_ID',
      status: 'VALID',
      issuedOn: TODAY,
      expiresOn: expiry && expiry.toISOString().slice(0, 10),
      issuingAuthority: 'Bộ Công an',
      replacedBy: null,
      holder: { personalCode: person.code, fullName: person.fullName },
    });

    const citizen = await view(person.code);
    expect(citizen.identityCard).toEqual({ id: card.id, number: person.code, kind: 'CHIP_ID', status: 'VALID', expiresOn: card.expiresOn });
    expect(citizen.identityCards[0]).toMatchObject({ id: card.id, status: 'VALID', replacedBy: null });
    expect(citizen.identityCards).toHaveLength((cardsOf.get(person.code) ?? []).length + 1);

    const { rows } = await f.nationalId.query(
      `SELECT so_the, loai_the, trang_thai, noi_cap, ngay_cap_nhat > now() - interval '1 minute' AS fresh FROM the_can_cuoc WHERE id = $1`,
      [card.id],
    );
    expect(rows).toEqual([{ so_the: person.code, loai_the: 'CCCD_CHIP', trang_thai: 'CON_HIEU_LUC', noi_cap: 'Bộ Công an', fresh: true }]);
    expect(await logOf(person.code, response.requestId)).toEqual([
      expect.objectContaining({
        actor: ACTOR,
        action: 'ISSUE_CARD',
        table: 'the_can_cuoc',
        key: card.id,
        details: expect.objectContaining({ number: person.code, kind: 'CCCD_CHIP', issuedOn: TODAY }),
      }),
    ]);
  });

  it('records a card still marked valid but past its expiry as expired, and issues the new one', async () => {
    const person = pick('living citizen with a valid chip card', living, (p) => (cardsOf.get(p.code) ?? []).some((c) => surelyValid(c) && c.kind === 'CCCD_CHIP'));
    const old = cardsOf.get(person.code)!.find(surelyValid)!;
    // Arrange: the card's expiry passed without anyone updating its status (as the register often has it).
    await f.nationalId.query(`UPDATE the_can_cuoc SET ngay_het_han = $2 WHERE id = $1`, [old.id, daysFromToday(-3)]);
    expect((await view(person.code)).identityCard).toBeNull();

    const response = await send(ISSUE, { input: issueInput(person) });
    expect(response.errors).toBeUndefined();
    const citizen = await view(person.code);
    expect(citizen.identityCard).toMatchObject({ id: response.data!.issueIdentityCard.id, status: 'VALID' });
    expect(citizen.identityCards.find((c: any) => c.id === old.id)).toMatchObject({ status: 'EXPIRED', replacedBy: null });
    const { rows } = await f.nationalId.query(`SELECT trang_thai FROM the_can_cuoc WHERE id = $1`, [old.id]);
    expect(rows[0].trang_thai).toBe('HET_HAN');
    expect((await logOf(person.code, response.requestId)).map((r) => [r.action, r.key])).toEqual([
      ['EXPIRE_CARD', old.id],
      ['ISSUE_CARD', response.data!.issueIdentityCard.id],
    ]);
  });
});

describe('replacing a card', () => {
  it('marks the old card replaced, pointing at the new one, in one write shown at once', async () => {
    const person = pick('living citizen with a valid chip card', living, (p) => (cardsOf.get(p.code) ?? []).some((c) => surelyValid(c) && c.kind === 'CCCD_CHIP'));
    const old = cardsOf.get(person.code)!.find(surelyValid)!;
    const response = await send(REPLACE, { input: issueInput(person, { issuingAuthority: 'Bộ Công an', reason: 'Thẻ bị hư hỏng' }) });
    expect(response.errors).toBeUndefined();
    const card = response.data!.replaceIdentityCard;
    expect(card).toMatchObject({ number: person.code, kind: 'CHIP_ID', status: 'VALID', issuedOn: TODAY });
    expect(card.id).not.toBe(old.id);

    const citizen = await view(person.code);
    expect(citizen.identityCard).toMatchObject({ id: card.id, status: 'VALID' });
    expect(citizen.identityCards[0]).toMatchObject({ id: card.id, status: 'VALID', replacedBy: null });
    expect(citizen.identityCards.find((c: any) => c.id === old.id)).toEqual({
      id: old.id,
      number: old.number,
      status: 'REPLACED',
      replacedBy: { id: card.id, number: person.code },
    });
    const { rows } = await f.nationalId.query(`SELECT trang_thai, id_the_thay_the::text AS next FROM the_can_cuoc WHERE id = $1`, [old.id]);
    expect(rows[0]).toEqual({ trang_thai: 'DA_THAY_THE', next: card.id });

    const log = await logOf(person.code, response.requestId);
    expect(log.map((r) => [r.actor, r.action, r.key])).toEqual([
      [ACTOR, 'REPLACE_CARD', old.id],
      [ACTOR, 'ISSUE_CARD', card.id],
    ]);
    expect(log[0].details).toMatchObject({ replacedBy: card.id, reason: 'Thẻ bị hư hỏng', to: 'DA_THAY_THE' });
  });

  it('keeps a legacy 9-digit number resolvable after its holder gets a chip card', async () => {
    const person = pick('living citizen who held a CMND and now holds a valid card', living, (p) => {
      const cards = cardsOf.get(p.code) ?? [];
      return cards.some((c) => c.kind === 'CMND') && cards.some(surelyValid);
    });
    const cmnd = cardsOf.get(person.code)!.find((c) => c.kind === 'CMND')!.number;
    const response = await send(REPLACE, { input: issueInput(person) });
    expect(response.errors).toBeUndefined();

    const byLegacy = await send(`query($n: String!) { citizenByIdentityCard(number: $n) { personalCode identityCard { number kind } legacyIdNumbers } }`, {
      n: cmnd,
    });
    expect(byLegacy.errors).toBeUndefined();
    expect(byLegacy.data!.citizenByIdentityCard).toEqual({
      personalCode: person.code,
      identityCard: { number: person.code, kind: 'CHIP_ID' },
      legacyIdNumbers: expect.arrayContaining([cmnd]),
    });
  });
});

describe('reporting a card lost and revoking one', () => {
  it("revokes a deceased holder's card still recorded as valid", async () => {
    const dead = pick('deceased citizen with a card', deceased, (p) => (cardsOf.get(p.code) ?? []).length > 0);
    const last = cardsOf.get(dead.code)!.at(-1)!;
    // Arrange: the register never withdrew the card when its holder died.
    await f.nationalId.query(`UPDATE the_can_cuoc SET trang_thai = 'CON_HIEU_LUC', ngay_het_han = NULL, id_the_thay_the = NULL WHERE id = $1`, [last.id]);
    expect((await view(dead.code)).identityCards.find((c: any) => c.id === last.id).status).toBe('HOLDER_DECEASED');
    const response = await send(REVOKE, { input: { personalCode: dead.code, reason: 'Người được cấp thẻ đã chết' } });
    expect(response.errors).toBeUndefined();
    expect(response.data!.revokeIdentityCard).toMatchObject({ id: last.id, status: 'REVOKED' });
    const { rows } = await f.nationalId.query(`SELECT trang_thai FROM the_can_cuoc WHERE id = $1`, [last.id]);
    expect(rows[0].trang_thai).toBe('THU_HOI');
  });

  it('marks the valid card lost; a new card can then be issued, the lost one kept', async () => {
    const person = pick('living citizen with a valid card', living, (p) => hasValid(p.code));
    const old = cardsOf.get(person.code)!.find(surelyValid)!;
    const lostOn = daysFromToday(-2);
    const response = await send(LOST, { input: { personalCode: person.code, lostOn } });
    expect(response.errors).toBeUndefined();
    expect(response.data!.reportIdentityCardLost).toMatchObject({ id: old.id, number: old.number, status: 'LOST' });
    expect((await view(person.code)).identityCard).toBeNull();
    expect(await logOf(person.code, response.requestId)).toEqual([
      expect.objectContaining({ actor: ACTOR, action: 'REPORT_CARD_LOST', key: old.id, details: expect.objectContaining({ lostOn, to: 'MAT' }) }),
    ]);

    const again = await send(ISSUE, { input: issueInput(person) });
    expect(again.errors).toBeUndefined();
    const citizen = await view(person.code);
    expect(citizen.identityCard).toMatchObject({ id: again.data!.issueIdentityCard.id, status: 'VALID' });
    expect(citizen.identityCards.find((c: any) => c.id === old.id)).toMatchObject({ status: 'LOST', replacedBy: null });
  });

  it('revokes the valid card with a reason; then neither lost nor revoke finds a valid card', async () => {
    const person = pick('living citizen with a valid card', living, (p) => hasValid(p.code));
    const old = cardsOf.get(person.code)!.find(surelyValid)!;
    const response = await send(REVOKE, { input: { personalCode: person.code, reason: 'Quyết định thu hồi số 12/QĐ' } });
    expect(response.errors).toBeUndefined();
    expect(response.data!.revokeIdentityCard).toMatchObject({ id: old.id, status: 'REVOKED' });
    const citizen = await view(person.code);
    expect(citizen.identityCard).toBeNull();
    expect(citizen.identityCards.find((c: any) => c.id === old.id)).toMatchObject({ status: 'REVOKED' });
    expect(await logOf(person.code, response.requestId)).toEqual([
      expect.objectContaining({ actor: ACTOR, action: 'REVOKE_CARD', key: old.id, details: expect.objectContaining({ reason: 'Quyết định thu hồi số 12/QĐ' }) }),
    ]);

    const lost = await refused(person.code, LOST, { personalCode: person.code });
    expect(lost.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NO_VALID_CARD' });
    const revoke = await refused(person.code, REVOKE, { personalCode: person.code, reason: 'again' });
    expect(revoke.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NO_VALID_CARD' });
    const replace = await refused(person.code, REPLACE, issueInput(person));
    expect(replace.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NO_VALID_CARD' });
  });
});

// ----------------------------------------------------------------------------------------------- refusals

describe('refusals change nothing', () => {
  let withoutCard: Person;
  let withCard: Person;
  beforeAll(() => {
    withoutCard = pick('living citizen without a valid card', living, (p) => hasNoValid(p.code));
    withCard = pick('living citizen with a valid card', living, (p) => hasValid(p.code));
  });

  it('refuses every write without an actor, before reading anything', async () => {
    for (const [query, input] of [
      [ISSUE, issueInput(withoutCard)],
      [REPLACE, issueInput(withCard)],
      [LOST, { personalCode: withCard.code }],
      [REVOKE, { personalCode: withCard.code, reason: 'x' }],
    ] as const) {
      let error!: NonNullable<GraphQLResponse['errors']>[number];
      const counts = await federation.countStatements(async () => {
        error = await refused(input.personalCode, query, input, {});
      });
      expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
      // Only the test's own reads of the rows reach the database (through the fixtures' pool, not counted).
      expect(counts['national-id']).toBe(0);
      expect(counts.residents).toBe(0);
    }
  });

  it('refuses a holder no citizen has', async () => {
    let code: string;
    do code = `001099${crypto.randomInt(0, 1_000_000).toString().padStart(6, '0')}`;
    while ((await f.residents.query('SELECT 1 FROM cong_dan WHERE so_dinh_danh = $1', [code])).rowCount);
    const error = await refused(code, ISSUE, { personalCode: code, issuedOn: TODAY, issuingAuthority: 'Bộ Công an' });
    expect(error.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'CITIZEN_NOT_FOUND' });
  });

  it('refuses a card for a deceased citizen', async () => {
    const dead = pick('deceased citizen', deceased, () => true);
    const error = await refused(dead.code, ISSUE, issueInput(dead, { issuedOn: dead.dateOfBirth }));
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CITIZEN_DECEASED' });
    expect(error.message).toMatch(/deceased citizen cannot be given a card/);
  });

  it('refuses a second valid card: replacing is the way', async () => {
    const error = await refused(withCard.code, ISSUE, issueInput(withCard));
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CARD_ALREADY_VALID' });
    expect(error.message).toMatch(/replace it/);
  });

  it('refuses the kinds of card no longer issued', async () => {
    const legacy = await refused(withoutCard.code, ISSUE, issueInput(withoutCard, { kind: 'LEGACY_ID' }));
    expect(legacy.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CARD_KIND_NOT_ISSUED', argument: 'input.kind' });
    expect(legacy.message).toMatch(/CMND.*never issued again/);
    const barcode = await refused(withCard.code, REPLACE, issueInput(withCard, { kind: 'CITIZEN_ID' }));
    expect(barcode.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CARD_KIND_NOT_ISSUED' });
  });

  it('refuses an issue date in the future or before the holder was born', async () => {
    const future = await refused(withoutCard.code, ISSUE, issueInput(withoutCard, { issuedOn: daysFromToday(2) }));
    expect(future.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE', argument: 'input.issuedOn' });
    const dayBefore = new Date(new Date(`${withoutCard.dateOfBirth}T00:00:00Z`).getTime() - 86_400_000).toISOString().slice(0, 10);
    const early = await refused(withoutCard.code, ISSUE, issueInput(withoutCard, { issuedOn: dayBefore }));
    expect(early.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ISSUED_BEFORE_BIRTH', argument: 'input.issuedOn' });
    const lostLater = await refused(withCard.code, LOST, { personalCode: withCard.code, lostOn: daysFromToday(1) });
    expect(lostLater.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE', argument: 'input.lostOn' });
  });

  it('refuses a replacement dated before the card it replaces', async () => {
    const { rows } = await f.nationalId.query(
      `SELECT to_char(ngay_cap - 1, 'YYYY-MM-DD') AS before FROM the_can_cuoc WHERE so_dinh_danh = $1 AND trang_thai = 'CON_HIEU_LUC'`,
      [withCard.code],
    );
    const error = await refused(withCard.code, REPLACE, issueInput(withCard, { issuedOn: rows[0].before }));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ISSUED_BEFORE_PREVIOUS_CARD' });
  });

  it('refuses an empty or overlong issuing authority and an empty revocation reason', async () => {
    const empty = await refused(withoutCard.code, ISSUE, issueInput(withoutCard, { issuingAuthority: '   ' }));
    expect(empty.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TEXT_REQUIRED', argument: 'input.issuingAuthority' });
    const long = await refused(withoutCard.code, ISSUE, issueInput(withoutCard, { issuingAuthority: 'C'.repeat(256) }));
    expect(long.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TEXT_TOO_LONG', argument: 'input.issuingAuthority' });
    const reason = await refused(withCard.code, REVOKE, { personalCode: withCard.code, reason: '' });
    expect(reason.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TEXT_REQUIRED', argument: 'input.reason' });
  });

  it('has the database refuse a second valid card even past the application (unique partial index)', async () => {
    const client = await f.nationalId.connect();
    try {
      await client.query('BEGIN');
      await expect(
        client.query(
          `INSERT INTO the_can_cuoc (so_the, loai_the, so_dinh_danh, ngay_cap, noi_cap, trang_thai) VALUES ($1, 'CCCD_CHIP', $2, current_date, 'x', 'CON_HIEU_LUC')`,
          [withCard.code, withCard.code],
        ),
      ).rejects.toMatchObject({ code: '23505' });
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('a holder whose personal code was cancelled and re-issued', () => {
  let person: Person;
  let oldCard: CardRow;
  let current: string;

  /** Arrange, as the Resident Information Center records a re-issue: a new code in force, the old one cancelled. */
  async function reissueCode(old: string): Promise<string> {
    let code: string;
    do code = `${old.slice(0, 6)}${crypto.randomInt(0, 1_000_000).toString().padStart(6, '0')}`;
    while ((await f.residents.query('SELECT 1 FROM so_dinh_danh WHERE so_dinh_danh = $1', [code])).rowCount);
    const client = await f.residents.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO so_dinh_danh (so_dinh_danh, so_dinh_danh_hien_hanh, trang_thai) VALUES ($1, $1, 'HIEU_LUC')`, [code]);
      await client.query(`UPDATE cong_dan SET so_dinh_danh = $2 WHERE so_dinh_danh = $1`, [old, code]);
      await client.query(
        `UPDATE so_dinh_danh SET trang_thai = 'DA_HUY', so_dinh_danh_hien_hanh = $2, ngay_huy = now(), ly_do_huy = 'SAI_SOT_NHAP_LIEU',
                van_ban_huy = 'QĐ kiểm thử' WHERE so_dinh_danh = $1`,
        [old, code],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
    return code;
  }

  beforeAll(async () => {
    person = pick('living citizen with a valid chip card', living, (p) => (cardsOf.get(p.code) ?? []).some((c) => surelyValid(c) && c.kind === 'CCCD_CHIP'));
    oldCard = cardsOf.get(person.code)!.find(surelyValid)!;
    current = await reissueCode(person.code);
  });

  it('refuses every write under the cancelled code, naming the code in force', async () => {
    for (const [query, input] of [
      [ISSUE, issueInput(person)],
      [REPLACE, issueInput(person)],
      [LOST, { personalCode: person.code }],
      [REVOKE, { personalCode: person.code, reason: 'x' }],
    ] as const) {
      const error = await refused(person.code, query, input);
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', reason: 'PERSONAL_CODE_CANCELLED', currentPersonalCode: current });
    }
  });

  it('counts the valid card filed under the old code: no second card under the new one', async () => {
    const error = await refused(person.code, ISSUE, { ...issueInput(person), personalCode: current });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CARD_ALREADY_VALID' });
    expect((await holderState(current)).cards).toEqual([]);
  });

  it('replaces the card filed under the old code with a chip card numbered with the code in force', async () => {
    const response = await send(REPLACE, { input: { ...issueInput(person), personalCode: current } });
    expect(response.errors).toBeUndefined();
    const card = response.data!.replaceIdentityCard;
    expect(card).toMatchObject({ number: current, status: 'VALID', holder: { personalCode: current, fullName: person.fullName } });
    const { rows } = await f.nationalId.query(
      `SELECT id::text, so_dinh_danh AS code, trang_thai AS status, id_the_thay_the::text AS next FROM the_can_cuoc
        WHERE so_dinh_danh = ANY($1) AND (id = $2 OR id = $3) ORDER BY id`,
      [[person.code, current], oldCard.id, card.id],
    );
    expect(rows).toEqual([
      { id: oldCard.id, code: person.code, status: 'DA_THAY_THE', next: card.id },
      { id: card.id, code: current, status: 'CON_HIEU_LUC', next: null },
    ]);
    const citizen = await view(current);
    expect(citizen.identityCard).toMatchObject({ id: card.id, number: current });
    expect(citizen.identityCards.find((c: any) => c.id === oldCard.id)).toMatchObject({ status: 'REPLACED', replacedBy: { id: card.id, number: current } });
  });
});

// ------------------------------------------------------------------------------------------- concurrency

describe('concurrent writes about one holder', () => {
  it('10 parallel issues and replacements end with one valid card and one unbroken replacement chain', async () => {
    const person = pick('living citizen without a valid card', living, (p) => hasNoValid(p.code));
    const before = await holderState(person.code);
    const oldIds = new Set(before.cards.map((c) => String(c.id)));
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(i % 2 === 0 ? ISSUE : REPLACE, { input: issueInput(person, { issuingAuthority: `Bộ Công an ${i}` }) })),
    );
    const outcomes = responses.map((r) => r.errors?.[0]?.extensions?.reason ?? 'OK');
    const issued = responses.filter((r, i) => i % 2 === 0 && !r.errors);
    const replaced = responses.filter((r, i) => i % 2 === 1 && !r.errors);
    // Exactly one issue gets in first; later issues find a valid card, replacements before it find none.
    expect(issued).toHaveLength(1);
    for (const [i, outcome] of outcomes.entries()) {
      expect([i % 2 === 0 ? 'CARD_ALREADY_VALID' : 'NO_VALID_CARD', 'OK']).toContain(outcome);
    }

    const { cards } = await holderState(person.code);
    const fresh = cards.filter((c) => !oldIds.has(String(c.id)));
    expect(fresh).toHaveLength(1 + replaced.length);
    expect(cards.filter((c) => c.trang_thai === 'CON_HIEU_LUC')).toHaveLength(1);
    // Follow the chain from the issued card: every new card exactly once, ending at the valid one.
    const byId = new Map(fresh.map((c) => [String(c.id), c]));
    let link = byId.get(issued[0].data!.issueIdentityCard.id);
    const chain: string[] = [];
    while (link) {
      chain.push(String(link.id));
      if (link.id_the_thay_the === null) break;
      expect(link.trang_thai).toBe('DA_THAY_THE');
      link = byId.get(String(link.id_the_thay_the));
    }
    expect(chain).toHaveLength(fresh.length);
    expect(byId.get(chain[chain.length - 1])!.trang_thai).toBe('CON_HIEU_LUC');

    const { rows: log } = await f.nationalId.query(
      `SELECT thao_tac AS action, count(*)::int AS n FROM cg_nhat_ky_thay_doi WHERE so_dinh_danh = $1 AND id > $2 GROUP BY 1 ORDER BY 1`,
      [person.code, before.log.length ? before.log[before.log.length - 1].id : 0],
    );
    expect(log).toEqual([
      { action: 'ISSUE_CARD', n: 1 + replaced.length },
      ...(replaced.length ? [{ action: 'REPLACE_CARD', n: replaced.length }] : []),
    ]);
    const citizen = await view(person.code);
    expect(citizen.identityCard.id).toBe(chain[chain.length - 1]);
  });
});

// ------------------------------------------------------------------------------------- residents down

describe('when the Resident Information Center cannot be reached', () => {
  let down: TestFederation;
  beforeAll(async () => {
    down = await startFederation();
    await down.stopSubgraph('residents');
  });
  afterAll(async () => {
    await down?.stop();
  });

  it('refuses to issue or replace with AGENCY_UNAVAILABLE and writes nothing', async () => {
    const person = pick('living citizen without a valid card', living, (p) => hasNoValid(p.code));
    const issue = await refused(person.code, ISSUE, issueInput(person), { 'x-actor': ACTOR }, down);
    expect(issue.extensions).toMatchObject({ code: 'AGENCY_UNAVAILABLE', reason: 'HOLDER_NOT_CONFIRMED', agency: 'Resident Information Center' });
    expect(issue.message).toMatch(/Resident Information Center did not answer.*nothing was written/);
    const holder = pick('living citizen with a valid card', living, (p) => hasValid(p.code));
    const replace = await refused(holder.code, REPLACE, issueInput(holder), { 'x-actor': ACTOR }, down);
    expect(replace.extensions).toMatchObject({ code: 'AGENCY_UNAVAILABLE', reason: 'HOLDER_NOT_CONFIRMED' });
    const lost = await refused(holder.code, LOST, { personalCode: holder.code }, { 'x-actor': ACTOR }, down);
    expect(lost.extensions).toMatchObject({ code: 'AGENCY_UNAVAILABLE', reason: 'HOLDER_NOT_CONFIRMED' });
    const revoke = await refused(holder.code, REVOKE, { personalCode: holder.code, reason: 'x' }, { 'x-actor': ACTOR }, down);
    expect(revoke.extensions).toMatchObject({ code: 'AGENCY_UNAVAILABLE', reason: 'HOLDER_NOT_CONFIRMED' });
  });
});
