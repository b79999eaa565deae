import { Pool } from 'pg';
import { startFederation, type TestFederation } from './support/federation';
import { bearer, PERSONAS } from './support/tokens';
import { testDatabases } from './support/databases';
import { csvField, statisticsCsv } from '../gateway/statistics-csv';

/**
 * Statistics as CSV (gateway/statistics-csv.ts) over real HTTP: `Accept: text/csv` on the GraphQL endpoint gives
 * the same table as the JSON answer, with its perturbation noted, after the same token, policy, audit record and
 * budget; errors stay JSON with their status and code.
 */
const BUDGET = 3;

let federation: TestFederation;
let audit: Pool;
let endpoint: string;

beforeAll(async () => {
  // A small budget, so one analyst can spend it; every test below has an analyst (a `sub`) of its own.
  federation = await startFederation({ statisticsEnv: { STATISTICS_QUERY_BUDGET: String(BUDGET), STATISTICS_QUERY_BUDGET_PERIOD_S: '3600' } });
  audit = new Pool({ connectionString: testDatabases().auditUrl, max: 1 });
  endpoint = `${federation.gatewayBase}/graphql`;
  await federation.statistics.refresh();
});

afterAll(async () => {
  await audit?.end();
  await federation?.stop();
});

let analysts = 0;
const analyst = () => bearer({ ...PERSONAS.analyst, sub: `test:analyst:csv-${Date.now()}-${++analysts}` });
const subjectOf = (headers: Record<string, string>) => JSON.parse(Buffer.from(headers.authorization.split('.')[1], 'base64url').toString()).sub as string;

const PYRAMID = `{ populationStatistics(groupBy: [AGE_BAND, SEX], filter: [{ dimension: RESIDENCE_PROVINCE, values: ["001"] }], asOf: "2026-01-01") {
  measure asOf dataAsOf cells { values { dimension code label } count } total disclosure { method threshold maxPerturbation note } } }`;

async function post(query: string, headers: Record<string, string>, accept = 'text/csv') {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', disposition: response.headers.get('content-disposition'), text: await response.text() };
}

/** RFC 4180 parsing of the non-comment lines, enough for the tests: quoted fields with doubled quotes, CRLF. */
function parseCsv(text: string): { comments: string[]; rows: string[][] } {
  const comments: string[] = [];
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    if (row.length === 0 && field === '' && !quoted && text[i] === '#') {
      const end = text.indexOf('\r\n', i);
      comments.push(text.slice(i, end));
      i = end + 2;
      continue;
    }
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (field += c), i++;
    } else if (c === '"') (quoted = true), i++;
    else if (c === ',') row.push(field), (field = ''), i++;
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      (row = []), (field = ''), (i += 2);
    } else (field += c), i++;
  }
  return { comments, rows };
}

interface Table {
  measure: string;
  cells: { values: { dimension: string; code: string; label: string | null }[]; count: number }[];
  total: number;
  disclosure: { threshold: number; maxPerturbation: number; note: string };
}

