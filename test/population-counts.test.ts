import { Client } from 'pg';
import { agency } from '../lib/agencies';
import { migrate } from '../tools/migrate';
import { testDatabases } from './support/databases';

/**
 * cg_thong_ke_dan_so stays exact whoever writes cong_dan: inserts (one row or a whole COPY-sized batch),
 * a death, a correction of the year of birth, a deletion. Checked against a full count after each write.
 */
let client: Client;
const DATABASE = 'population_counts';

beforeAll(async () => {
  const { adminUrl } = testDatabases();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const url = adminUrl.replace(/\/postgres$/, `/${DATABASE}`);
  await migrate(url, agency('residents').migrationsDir);
  client = new Client({ connectionString: url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
});

async function countsMatchTheTable() {
  const { rows: kept } = await client.query(
    'SELECT ma_tinh, gioi_tinh, thap_ky, so_luong::int AS n FROM cg_thong_ke_dan_so WHERE so_luong <> 0 ORDER BY 1, 2, 3',
  );
  const { rows: counted } = await client.query(
    `SELECT substr(so_dinh_danh, 1, 3) AS ma_tinh, gioi_tinh, (extract(year FROM ngay_sinh)::int / 10) * 10 AS thap_ky, count(*)::int AS n
       FROM cong_dan WHERE ngay_mat IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  expect(kept).toEqual(counted);
  return kept;
}

// A citizen's code is in the register of codes before the record is (foreign key).
const register = (codes: string) =>
  client.query(`INSERT INTO so_dinh_danh (so_dinh_danh, so_dinh_danh_hien_hanh, trang_thai) SELECT c, c, 'HIEU_LUC' FROM (${codes}) AS t(c)`);

const insert = async (code: string, born: string, sex: number) => {
  await register(`VALUES ('${code}')`);
  await client.query(`INSERT INTO cong_dan (so_dinh_danh, ho_ten, ngay_sinh, gioi_tinh, dan_toc) VALUES ($1, 'Nguyễn Văn A', $2, $3, 'Kinh')`, [
    code,
    born,
    sex,
  ]);
};

describe('population counts kept by triggers', () => {
  it('count inserted citizens, one by one and in a batch', async () => {
    await insert('031090000001', '1990-05-01', 1);
    await insert('031190000002', '1991-05-01', 2);
    await register(`SELECT '001' || lpad(n::text, 9, '0') FROM generate_series(1, 500) n`);
    await client.query(
      `INSERT INTO cong_dan (so_dinh_danh, ho_ten, ngay_sinh, gioi_tinh, dan_toc)
       SELECT '001' || lpad(n::text, 9, '0'), 'Trần Thị B', date '1985-01-01' + n, 1 + n % 2, 'Kinh' FROM generate_series(1, 500) n`,
    );
    const counts = await countsMatchTheTable();
    expect(counts.reduce((sum, row) => sum + row.n, 0)).toBe(502);
  });

  it('follow a death, a corrected year of birth and a deletion', async () => {
    await client.query(`UPDATE cong_dan SET ngay_mat = '2020-01-01' WHERE so_dinh_danh = '031090000001'`);
    await client.query(`UPDATE cong_dan SET ngay_sinh = '2001-05-01' WHERE so_dinh_danh = '031190000002'`);
    await client.query(`DELETE FROM cong_dan WHERE so_dinh_danh LIKE '001%' AND gioi_tinh = 2`);
    const counts = await countsMatchTheTable();
    expect(counts.reduce((sum, row) => sum + row.n, 0)).toBe(251);
    expect(counts).toContainEqual({ ma_tinh: '031', gioi_tinh: 2, thap_ky: 2000, n: 1 });
  });
});
