import { Client } from 'pg';
import { startFederation, type TestFederation, statements } from './support/federation';
import { openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer, PERSONAS } from './support/tokens';
import { foldName, nameSearchPattern, nameSearchStatement, WORD_POSITIONS } from '../subgraphs/residents/name-search';

/**
 * searchCitizens by name, as people type Vietnamese names: through the real gateway, as a clerk at a service
 * counter, against the seeded population. What each search should find is worked out here from every name in
 * the database with a fold of the test's own (a table of the Vietnamese letters, not Unicode decomposition),
 * so the subgraph's fold, the database's generated column, the index and the pagination are all checked
 * against something they do not share.
 */
let federation: TestFederation;
let f: Fixtures;
let clerk: Record<string, string>;
let population: { code: string; name: string }[];

beforeAll(async () => {
  federation = await startFederation();
  f = openFixtures();
  clerk = await bearer(PERSONAS.clerk);
  population = (await f.residents.query<{ code: string; name: string }>('SELECT so_dinh_danh AS code, ho_ten AS name FROM cong_dan ORDER BY so_dinh_danh'))
    .rows;
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
});

/** Every letter of the Vietnamese alphabet with a mark, by the letter it is typed as without marks. */
const VIETNAMESE_LETTERS: Readonly<Record<string, string>> = {
  a: 'àáảãạăằắẳẵặâầấẩẫậ',
  d: 'đ',
  e: 'èéẻẽẹêềếểễệ',
  i: 'ìíỉĩị',
  o: 'òóỏõọôồốổỗộơờớởỡợ',
  u: 'ùúủũụưừứửữự',
  y: 'ỳýỷỹỵ',
};
const BASE_LETTER = new Map(Object.entries(VIETNAMESE_LETTERS).flatMap(([base, marked]) => [...marked].map((letter) => [letter, base])));
const ALL_MARKED = Object.values(VIETNAMESE_LETTERS).join('');

/** The test's own fold: NFC, lower case, each Vietnamese marked letter replaced from the table above (then any other mark dropped). */
const plain = (text: string) =>
  [...text.normalize('NFC').toLowerCase()]
    .map((c) => BASE_LETTER.get(c) ?? c)
    .join('')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * The codes of every citizen whose name has a run of words starting with `typed` (at one of its first five
 * words), in the search's order: the part of the name from the first word the text starts at, then the code.
 */
function expected(typed: string): string[] {
  const q = plain(typed);
  const found = population.flatMap((p) => {
    const words = plain(p.name).split(' ');
    const at = words.slice(0, WORD_POSITIONS).map((_, k) => words.slice(k).join(' ')).find((suffix) => suffix.startsWith(q));
    return at === undefined ? [] : [{ code: p.code, at }];
  });
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return found.sort((a, b) => order(a.at, b.at) || order(a.code, b.code)).map((f) => f.code);
}

const SEARCH = `query($name: String, $first: Int, $after: String) {
  searchCitizens(name: $name, first: $first, after: $after) { edges { cursor node { personalCode fullName } } pageInfo { hasNextPage endCursor } }
}`;

