import { Pool } from 'pg';
import { migrate } from '../tools/migrate';
import { createOutboxShipper } from '../lib/audit/outbox';
import { findUnrecordedWrites } from '../tools/audit/verify';
import { createAuditWriter } from '../lib/audit/writer';
import { AGENCIES, type Agency } from '../lib/agencies';
import { startFaultyProxy, type FaultyProxy } from './support/faulty-proxy';
import { eventually } from './support/eventually';
import { startFederation, type TestFederation } from './support/federation';
import { livingCardHoldersWithBirth, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases, withScratchDatabase } from './support/databases';
import { runAuditVerify, scratchAuditStore, type ScratchAuditStore } from './support/audit';

/**
 * Writes are recorded by the agency that commits them: its change log, written in the write's own
 * transaction, is the outbox of WRITE records, shipped to the audit store whatever became of the response.
 */
const residents = AGENCIES.find((a) => a.id === 'residents')!;

/** A change-log entry committed as a registrar's write would commit it (lib/change-log.ts), without any response. */
const commitChange = (pool: Pool, requestId: string, code: string | null, role: string | null = 'REGISTRAR') =>
  pool
    .query(
      `INSERT INTO cg_nhat_ky_thay_doi (nguoi_thuc_hien, ma_yeu_cau, thao_tac, bang, khoa, so_dinh_danh, vai_tro, muc_dich, co_quan_goi, so_ho_so)
       VALUES ('registrar:outbox', $1, 'MOVE_OUT', 'dang_ky_cu_tru', '1', $2, $3, 'CIVIL_REGISTRATION', 'residents', NULL) RETURNING id::text AS id`,
      [requestId, code, role],
    )
    .then((r) => r.rows[0].id as string);

describe('the outbox shipper', () => {
  let store: ScratchAuditStore;
  beforeAll(async () => {
    store = await scratchAuditStore('outbox');
  });
  afterAll(async () => store?.drop());

  it('ships a committed change nobody answered for as one WRITE record, once, and verify finds none missing', async () => {
    await withScratchDatabase('outbox_residents', async (url) => {
      await migrate(url, residents.migrationsDir);
      const agencyPool = new Pool({ connectionString: url, max: 2 });
        agencyPool.on('error', () => undefined); // the scratch database's forced drop may end an idle connection
      const writer = createAuditWriter({ url: store.url });
      const shipper = createOutboxShipper({ agency: 'residents', pool: agencyPool, sink: writer, intervalMs: 0 });
      try {
        const id = await commitChange(agencyPool, 'dropped-answer', '001200000042');
        await commitChange(agencyPool, 'unsealed', null, null); // no principal: not an audited write
        // Not shipped yet: verify names it.
        const missing = await findUnrecordedWrites(store.pool, [{ agency: 'residents', pool: agencyPool }]);
        expect(missing.map((p) => [p.kind, p.message])).toEqual([
          ['UNRECORDED_WRITE', `residents change-log entry ${id} (MOVE_OUT, request dropped-answer): no WRITE record in the audit store`],
        ]);
        expect(await shipper.flush()).toBe(1);
        const { rows } = await store.pool.query(`SELECT request_id, subject, role, purpose, caller_agency, agency, action, operation, persons, classes, outcome, change_ref FROM audit_log`);
        expect(rows).toEqual([
          {
            request_id: 'dropped-answer',
            subject: 'registrar:outbox',
            role: 'REGISTRAR',
            purpose: 'CIVIL_REGISTRATION',
            caller_agency: 'residents',
            agency: 'residents',
            action: 'WRITE',
            operation: 'MOVE_OUT',
            persons: ['001200000042'],
            classes: ['RESIDENCE'],
            outcome: 'OK',
            change_ref: `residents:${id}`,
          },
        ]);
        expect(await findUnrecordedWrites(store.pool, [{ agency: 'residents', pool: agencyPool }])).toEqual([]);
        // Marked shipped: nothing to ship again. Shipped twice anyway (a crash before the mark): recorded once.
        expect(await shipper.flush()).toBe(0);
        await agencyPool.query('DELETE FROM cg_nhat_ky_da_chuyen');
        expect(await shipper.flush()).toBe(1);
        expect((await store.pool.query(`SELECT count(*)::int AS n FROM audit_log`)).rows[0].n).toBe(1);
      } finally {
        await shipper.stop();
        await writer.close();
        await agencyPool.end();
      }
    });
  });
});

/** Runs `fn` with a scratch database for each of `agencies`, all dropped afterwards. */
async function withScratchAgencyDatabases(
  prefix: string,
  agencies: readonly Agency[],
  urls: Partial<Record<Agency['id'], string>>,
  fn: (urls: Record<Agency['id'], string>) => Promise<void>,
): Promise<void> {
  if (agencies.length === 0) return fn(urls as Record<Agency['id'], string>);
  const [agency, ...rest] = agencies;
  await withScratchDatabase(`${prefix}_${agency.database}`, (url) => withScratchAgencyDatabases(prefix, rest, { ...urls, [agency.id]: url }, fn));
}