describe('Accept: text/csv on a statistics query', () => {
  it('gives the JSON answer\'s table as CSV: a header, one row per cell, the same counts, the perturbation noted', async () => {
    const headers = await analyst();
    const json = await post(PYRAMID, headers, 'application/json');
    expect(json.status).toBe(200);
    const table = (JSON.parse(json.text) as { data: { populationStatistics: Table } }).data.populationStatistics;
    expect(table.cells.length).toBeGreaterThan(10);

    const csv = await post(PYRAMID, headers);
    expect(csv.status).toBe(200);
    expect(csv.type).toBe('text/csv; charset=utf-8');
    expect(csv.disposition).toBe('attachment; filename=populationStatistics-2026-01-01.csv');
    const { comments, rows } = parseCsv(csv.text);
    expect(rows[0]).toEqual(['AGE_BAND', 'AGE_BAND_label', 'SEX', 'SEX_label', 'count']);
    expect(rows.slice(1)).toEqual(table.cells.map((c) => [c.values[0].code, c.values[0].label ?? '', c.values[1].code, c.values[1].label ?? '', String(c.count)]));
    expect(comments).toContain(`# perturbation: CELL_KEY_PERTURBATION, threshold ${table.disclosure.threshold}, max perturbation ${table.disclosure.maxPerturbation}`);
    expect(comments).toContain(`# note: ${table.disclosure.note}`);
    expect(comments).toContain(`# total: ${table.total} (the sum of the published counts)`);
    expect(comments).toContain('# asOf: 2026-01-01');
  });

  it('notes the perturbation even when the query did not ask for `disclosure`, and takes GET with the query in the URL', async () => {
    const headers = await analyst();
    const query = '{ birthStatistics(groupBy: [BIRTH_MONTH], filter: [{ dimension: BIRTH_YEAR, values: ["2025"] }]) { cells { values { code } count } } }';
    const response = await fetch(`${endpoint}?query=${encodeURIComponent(query)}`, { headers: { accept: 'text/csv', 'apollo-require-preflight': 'true', ...headers } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const { comments, rows } = parseCsv(await response.text());
    expect(comments.some((c) => c.startsWith('# perturbation: CELL_KEY_PERTURBATION'))).toBe(true);
    expect(comments.some((c) => c.startsWith('# note: every count is perturbed'))).toBe(true);
    expect(rows[0]).toEqual(['dimension1', 'count']);
    expect(rows.length).toBeGreaterThan(1);
    for (const [month, count] of rows.slice(1)) {
      expect(month).toMatch(/^2025-(0[1-9]|1[0-2])$/);
      expect(Number(count)).toBeGreaterThan(0);
    }
  });

  it('is audited exactly as the JSON answer, and spends the same budget (then 429 RATE_LIMITED, as JSON)', async () => {
    const headers = await analyst();
    const query = '{ deathStatistics(groupBy: [SEX], asOf: "2025-12-31") { cells { values { code } count } } }';
    for (let i = 0; i < BUDGET - 1; i++) expect((await post(query, headers)).status).toBe(200);
    expect((await post(query, headers, 'application/json')).status).toBe(200);
    const over = await post(query, headers);
    expect(over.status).toBe(429);
    expect(over.type).toMatch(/^application\/json/);
    expect(JSON.parse(over.text).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUERY_BUDGET_EXHAUSTED' });
    const { rows } = await audit.query(`SELECT role, purpose, agency, action, operation, persons, outcome FROM audit_log WHERE subject = $1 AND outcome = 'OK'`, [subjectOf(headers)]);
    const record = { role: 'ANALYST', purpose: 'STATISTICS', agency: 'statistics', action: 'READ', operation: 'deathStatistics groupBy=SEX asOf=2025-12-31', persons: [], outcome: 'OK' };
    expect(rows).toEqual(Array.from({ length: BUDGET }, () => record));
  });

  it('keeps errors JSON with their status and code: no token 401, a clerk 403, bad input 400', async () => {
    const query = '{ populationStatistics(groupBy: [SEX]) { cells { count } } }';
    const anonymous = await post(query, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/^application\/json/);
    expect(JSON.parse(anonymous.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');

    const clerk = await post(query, await bearer(PERSONAS.clerk));
    expect(clerk.status).toBe(403);
    expect(JSON.parse(clerk.text).errors[0].extensions.code).toBe('FORBIDDEN');

    const headers = await analyst();
    const bad = await post('{ populationStatistics(groupBy: [SEX], filter: [{ dimension: SEX, values: ["X"] }]) { cells { count } } }', headers);
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/^application\/json/);
    expect(JSON.parse(bad.text).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_FILTER_VALUE' });
    const future = await post('{ populationStatistics(groupBy: [SEX], asOf: "2999-01-01") { cells { count } } }', headers);
    expect(JSON.parse(future.text).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DATE_IN_FUTURE' });
  });

  it('refuses 406 NOT_ACCEPTABLE, before anything runs, what is not one statistics table: two tables, aliases included, or a citizen', async () => {
    const headers = await analyst();
    for (const query of [
      '{ a: populationStatistics(groupBy: [SEX]) { total } b: populationStatistics(groupBy: [AGE_BAND]) { total } }',
      '{ populationStatistics(groupBy: [SEX]) { total } ...F } fragment F on Query { birthStatistics(groupBy: [SEX]) { total } }',
      '{ populationStatistics(groupBy: [SEX]) { total } __typename }',
    ]) {
      const refused = await post(query, headers);
      expect(refused.status).toBe(406);
      expect(refused.type).toMatch(/^application\/json/);
      expect(JSON.parse(refused.text)).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'NOT_ACCEPTABLE', reason: 'CSV_NEEDS_ONE_STATISTICS_TABLE' } })] });
    }
    // Nothing ran: no table was audited for this analyst, and their whole budget is left.
    const { rows } = await audit.query(`SELECT 1 FROM audit_log WHERE subject = $1 AND action = 'READ' AND outcome = 'OK'`, [subjectOf(headers)]);
    expect(rows).toEqual([]);
    for (let i = 0; i < BUDGET; i++) expect((await post('{ populationStatistics(groupBy: [SEX]) { total } }', headers)).status).toBe(200);

    // A citizen's record asked as CSV by someone who may read it: still one table or nothing.
    const citizen = await post('{ citizen(personalCode: "001200342514") { fullName } }', await bearer(PERSONAS.investigator));
    expect(citizen.status).toBe(406);
    expect(citizen.text).not.toContain('fullName"');
  });

  it('answers JSON when the client prefers JSON or accepts anything', async () => {
    const headers = await analyst();
    for (const accept of ['*/*', 'application/json, text/csv', 'application/graphql-response+json;q=1, text/csv;q=0.5']) {
      const response = await post('{ populationStatistics(groupBy: [SEX]) { total } }', headers, accept);
      expect(`${accept}: ${response.status} ${response.type.split(';')[0]}`).toMatch(new RegExp(`^${accept.replace(/[*+.?^$()[\]]/g, '\\$&')}: 200 application/(json|graphql-response\\+json)$`));
    }
  });
});

describe('the CSV writer', () => {
  it('quotes commas, quotes and line breaks, and keeps a label from running as a spreadsheet formula', () => {
    expect(csvField('Hà Nội')).toBe('Hà Nội');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "x"')).toBe('"say ""x"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(csvField(0)).toBe('0');
    expect(csvField(null)).toBe('');
  });

  it('writes a table with no cells as its header only, and keeps line breaks out of the comments', () => {
    const csv = statisticsCsv('birthStatistics', { dimensions: ['PROVINCE', 'SEX'], cells: [], disclosure: { note: 'a\nb' } });
    expect(csv.split('\r\n')).toEqual(['# birthStatistics', '# perturbation: CELL_KEY_PERTURBATION', '# note: a b', 'PROVINCE,SEX,count', '']);
  });
});