async function search(name: string, first = 100, after?: string) {
  const response = await federation.query<any>(SEARCH, { name, first, after }, clerk);
  expect(response.errors).toBeUndefined();
  return response.data.searchCitizens as { edges: { cursor: string; node: { personalCode: string; fullName: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/**
 * Other test files register births and re-issue codes while this one runs: answers are compared on the
 * citizens that were there, under the same name and code, both when the population was read and now.
 */
async function unchanged(): Promise<Set<string>> {
  const { rows } = await f.residents.query<{ code: string; name: string }>('SELECT so_dinh_danh AS code, ho_ten AS name FROM cong_dan');
  const now = new Map(rows.map((r) => [r.code, r.name]));
  return new Set(population.filter((p) => now.get(p.code) === p.name).map((p) => p.code));
}

/** The search's answer and the expected codes, both among the unchanged citizens. */
async function expectFound(found: string[], typed: string, page?: number) {
  const known = await unchanged();
  const answer = found.filter((code) => known.has(code));
  const wanted = expected(typed).filter((code) => known.has(code));
  expect(answer).toEqual(page === undefined ? wanted : wanted.slice(0, answer.length));
  if (page !== undefined) expect(answer.length).toBeGreaterThanOrEqual(Math.min(wanted.length, page) - 10);
}

/** Every page of a search, following the cursors: the codes in the order they came. */
async function searchAll(name: string, first = 100): Promise<string[]> {
  const codes: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await search(name, first, after);
    codes.push(...page.edges.map((e) => e.node.personalCode));
    if (!page.pageInfo.hasNextPage) return codes;
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
    after = page.pageInfo.endCursor!;
  }
}

async function refusal(name: unknown) {
  const response = await federation.query<any>(SEARCH, { name }, clerk);
  expect(response.data?.searchCitizens ?? null).toBeNull();
  expect(response.errors).toHaveLength(1);
  const [error] = response.errors!;
  expect(JSON.stringify(error)).not.toMatch(/SELECT|cong_dan|prisma|\bat .*\.ts|127\.0\.0\.1/i);
  return error;
}

/** A word that appears in the middle of some three-word names (Văn, Thị, ...), and a given name. */
function wordsOfNames() {
  const threeWords = population.map((p) => p.name.split(' ')).filter((words) => words.length === 3);
  const count = (words: string[]) => words.reduce((m, w) => m.set(w, (m.get(w) ?? 0) + 1), new Map<string, number>());
  const commonest = (counts: Map<string, number>, unlike: (w: string) => boolean) =>
    [...counts].filter(([w]) => unlike(w)).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
  const marked = (w: string) => [...w].some((c) => ALL_MARKED.includes(c.toLowerCase()));
  const middle = commonest(count(threeWords.map((w) => w[1])), marked);
  const given = commonest(count(threeWords.map((w) => w[2])), marked);
  const pair = commonest(count(threeWords.map((w) => `${w[1]} ${w[2]}`)), marked);
  return { middle, given, pair };
}

describe('searching by name as people type it', () => {
  it('finds every Nguyễn typed without marks, in any case, and precomposed or decomposed (NFC, NFD), page after page', async () => {
    const nguyen = expected('Nguyễn');
    expect(nguyen.length).toBeGreaterThan(250); // several pages of 100
    const nfd = 'Nguyễn'.normalize('NFD');
    expect(nfd).not.toBe('Nguyễn'.normalize('NFC'));
    const all = await searchAll('Nguyen');
    expect(new Set(all).size).toBe(all.length);
    await expectFound(all, 'Nguyễn');
    for (const typed of ['nguyen', 'NGUYỄN', nfd, `  ${'NGUYỄN'.normalize('NFD')} `]) {
      const page = await search(typed);
      await expectFound(page.edges.map((e) => e.node.personalCode), 'Nguyễn', 100);
      expect(page.pageInfo.hasNextPage).toBe(true);
    }
  });

  it('finds a middle name, a given name and a run of consecutive words, wherever they stand in the name', async () => {
    const { middle, given, pair } = wordsOfNames();
    for (const typed of [middle, given, pair]) {
      const accentless = plain(typed);
      const found = await searchAll(accentless);
      await expectFound(found, typed);
      expect(found.length).toBeGreaterThan(0);
      // Not only names that start with it.
      const names = new Map(population.map((p) => [p.code, p.name]));
      expect(found.some((code) => !plain(names.get(code)!).startsWith(accentless))).toBe(true);
    }
    // The words in the other order are another search (each alone finds many).
    const [first, second] = pair.split(' ');
    const reversed = `${plain(second)} ${plain(first)}`;
    expect(expected(reversed).length).toBeLessThan(expected(pair).length);
    await expectFound(await searchAll(reversed), reversed);
  });

  it('matches the start of words, as typed so far: a prefix finds, the inside of a word does not', async () => {
    await expectFound(await searchAll('ngu'), 'ngu');
    expect(expected('guyen')).toEqual([]);
    expect((await search('guyen')).edges).toEqual([]);
  });

  it('folds Đ and đ to d, both ways', async () => {
    const dang = expected('Đặng');
    expect(dang.length).toBeGreaterThan(0);
    expect(expected('dang')).toEqual(expect.arrayContaining(dang));
    for (const typed of ['dang', 'ĐẶNG', 'đặng']) await expectFound(await searchAll(typed), 'dang');
  });

  it('matches %, _ and \\ literally, never as wildcards', async () => {
    // As wildcards each would match a great many names; as themselves, none (no name has them).
    for (const typed of ['n_uyen', 'ng%', '%guyen', 'nguy\\en', 'a%b', 'Tr_n Th_', 'nguyen%van']) {
      expect(await search(typed)).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    }
    // Without a letter it is in no name: nobody, without asking the database.
    for (const typed of ['%%', '__', '\\\\', '\\%', '%_%_%', '😀😀']) {
      const counts = await federation.countStatements(async () =>
        expect(await search(typed)).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } }),
      );
      expect(counts.residents).toBe(0);
    }
  });

  it('answers odd text precisely: emoji in a name find nobody; control characters, lone surrogates and overlong or too short names are refused', async () => {
    expect((await search('Nguyễn 👨‍👩‍👧')).edges).toEqual([]);
    expect((await search('😀 an')).edges).toEqual([]);
    for (const name of ['a\u0000b', 'Ng\u0007uyen', 'Nguy\u009Fen', 'Nguyen\uD800']) {
      expect((await refusal(name)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'name', reason: 'NAME_CHARACTERS' });
    }
    const tooLong = await refusal('Nguyễn '.repeat(22));
    expect(tooLong.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'name', reason: 'NAME_TOO_LONG' });
    expect(tooLong.message).toMatch(/at most 150 characters; got 153/);
    // 150 characters precomposed are 300 UTF-16 units decomposed: counted as the 150 characters they are.
    const long = 'Ễ'.repeat(150).normalize('NFD');
    expect(long.length).toBe(450);
    expect((await search(long)).edges).toEqual([]);
    for (const name of ['a', ' Đ ', '😀 x', '%a%']) {
      const error = await refusal(name);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'name', reason: 'NAME_TOO_SHORT' });
    }
    // Two letters are a name (Lê, Hồ, Vũ) and are searched.
    await expectFound(await searchAll('Lê'), 'le');
  });

  it('keeps a search with other filters as before, and refuses a blank name without them', async () => {
    const someone = population.find((p) => plain(p.name).startsWith('nguyen'))!;
    const response = await federation.query<any>(
      `query($name: String, $p: String) { searchCitizens(name: $name, birthProvince: $p, first: 100) { edges { node { personalCode } } } }`,
      { name: 'nguyen', p: someone.code.slice(0, 3) },
      clerk,
    );
    const codes: string[] = response.data.searchCitizens.edges.map((e: any) => e.node.personalCode);
    expect(codes.every((code) => code.startsWith(someone.code.slice(0, 3)))).toBe(true);
    const known = await unchanged();
    const wanted = expected('nguyen').filter((c) => c.startsWith(someone.code.slice(0, 3)) && known.has(c));
    expect(codes.filter((c) => known.has(c))).toEqual(wanted.slice(0, codes.filter((c) => known.has(c)).length));
    expect(codes.length).toBeGreaterThan(0);
    const blank = await federation.query<any>(`{ searchCitizens(name: "   ") { edges { cursor } } }`, {}, clerk);
    expect(blank.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NO_FILTER' });
  });

  it('costs two SQL statements in the residents database (the page, then its records), and none elsewhere, on any page', async () => {
    const first = await search('nguyen van', 20);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(await federation.countStatements(() => search('nguyen van', 20))).toEqual(statements({ residents: 2 }));
    let second: Awaited<ReturnType<typeof search>> | undefined;
    expect(await federation.countStatements(async () => (second = await search('nguyen van', 20, first.pageInfo.endCursor!)))).toEqual(statements({ residents: 2 }));
    expect(second!.edges.length).toBeGreaterThan(0);
    // A page that finds nobody needs no records.
    expect(await federation.countStatements(() => search('zzyzx'))).toEqual(statements({ residents: 1 }));
  });

  it('refuses a cursor it did not make, or one of a search without a name', async () => {
    const byProvince = await federation.query<any>(`{ searchCitizens(birthProvince: "001", first: 1) { pageInfo { endCursor } } }`, {}, clerk);
    const forged = Buffer.from('n:001099000001:\u0000').toString('base64url');
    for (const after of [byProvince.data.searchCitizens.pageInfo.endCursor, forged, 'bm90LWEtY3Vyc29y', Buffer.from(`n:12:${'x'.repeat(20)}`).toString('base64url')]) {
      const response = await federation.query<any>(SEARCH, { name: 'nguyen', after }, clerk);
      expect(response.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after', reason: 'BAD_CURSOR' });
    }
    const nameCursor = (await search('nguyen', 1)).pageInfo.endCursor;
    const mixed = await federation.query<any>(`query($a: String) { searchCitizens(birthProvince: "001", after: $a) { edges { cursor } } }`, { a: nameCursor }, clerk);
    expect(mixed.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after', reason: 'BAD_CURSOR' });
  });

  it('records the clerk and every citizen the page names in the audit store', async () => {
    const requestId = `name-search-${Date.now()}`;
    const response = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...clerk },
      body: JSON.stringify({ query: SEARCH, variables: { name: 'Tran', first: 7 } }),
    });
    const body = (await response.json()) as any;
    const codes: string[] = body.data.searchCitizens.edges.map((e: any) => e.node.personalCode);
    expect(codes).toHaveLength(7);
    await expectFound(codes, 'Trần', 7);
    const audit = new Client({ connectionString: testDatabases().auditUrl });
    await audit.connect();
    try {
      const { rows } = await audit.query<{ subject: string; persons: string[] }>(
        `SELECT subject, persons::text[] AS persons FROM audit_log WHERE request_id = $1 AND action = 'READ'`,
        [requestId],
      );
      expect(rows.map((r) => r.subject)).toEqual(expect.arrayContaining([PERSONAS.clerk.sub]));
      const recorded = new Set(rows.flatMap((r) => r.persons.map((p) => p.trim())));
      for (const code of codes) expect(recorded).toContain(code);
    } finally {
      await audit.end();
    }
  });
});