describe('npm run audit:verify --agency-databases', () => {
  it('reports a change-log entry without its WRITE record (exit 1), and passes once it is shipped', async () => {
    const store = await scratchAuditStore('outbox_verify');
    try {
      // A scratch database for every agency, each migrated: audit:verify --agency-databases reads them all.
      await withScratchAgencyDatabases('outbox_verify', AGENCIES, {}, async (urls) => {
        for (const agency of AGENCIES) await migrate(urls[agency.id], agency.migrationsDir);
        const env = Object.fromEntries(AGENCIES.map((agency) => [`${agency.envPrefix}_DATABASE_URL`, urls[agency.id]]));
        const run = () => runAuditVerify(store.url, ['--no-checkpoints', '--agency-databases', '--change-grace-seconds', '0'], env);
        const agencyPool = new Pool({ connectionString: urls.residents, max: 1 });
        agencyPool.on('error', () => undefined);
        const writer = createAuditWriter({ url: store.url });
        try {
          const id = await commitChange(agencyPool, 'never-shipped', '001200000044');
          const missing = await run();
          expect(missing.code).toBe(1);
          expect(missing.stdout).toBe(`residents change-log entry ${id} (MOVE_OUT, request never-shipped): no WRITE record in the audit store\n`);
          await createOutboxShipper({ agency: 'residents', pool: agencyPool, sink: writer, intervalMs: 0 }).flush();
          const shipped = await run();
          expect(shipped.stdout).toMatch(/^audit chain intact: 1 records/);
          expect(shipped.code).toBe(0);
        } finally {
          await writer.close();
          await agencyPool.end();
        }
      });
    } finally {
      await store.drop();
    }
  }, 120_000);
});

describe('the outbox timer', () => {
  it('ships on its own every intervalMs, without any request', async () => {
    const store = await scratchAuditStore('outbox_timer');
    try {
      await withScratchDatabase('outbox_timer_residents', async (url) => {
        await migrate(url, residents.migrationsDir);
        const agencyPool = new Pool({ connectionString: url, max: 2 });
        agencyPool.on('error', () => undefined); // the scratch database's forced drop may end an idle connection
        const writer = createAuditWriter({ url: store.url });
        const shipper = createOutboxShipper({ agency: 'residents', pool: agencyPool, sink: writer, intervalMs: 100 });
        try {
          shipper.start();
          const id = await commitChange(agencyPool, 'timer', '001200000043');
          const refs = await eventually(
            async () => (await store.pool.query(`SELECT change_ref FROM audit_log`)).rows.map((r) => r.change_ref as string),
            (found) => found.length > 0,
          );
          expect(refs).toEqual([`residents:${id}`]);
        } finally {
          await shipper.stop();
          await writer.close();
          await agencyPool.end();
        }
      });
    } finally {
      await store.drop();
    }
  });
});

describe('writes through the federation', () => {
  let federation: TestFederation;
  let proxy: FaultyProxy;
  let f: Fixtures;
  let audit: Pool;
  let subjects: string[];

  beforeAll(async () => {
    federation = await startFederation({
      routeThrough: {
        residents: async (url) => {
          proxy = await startFaultyProxy(url);
          return proxy.url;
        },
      },
    });
    f = openFixtures();
    audit = new Pool({ connectionString: testDatabases().auditUrl, max: 2 });
    subjects = await livingCardHoldersWithBirth(f, 'audit-outbox', 3);
  });
  afterAll(async () => {
    await federation?.stop();
    await proxy?.stop();
    await f?.end();
    await audit?.end();
  });

  const writesOf = async (requestId: string) =>
    (await audit.query(`SELECT agency, operation, persons, change_ref FROM audit_log WHERE request_id = $1 AND action = 'WRITE' AND change_ref IS NOT NULL`, [requestId])).rows;

  it('a write whose answer never reaches the gateway has its WRITE record', async () => {
    proxy.mode = 'lose-answers';
    const requestId = `outbox-lost-${Date.now()}`;
    const response = await federation.query<any>(
      `mutation ($code: PersonalCode!) { registerTemporaryResidence(personalCode: $code, address: { provinceCode: "031", district: "Quận Lê Chân", ward: "Phường An Biên", street: "3 Tô Hiệu" }, from: "2026-11-02") { personalCode } }`,
      { code: subjects[0] },
      { 'x-actor': 'registrar:outbox', 'x-request-id': requestId },
    );
    proxy.mode = 'pass';
    expect(response.errors?.length).toBeGreaterThan(0); // the gateway never heard of the write
    // The subgraph shipped it right after the commit (and its timer would have, later).
    const writes = await eventually(() => writesOf(requestId), (found) => found.length > 0);
    expect(writes).toEqual([{ agency: 'residents', operation: 'REGISTER_TEMPORARY_RESIDENCE', persons: [subjects[0]], change_ref: expect.stringMatching(/^residents:\d+$/) }]);
  });

  it('registerBirth without selecting the child leaves its WRITE record before the answer', async () => {
    const requestId = `outbox-birth-${Date.now()}`;
    const response = await federation.query<any>(
      `mutation ($i: RegisterBirthInput!) { registerBirth(input: $i) { status } }`,
      {
        i: {
          idempotencyKey: `7f1c2a0e-4e1b-4d7e-9a55-${String(Date.now()).padStart(12, '0').slice(-12)}`,
          registrationProvinceCode: '031',
          registeringAuthority: 'UBND phường Lê Chân',
          placeOfBirth: 'Bệnh viện Phụ sản Hải Phòng',
          childName: `Nguyễn Thị Hộp Thư ${Date.now()}`,
          childSex: 'FEMALE',
          childDateOfBirth: '2026-11-20',
          ethnicity: 'Kinh',
          mother: { name: 'Lê Thị Hoa', nationality: 'VN' },
        },
      },
      { 'x-actor': 'registrar:outbox-birth', 'x-request-id': requestId },
    );
    expect(response.errors).toBeUndefined();
    expect(await writesOf(requestId)).toEqual(
      expect.arrayContaining([{ agency: 'birth-registry', operation: 'REGISTER_BIRTH', persons: [], change_ref: expect.stringMatching(/^birth-registry:\d+$/) }]),
    );
  });
});
