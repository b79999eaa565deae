import { citizenAccessLog, searchAuditLog, AuditSearchError, type AuditFilter } from '../lib/audit/search';
import { createAuditWriter, type AuditWriter } from '../lib/audit/writer';
import { auditEntry, codeNumber, scratchAuditStore, storeTimeFrom, type ScratchAuditStore } from './support/audit';

/** Searching the audit log: filters, newest first, keyset pages, and the citizen's own view of it. */
const ANNA = '001300000001';
const BINH = '001200000002';
// In the future: the store dates records itself, never earlier than its last record; moving that time
// forward (storeTimeFrom) dates the records that follow, so the test knows every record's time.
const t = (minute: number) => new Date(Date.UTC(2099, 11, 1, 8, minute));

let store: ScratchAuditStore;
let writer: AuditWriter;

beforeAll(async () => {
  store = await scratchAuditStore('search');
  writer = createAuditWriter({ url: store.url });
  // 30 accesses to Anna, alternating agencies and officials, one minute apart; minute 10 twice (a tie).
  for (let m = 0; m < 30; m += 1) {
    await storeTimeFrom(store, t(m === 11 ? 10 : m));
    await writer.record([
      auditEntry({
        requestId: `anna-${m}`,
        persons: [ANNA],
        agency: m % 2 === 0 ? 'residents' : 'national-id',
        subject: m % 3 === 0 ? 'police:inv-7' : 'clerk:hp-01',
        role: m % 3 === 0 ? 'INVESTIGATOR' : 'CLERK',
        purpose: m % 3 === 0 ? 'CRIMINAL_CASE' : 'SERVICE_COUNTER',
        classes: m % 3 === 0 ? ['BASIC_IDENTITY', 'SENSITIVE'] : ['BASIC_IDENTITY'],
      }),
    ]);
    if (m === 5) {
      // Binh alone, then a record of 500 others (a bulk read names them all).
      await writer.record([
        auditEntry({ requestId: 'binh-0', persons: [BINH] }),
        auditEntry({ requestId: 'bulk', persons: Array.from({ length: 500 }, (_, i) => codeNumber(1000 + i)) }),
      ]);
    }
  }
});

afterAll(async () => {
  await writer?.close();
  await store?.drop();
});

/** Every page of a search, following endCursor. */
async function allPages(filter: Omit<AuditFilter, 'after'>) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await searchAuditLog(store.pool, { ...filter, after });
    seen.push(...page.entries.map((e) => e.requestId));
    if (!page.pageInfo.hasNextPage) return seen;
    after = page.pageInfo.endCursor;
  }
  throw new Error('no last page');
}

const annaNewestFirst = () =>
  // Minutes 29..0, with 11 (recorded at minute 10, after request 10) just before 10.
  [...Array.from({ length: 18 }, (_, i) => 29 - i).filter((m) => m !== 11), 11, 10, ...Array.from({ length: 10 }, (_, i) => 9 - i)].map((m) => `anna-${m}`);