describe('the folded name in the database', () => {
  it('is the fold the subgraph applies to what people type, for every Vietnamese letter (NFC and NFD) and every seeded name', async () => {
    const letters = [...ALL_MARKED, ...ALL_MARKED.toUpperCase(), 'Đ', 'ð', 'Ð'];
    const samples = [
      ...letters,
      ...letters.map((l) => l.normalize('NFD')),
      'Nguyễn Văn An',
      '  NGUYỄN   Thị\tÁnh  ',
      "H'Hen Niê",
      'Giàng A Páo',
      'Thomas Müller',
      ...population.map((p) => p.name),
    ];
    const { rows } = await f.residents.query<{ folded: string[] }>('SELECT array_agg(cg_ten_khong_dau(t) ORDER BY n) AS folded FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n)', [samples]);
    expect(rows[0].folded).toEqual(samples.map((s) => ` ${foldName(s)}`));
    // And the test's own fold agrees on the Vietnamese letters.
    expect(letters.map(foldName)).toEqual(letters.map((l) => (/[ðÐ]/.test(l) ? 'd' : plain(l))));
  });

  it('is filled by PostgreSQL on every write, whoever writes', async () => {
    const { rows } = await f.residents.query<{ stale: number }>(`SELECT count(*)::int AS stale FROM cong_dan WHERE cg_ho_ten_tim_kiem IS DISTINCT FROM cg_ten_khong_dau(ho_ten)`);
    expect(rows[0].stale).toBe(0);
  });

  it('is searched through the index of each word position, in order, by the statement the subgraph sends', async () => {
    const { text, values } = nameSearchStatement(nameSearchPattern('Văn An')!, {}, { suffix: 'van an', personalCode: '001000000000' }, 21);
    expect(values[0]).toBe('van an%');
    // As the residents service's own role. 3,000 citizens fit in a few pages, where reading them all is
    // cheapest; at 8 million the planner chooses the indexes on its own (bench/README.md). Here the session
    // rules out the plans without them.
    const residents = new Client({ connectionString: testDatabases().serviceUrls.residents.database! });
    await residents.connect();
    try {
      await residents.query('SET enable_seqscan = off; SET enable_bitmapscan = off');
      const plan = (await residents.query(`EXPLAIN ${text}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
      for (let n = 1; n <= WORD_POSITIONS; n += 1) {
        expect(plan).toMatch(new RegExp(`Index Scan using cong_dan_cg_hau_to_${n}_idx on cong_dan`));
      }
      // The typed text is a range of each index, and the cursor a position in it: no sort under the branches' limits.
      expect(plan).toMatch(/Index Cond: \(\(cg_hau_to\(cg_ho_ten_tim_kiem, 2\) >= 'van an'::text\) AND \(cg_hau_to\(cg_ho_ten_tim_kiem, 2\) < 'van ao'::text\) AND \(ROW\(cg_hau_to/);
      expect(plan).toMatch(/Merge Append/);
      expect(plan).not.toMatch(/Seq Scan|-> +Sort +\(/);
    } finally {
      await residents.end();
    }
  });
});
