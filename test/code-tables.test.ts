import fs from 'node:fs';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import { codeTable, UnknownStoredCode, type CodeTable } from '../lib/code-table';
import { formatClientError } from '../lib/graphql/format-error';
import { AGENCIES, type Agency } from '../lib/agencies';
import { startFederation, type TestFederation } from './support/federation';
import { openFixtures, type Fixtures } from './support/fixtures';

/**
 * The agencies' legacy code tables (subgraphs/<agency>/codes.ts, lib/code-table.ts): every stored code is
 * written in its table and nowhere else in the running code, every code the databases hold decodes, and a
 * stored value a table does not know is the one data fault the policy says (lib/code-table.ts): logged with
 * the column, INTERNAL_SERVER_ERROR on that field for the client, with neither the column nor the value.
 */
const ROOT = path.resolve(__dirname, '..');
type AnyTable = CodeTable<string | number, string>;

/** Each agency's code tables, found from the list of agencies (a new agency's codes.ts is read the same way). */
function tablesOf(id: Agency['id']): AnyTable[] {
  const file = path.join(ROOT, 'subgraphs', id, 'codes.ts');
  if (!fs.existsSync(file)) return [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(file) as Record<string, unknown>;
  return Object.values(module).filter((value): value is AnyTable => typeof (value as AnyTable)?.decode === 'function' && typeof (value as AnyTable).column === 'string');
}

const TABLES = AGENCIES.map((agency) => ({ agency: agency.id, tables: tablesOf(agency.id) }));

/** Where the code tables live: the only files allowed to spell a stored code. */
const isTableFile = (file: string) => file === 'lib/code-table.ts' || /^subgraphs\/[^/]+\/codes\.ts$/.test(file);
/**
 * What the running services are made of. Development tooling (tools/) is not scanned: the demo population
 * spells stored codes as the rows it writes, and its row types (tools/demo-data/rows.ts) are the tables'
 * stored-code unions, so a code the tables do not hold does not compile there.
 */
const SCANNED = ['subgraphs', 'lib', 'gateway'];
const NOT_SCANNED = [/\/generated\//];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative] : [];
  });
}

describe('the code tables', () => {
  it('are found for every agency that has a codes.ts, each naming its column', () => {
    // An agency added with npm run agency:new has no legacy codes until its developer maps some: no codes.ts.
    for (const { agency, tables } of TABLES) {
      const hasFile = fs.existsSync(path.join(ROOT, 'subgraphs', agency, 'codes.ts'));
      expect({ agency, tables: tables.length > 0 }).toEqual({ agency, tables: hasFile });
      for (const table of tables) expect(table.column).toMatch(/^[a-z_]+\.[a-z_]+$/);
    }
    // The three first agencies keep legacy codes.
    expect(TABLES.filter(({ tables }) => tables.length > 0).map(({ agency }) => agency)).toEqual(expect.arrayContaining(['residents', 'national-id', 'birth-registry']));
  });

  it('hold every stored code: no text code is spelled outside them in subgraphs/, lib/ or gateway/', () => {
    const codes = new Set(TABLES.flatMap(({ tables }) => tables.flatMap((table) => table.codes.filter((code): code is string => typeof code === 'string'))));
    expect(codes.size).toBeGreaterThan(20);
    const quoted = new RegExp(`(['"\`])(${[...codes].join('|')})\\1`, 'g');
    const found: string[] = [];
    for (const file of SCANNED.flatMap(sourceFiles)) {
      if (isTableFile(file) || NOT_SCANNED.some((pattern) => pattern.test(file))) continue;
      fs.readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          for (const match of line.matchAll(quoted)) found.push(`${file}:${index + 1}: ${match[0]}`);
        });
    }
    // Name the graph value and ask the table: CARD_STATUS.encode('VALID'), RELATIONSHIP.decode(row.quan_he_chu_ho).
    expect(found).toEqual([]);
  });

  it('decode only the codes they hold, of the column type they hold, and encode each graph value to its one code', () => {
    const kinds = codeTable('t.kind', { A_CODE: 'A', B_CODE: 'B' } as const);
    const sizes = codeTable('t.size', { 1: 'SMALL', 2: 'LARGE' } as const);
    expect([kinds.decode('A_CODE'), kinds.encode('B'), sizes.decode(2), sizes.encode('SMALL')]).toEqual(['A', 'B_CODE', 'LARGE', 1]);
    for (const [table, stored] of [
      [kinds, 'C_CODE'],
      [kinds, 'a_code'],
      [kinds, ' A_CODE'],
      [kinds, null],
      [kinds, 'toString'],
      [kinds, '__proto__'],
      [sizes, 3],
      [sizes, '1'],
      [sizes, null],
    ] as [AnyTable, string | number | null][]) {
      expect(() => table.decode(stored)).toThrow(UnknownStoredCode);
      try {
        table.decode(stored);
      } catch (error) {
        expect(error).toMatchObject({ column: table.column, value: stored });
      }
    }
    expect(() => codeTable('t.twice', { X: 'SAME', Y: 'SAME' } as const)).toThrow(/two stored codes/);
  });

  it('are logged as a data fault with the column, and masked for the client', () => {
    const logged: [string, unknown][] = [];
    const fault = new UnknownStoredCode('thanh_vien_ho.quan_he_chu_ho', 'XYZ');
    const error = new GraphQLError(fault.message, { path: ['household', 'members', 0, 'relationshipToHead'], originalError: fault });
    const answer = formatClientError({ message: fault.message, path: error.path }, error, (message, cause) => logged.push([message, cause]));
    expect(answer.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(JSON.stringify(answer)).not.toMatch(/quan_he|XYZ/);
    expect(logged).toEqual([['data fault: thanh_vien_ho.quan_he_chu_ho holds a code its table does not know', fault]]);
  });
});