describe('searchAuditLog', () => {
  it("walks a person's log newest first in pages, ties broken by position in the chain, nothing skipped or repeated", async () => {
    expect(await allPages({ personalCode: ANNA, first: 4 })).toEqual(annaNewestFirst());
    const first = await searchAuditLog(store.pool, { personalCode: ANNA, first: 2 });
    expect(first.entries.map((e) => e.at)).toEqual([t(29), t(28)]);
    expect(first.entries[0]).toMatchObject({ persons: [ANNA], subject: 'clerk:hp-01', agency: 'national-id' });
    expect(first.pageInfo.hasNextPage).toBe(true);
  });

  it('keeps its pages when newer records are appended while a client pages through', async () => {
    const page1 = await searchAuditLog(store.pool, { personalCode: ANNA, first: 5 });
    await storeTimeFrom(store, t(59));
    await writer.record([auditEntry({ requestId: 'anna-late', persons: [ANNA] })]);
    const page2 = await searchAuditLog(store.pool, { personalCode: ANNA, first: 5, after: page1.pageInfo.endCursor });
    expect([...page1.entries, ...page2.entries].map((e) => e.requestId)).toEqual(annaNewestFirst().slice(0, 10));
    expect((await searchAuditLog(store.pool, { personalCode: ANNA, first: 1 })).entries[0].requestId).toBe('anna-late');
  });

  it('filters by agency, subject and a time range [from, to), combined with AND', async () => {
    const police = await allPages({ subject: 'police:inv-7', first: 100 });
    expect(police).toEqual(['anna-27', 'anna-24', 'anna-21', 'anna-18', 'anna-15', 'anna-12', 'anna-9', 'anna-6', 'anna-3', 'anna-0']);
    const residents = await allPages({ agency: 'residents', personalCode: ANNA, from: t(20), to: t(26), first: 2 });
    expect(residents).toEqual(['anna-24', 'anna-22', 'anna-20']);
    const atFive = await allPages({ from: t(5), to: t(6), first: 10 });
    expect(atFive).toEqual(['bulk', 'binh-0', 'anna-5']);
    expect(await allPages({ personalCode: '079000000000', first: 10 })).toEqual([]);
  });

  it('refuses a forged cursor, a page size out of range and a malformed code', async () => {
    const refused = (filter: AuditFilter, reason: string) =>
      expect(searchAuditLog(store.pool, filter)).rejects.toEqual(expect.objectContaining({ name: 'AuditSearchError', reason }));
    await refused({ first: 10, after: 'not-a-cursor' }, 'BAD_CURSOR');
    await refused({ first: 10, after: Buffer.from('["yesterday", 3]').toString('base64url') }, 'BAD_CURSOR');
    await refused({ first: 0 }, 'TOO_MANY_VALUES');
    await refused({ first: 101 }, 'TOO_MANY_VALUES');
    await refused({ first: 10, personalCode: '12' }, 'PERSONAL_CODE_FORMAT');
    await expect(searchAuditLog(store.pool, { first: 10, from: new Date('nope') })).rejects.toBeInstanceOf(AuditSearchError);
  });

  it('has a GIN index behind the personal code filter, which finds every record naming the person', async () => {
    const client = await store.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = (await client.query(`EXPLAIN SELECT * FROM audit_log WHERE persons @> ARRAY['${ANNA}']::char(12)[] ORDER BY at DESC, seq DESC LIMIT 21`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      await client.query('ROLLBACK');
      expect(plan).toMatch(/audit_log_persons_idx/);
    } finally {
      client.release();
    }
    expect(await allPages({ personalCode: codeNumber(1499), first: 10 })).toEqual(['bulk']);
  });

  it.each([
    ['agency', `agency = 'residents'`],
    ['subject', `subject = 'clerk:hp-01'`],
    ['at', `at >= '2099-12-01T08:10:00Z'`],
  ])('has an index in result order behind the %s filter (no sort, no full scan)', async (column, where) => {
    const client = await store.pool.connect();
    try {
      await client.query('BEGIN');
      // A 33-row table is cheapest to scan and sort; forbid those to see whether an ordered index exists.
      await client.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off');
      const plan = (await client.query(`EXPLAIN SELECT * FROM audit_log WHERE ${where} AND (at, seq) < (now(), 1000) ORDER BY at DESC, seq DESC LIMIT 21`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      await client.query('ROLLBACK');
      expect(plan).toMatch(new RegExp(`Index Scan Backward using audit_log_${column}_idx`));
      expect(plan).not.toMatch(/Sort/);
    } finally {
      client.release();
    }
  });
});

describe('citizenAccessLog', () => {
  it("shows a citizen, of their own records only, the agency, action, classes, purpose and time, never who accessed", async () => {
    const page = await citizenAccessLog(store.pool, ANNA, { first: 3 });
    expect(page.entries).toHaveLength(3);
    for (const entry of page.entries) expect(Object.keys(entry).sort()).toEqual(['action', 'agency', 'at', 'classes', 'purpose']);
    expect(page.entries[1]).toEqual({ agency: 'national-id', action: 'READ', classes: ['BASIC_IDENTITY'], purpose: 'SERVICE_COUNTER', at: t(29) });
    expect(JSON.stringify(page)).not.toMatch(/police|clerk|INVESTIGATOR|anna-/);
    const next = await citizenAccessLog(store.pool, ANNA, { first: 3, after: page.pageInfo.endCursor });
    expect(next.entries[0]).toEqual({ agency: 'national-id', action: 'READ', classes: ['BASIC_IDENTITY', 'SENSITIVE'], purpose: 'CRIMINAL_CASE', at: t(27) });
    const binh = await citizenAccessLog(store.pool, BINH, { first: 10 });
    expect(binh.entries.map((e) => e.at)).toEqual([t(5)]);
    expect(binh.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
  });
});
