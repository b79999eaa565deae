import { boundBulk } from '../lib/audit/bulk';
import { createAuditWriter } from '../lib/audit/writer';
import { auditEntry, codeNumber, scratchAuditStore, type ScratchAuditStore } from './support/audit';

/** The per-request bound on audit records of bulk reads: the first N persons one by one, the rest summarised. */
const reads = (persons: number, overrides: Parameters<typeof auditEntry>[0] = {}) =>
  Array.from({ length: persons }, (_, i) => auditEntry({ requestId: 'bulk', personalCode: codeNumber(i), ...overrides }));

describe('boundBulk', () => {
  it('keeps a request within the bound as it is', () => {
    const entries = reads(100);
    expect(boundBulk(entries, 100)).toEqual(entries);
  });

  it('keeps the first N persons and summarises the rest in one record per kind of access', () => {
    const entries = [
      ...reads(150, { classes: ['BASIC_IDENTITY'] }),
      // The same persons from a second agency, and a refusal that names no one.
      ...reads(150, { agency: 'national-id', operation: '_entities', classes: ['BASIC_IDENTITY', 'AUDIT'].sort() }),
      auditEntry({ requestId: 'bulk', action: 'REFUSED', outcome: 'DENIED', personalCode: null, classes: [] }),
    ];
    entries[120] = { ...entries[120], classes: ['RESIDENCE'] };
    const bounded = boundBulk(entries, 100);
    const individual = bounded.filter((e) => e.personalCode !== null);
    // Both agencies' records of the first 100 persons are kept, and nobody else's.
    expect(new Set(individual.map((e) => e.personalCode))).toEqual(new Set(reads(100).map((e) => e.personalCode)));
    expect(individual).toHaveLength(200);
    const summaries = bounded.filter((e) => e.bulkCount !== undefined);
    expect(summaries).toEqual([
      expect.objectContaining({ agency: 'residents', operation: 'citizen', personalCode: null, bulkCount: 50, classes: ['BASIC_IDENTITY', 'RESIDENCE'], requestId: 'bulk' }),
      expect.objectContaining({ agency: 'national-id', operation: '_entities', personalCode: null, bulkCount: 50, classes: ['AUDIT', 'BASIC_IDENTITY'] }),
    ]);
    expect(bounded.filter((e) => e.action === 'REFUSED')).toHaveLength(1);
    expect(bounded).toHaveLength(200 + 2 + 1);
  });

  it('counts persons, not records: several records of one person stay individual', () => {
    const twice = [...reads(3), ...reads(3, { agency: 'birth-registry' })];
    expect(boundBulk(twice, 3)).toHaveLength(6);
    expect(boundBulk(twice, 2).filter((e) => e.bulkCount === 1)).toHaveLength(2);
  });

  it('refuses a negative bound', () => {
    expect(() => boundBulk(reads(1), -1)).toThrow(RangeError);
  });
});

describe('the writer applies the bound per record() call', () => {
  let store: ScratchAuditStore;
  beforeAll(async () => {
    store = await scratchAuditStore('bulk');
  });
  afterAll(async () => store?.drop());

  it('stores 100 individual records and one summary for a request of 10,000 persons (default bound)', async () => {
    const writer = createAuditWriter({ url: store.url });
    await writer.record(reads(10_000));
    await writer.close();
    const { rows } = await store.pool.query(
      `SELECT count(*) FILTER (WHERE personal_code IS NOT NULL)::int AS individual, array_agg(bulk_count) FILTER (WHERE bulk_count IS NOT NULL) AS summaries FROM audit_log`,
    );
    expect(rows[0]).toEqual({ individual: 100, summaries: [9900] });
  });

  it('takes its bound from the options', async () => {
    const writer = createAuditWriter({ url: store.url, perRequestLimit: 5 });
    await writer.record(reads(8, { requestId: 'small-bound' }));
    await writer.close();
    const { rows } = await store.pool.query(`SELECT personal_code, bulk_count FROM audit_log WHERE request_id = 'small-bound' ORDER BY seq`);
    expect(rows).toHaveLength(6);
    expect(rows[5]).toEqual({ personal_code: null, bulk_count: 3 });
  });
});
