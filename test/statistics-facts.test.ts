import crypto from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { copyAll, readByKeys, value, writeRows, type Fact } from '../subgraphs/statistics/facts';
import { pseudonymiser } from '../subgraphs/statistics/pseudonyms';
import type { SourcePools } from '../subgraphs/statistics/refresh';
import { testDatabases } from './support/databases';

/**
 * The two ways the statistics refresh writes facts (subgraphs/statistics/facts.ts): a rebuild streams the source's
 * COPY text through, split at tabs and newlines, its values passed on still escaped; a refresh reads rows by key with a
 * query and writes them with COPY. Both must store the same values, whatever characters they hold, and the stream must
 * not lose or break a row where a chunk of COPY text ends (in the middle of a line, or of a character).
 */
const pseudonyms = pseudonymiser(crypto.randomBytes(32));
let source: Pool;
let store: Pool;

beforeAll(() => {
  const { urls, statisticsUrl } = testDatabases();
  source = new Pool({ connectionString: urls.residents, max: 2 });
  store = new Pool({ connectionString: statisticsUrl, max: 1 });
});

afterAll(async () => {
  await Promise.all([source.end(), store.end()]);
});

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** A fact over rows the test makes up (a SELECT of its own), into a temporary table. */
function factOver(select: string): Fact {
  return {
    table: 'facts_under_test',
    source: 'residents',
    select: `SELECT code, district, nothing FROM (${select}) v`,
    key: { column: 'code', type: 'char(12)' },
    columns: [
      ['pid', { pid: (row) => value(row, 0) }],
      ['rk', { rk: (row) => value(row, 0) as string }],
      ['district', { text: (row) => row[1] }],
      ['nothing', { text: (row) => row[2] }],
    ],
  };
}

interface Stored {
  pid: Buffer;
  rk: number;
  district: string | null;
  nothing: string | null;
}

/** What each way stores, in a temporary table of a transaction that is rolled back. */
async function storedBy(way: 'rebuild' | 'refresh', fact: Fact, keys: string[]): Promise<Stored[]> {
  const client: PoolClient = await store.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE TEMPORARY TABLE facts_under_test (pid bytea, rk smallint, district text, nothing text) ON COMMIT DROP');
    if (way === 'rebuild') {
      const written = await copyAll(client, { residents: source } as SourcePools, fact, pseudonyms);
      expect(written).toBe(keys.length);
    } else {
      await writeRows(client, fact, await readByKeys(source, fact, keys), pseudonyms);
    }
    const { rows } = await client.query<Stored>('SELECT pid, rk, district, nothing FROM facts_under_test ORDER BY pid');
    return rows;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('facts written by a rebuild and by a refresh', () => {
  it('are the same, values with tabs, newlines, backslashes, a literal \\N and non-Latin letters included', async () => {
    const districts = ['Quận\t1', 'back\\slash', 'line\nbreak', 'carriage\rreturn', '\\N', 'Đống Đa', '', 'tab at end\t', '\\'];
    const codes = districts.map((_, i) => `0012000000${String(i).padStart(2, '0')}`);
    const fact = factOver(`SELECT * FROM (VALUES ${districts.map((d, i) => `(${literal(codes[i])}, ${literal(d)}, NULL::text)`).join(', ')}) x(code, district, nothing)`);
    const rebuilt = await storedBy('rebuild', fact, codes);
    const refreshed = await storedBy('refresh', fact, codes);
    expect(refreshed).toEqual(rebuilt);
    // Each value as the source holds it: the literal string \N is not null, and nothing else is.
    const byPid = new Map(rebuilt.map((r) => [r.pid.toString('hex'), r]));
    codes.forEach((code, i) => {
      const row = byPid.get(pseudonyms.pid(code).toString('hex'));
      expect(row).toEqual({ pid: pseudonyms.pid(code), rk: pseudonyms.recordKey(code), district: districts[i], nothing: null });
    });
  });

  it('are the same over many chunks of COPY text, lines and multi-byte characters cut at chunk ends', async () => {
    const n = 60_000; // some 3 MB of COPY text: a dozen batches, each cut wherever the chunks end
    const fact = factOver(`SELECT lpad(g::text, 12, '0') AS code, 'Phường Đống Đa ' || g AS district, CASE WHEN g % 3 = 0 THEN 'ba' END AS nothing
                             FROM generate_series(1, ${n}) g`);
    const codes = Array.from({ length: n }, (_, i) => String(i + 1).padStart(12, '0'));
    const rebuilt = await storedBy('rebuild', fact, codes);
    expect(rebuilt).toHaveLength(n);
    const refreshed = await storedBy('refresh', fact, codes);
    expect(refreshed).toEqual(rebuilt);
    const sample = rebuilt.find((r) => r.pid.equals(pseudonyms.pid(codes[29_999])));
    expect(sample).toEqual({ pid: pseudonyms.pid(codes[29_999]), rk: pseudonyms.recordKey(codes[29_999]), district: 'Phường Đống Đa 30000', nothing: 'ba' });
  });

  it('a source whose COPY fails (a value the store refuses) fails the rebuild, and the connection is not given back broken', async () => {
    const fact = factOver(`SELECT '001200000001' AS code, 'x' AS district, NULL AS nothing`);
    fact.columns = [...fact.columns.slice(0, 3), ['nothing', { text: () => 'not-a-number' }]];
    const client = await store.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMPORARY TABLE facts_under_test (pid bytea, rk smallint, district text, nothing int) ON COMMIT DROP');
      await expect(copyAll(client, { residents: source } as SourcePools, fact, pseudonyms)).rejects.toThrow(/invalid input syntax for type integer/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    // The source pool still answers.
    expect((await source.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