describe('the code tables against the agencies’ rows', () => {
  let f: Fixtures;
  let federation: TestFederation;
  const pools = () => ({ residents: f.residents, 'national-id': f.nationalId, 'birth-registry': f.birthRegistry }) as Record<Agency['id'], Fixtures['residents']>;

  beforeAll(async () => {
    f = openFixtures();
    federation = await startFederation();
  });
  afterAll(async () => {
    await federation?.stop();
    await f?.end();
  });

  it('decode every code the seeded databases hold', async () => {
    for (const { agency, tables } of TABLES) {
      for (const table of tables) {
        const [name, column] = table.column.split('.');
        const { rows } = await pools()[agency].query(`SELECT DISTINCT ${column} AS code FROM ${name} WHERE ${column} IS NOT NULL`);
        for (const { code } of rows) expect(() => table.decode(typeof code === 'string' ? code.trimEnd() : code)).not.toThrow();
      }
    }
  });

  it('an unknown code in a real row fails only that field, as INTERNAL_SERVER_ERROR without the column or the value', async () => {
    // thanh_vien_ho.quan_he_chu_ho has no CHECK constraint: a legacy row may hold a code the table does not know.
    // A closed membership of its own (history only), added for this test and removed after it.
    const { rows } = await f.residents.query<{ code: string; household: string }>(
      `SELECT c.so_dinh_danh AS code, h.so_ho AS household FROM cong_dan c, ho_gia_dinh h
        WHERE c.ngay_mat IS NULL ORDER BY md5(c.so_dinh_danh || 'code-tables'), h.so_ho DESC LIMIT 1`,
    );
    const { code, household } = rows[0];
    const inserted = await f.residents.query<{ id: string }>(
      `INSERT INTO thanh_vien_ho (so_ho, so_dinh_danh, quan_he_chu_ho, tu_ngay, den_ngay)
       VALUES ($1, $2, 'CU_LEGACY', DATE '1950-01-01', DATE '1950-01-02') RETURNING id`,
      [household, code],
    );
    try {
      const answer = await federation.query<{ citizen: { personalCode: string } | null }>(
        `query($code: PersonalCode!) { citizen(personalCode: $code) { personalCode householdHistory { relationshipToHead } } }`,
        { code },
      );
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors![0].extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
      expect(answer.errors![0].path).toEqual(expect.arrayContaining(['householdHistory', 'relationshipToHead']));
      expect(JSON.stringify(answer)).not.toMatch(/quan_he|CU_LEGACY|thanh_vien_ho/);
      // The rest of the citizen is served: only the field that holds the unknown code fails.
      const rest = await federation.query<{ citizen: { personalCode: string; fullName: string } }>(
        `query($code: PersonalCode!) { citizen(personalCode: $code) { personalCode fullName householdHistory { from to } } }`,
        { code },
      );
      expect(rest.errors).toBeUndefined();
      expect(rest.data!.citizen.personalCode).toBe(code);
    } finally {
      await f.residents.query('DELETE FROM thanh_vien_ho WHERE id = $1', [inserted.rows[0].id]);
    }
  });
});
