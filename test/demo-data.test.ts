import { createHash } from 'node:crypto';
import { codeDiscrepancies, parsePersonalCode } from '../lib/personal-code';
import { PROVINCE_CODES, isProvinceCode } from '../lib/provinces';
import { copyLine } from '../tools/demo-data/copy-text';
import { copyValue } from '../lib/copy-text';
import { addYears, dayFromIso } from '../tools/demo-data/dates';
import { generatePopulation } from '../tools/demo-data/generator';
import { Random } from '../tools/demo-data/random';
import { TABLE_COLUMNS, type PopulationBatch, type TableName } from '../tools/demo-data/rows';
import { feistelPermute, PersonalCodeAllocator, UniqueNumberSequence } from '../tools/demo-data/unique-numbers';

/**
 * The demo population without a database: determinism, exact size, valid and unique codes, and the
 * cross-table invariants the subgraphs and the gateway rely on.
 */

const REFERENCE = '2026-11-01';
const REF_DAY = dayFromIso(REFERENCE);
const TABLES = Object.keys(TABLE_COLUMNS) as TableName[];

function populationHash(citizens: number, seed: string): string {
  const hash = createHash('sha256');
  for (const batch of generatePopulation({ citizens, seed })) hash.update(JSON.stringify(batch));
  return hash.digest('hex');
}

function collect(citizens: number, seed: string): PopulationBatch & { households: PopulationBatch[] } {
  const all: PopulationBatch = { cong_dan: [], ho_gia_dinh: [], thanh_vien_ho: [], dang_ky_cu_tru: [], the_can_cuoc: [], dang_ky_khai_sinh: [] };
  const households: PopulationBatch[] = [];
  for (const batch of generatePopulation({ citizens, seed })) {
    households.push(batch);
    for (const table of TABLES) (all[table] as unknown[]).push(...batch[table]);
  }
  return { ...all, households };
}

/**
 * Collects invariant violations (the first few, with the row that broke them) so a test makes one
 * assertion over 20,000 citizens instead of hundreds of thousands of slow expect calls.
 */
class Violations {
  readonly found: string[] = [];
  count = 0;
  check(ok: boolean, what: string, row?: unknown): void {
    if (ok) return;
    this.count++;
    if (this.found.length < 10) this.found.push(row === undefined ? what : `${what}: ${JSON.stringify(row)}`);
  }
  assertNone(): void {
    expect({ count: this.count, first: this.found }).toEqual({ count: 0, first: [] });
  }
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

describe('PRNG and unique numbers', () => {
  it('the PRNG is seeded and reproducible', () => {
    const draw = (seed: string) => {
      const rng = new Random(seed);
      return Array.from({ length: 5 }, () => rng.uint32());
    };
    expect(draw('a')).toEqual(draw('a'));
    expect(draw('a')).not.toEqual(draw('b'));
    const rng = new Random('range');
    const drawn = new Set(Array.from({ length: 10_000 }, () => rng.int(3, 7)));
    expect([...drawn].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('the Feistel permutation is a bijection of the whole domain', () => {
    const keys = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => k * 0x9e3779b1);
    const images = Array.from({ length: 10 * 1000 }, (_, x) => feistelPermute(x, 10, 1000, keys));
    expect(images.every((y) => Number.isInteger(y) && y >= 0 && y < 10_000)).toBe(true);
    expect(new Set(images).size).toBe(10_000);
  });

  it('serials within one prefix are unique without a set, and do not look sequential', () => {
    const allocator = new PersonalCodeAllocator('unit');
    const codes = Array.from({ length: 50_000 }, () => allocator.issue('031215'));
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.every((c) => /^031215\d{6}$/.test(c))).toBe(true);
    // Consecutive issues are far apart: no visible counter.
    const gaps = codes.slice(1, 1001).map((c, i) => Math.abs(Number(c.slice(6)) - Number(codes[i].slice(6))));
    expect(gaps.filter((g) => g < 1000).length).toBeLessThan(20);
    // Another seed walks another permutation.
    expect(new PersonalCodeAllocator('other').issue('031215')).not.toBe(new PersonalCodeAllocator('unit').issue('031215'));
  });

  it('fixed-width numbers are unique and padded', () => {
    const sequence = new UniqueNumberSequence('unit', 'cmnd', 9);
    const numbers = Array.from({ length: 20_000 }, () => sequence.next());
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.every((n) => /^\d{9}$/.test(n))).toBe(true);
  });
});

describe('COPY text', () => {
  it('escapes backslash, tab, newline and carriage return, and writes \\N for null', () => {
    expect(copyValue(null)).toBe('\\N');
    expect(copyValue(12)).toBe('12');
    expect(copyValue('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyValue('Nguyễn Thị Ánh')).toBe('Nguyễn Thị Ánh');
  });

  it('writes the columns in TABLE_COLUMNS order', () => {
    const line = copyLine('thanh_vien_ho', { so_ho: 'HK1', so_dinh_danh: '001', quan_he_chu_ho: 'CON', tu_ngay: '2020-01-02', den_ngay: null });
    expect(line).toBe('HK1\t001\tCON\t2020-01-02\t\\N\n');
  });
});

describe('generatePopulation', () => {
  it('is deterministic: the same seed gives byte-identical output, another seed other people', () => {
    const first = populationHash(2000, 'determinism');
    expect(populationHash(2000, 'determinism')).toBe(first);
    expect(populationHash(2000, 'determinism-2')).not.toBe(first);
  });

  it('generates exactly the requested number of citizens', () => {
    for (const citizens of [0, 1, 2, 7, 9, 1234]) {
      let count = 0;
      for (const batch of generatePopulation({ citizens, seed: 'count' })) {
        expect(batch.cong_dan.length).toBeGreaterThan(0);
        expect(batch.cong_dan.length).toBeLessThanOrEqual(8);
        count += batch.cong_dan.length;
      }
      expect(count).toBe(citizens);
    }
    expect(() => generatePopulation({ citizens: -1, seed: 'x' }).next()).toThrow(RangeError);
  });

  it('a larger population with the same seed starts with the same households', () => {
    const small = [...generatePopulation({ citizens: 300, seed: 'prefix' })];
    const large = [...generatePopulation({ citizens: 600, seed: 'prefix' })];
    expect(large.slice(0, small.length - 1)).toEqual(small.slice(0, -1));
  });
});

describe('a population of 20,000', () => {
  const pop = collect(20_000, 'invariants');
  const citizens = new Map(pop.cong_dan.map((c) => [c.so_dinh_danh, c]));
  const births = new Map(pop.dang_ky_khai_sinh.map((b) => [b.so_dinh_danh_tre!, b]));
  const currentMembership = new Map(pop.thanh_vien_ho.filter((m) => m.den_ngay === null).map((m) => [m.so_dinh_danh, m]));
  const households = new Map(pop.ho_gia_dinh.map((h) => [h.so_ho, h]));
  const cardsByPerson = groupBy(pop.the_can_cuoc, (c) => c.so_dinh_danh);
  const residencesByPerson = groupBy(pop.dang_ky_cu_tru, (r) => r.so_dinh_danh);

  it('has exactly 20,000 citizens with valid, unique codes', () => {
    expect(pop.cong_dan).toHaveLength(20_000);
    expect(citizens.size).toBe(20_000);
    const v = new Violations();
    for (const c of pop.cong_dan) {
      let valid = true;
      try {
        parsePersonalCode(c.so_dinh_danh);
      } catch {
        valid = false;
      }
      v.check(valid, 'invalid code', c.so_dinh_danh);
    }
    v.assertNone();
  });

  it('every row has exactly its table columns, within the column sizes and CHECK constraints', () => {
    const v = new Violations();
    const dateOk = (d: string | null) => d === null || (/^\d{4}-\d{2}-\d{2}$/.test(d) && d <= REFERENCE);
    const oneOf = (value: unknown, allowed: readonly unknown[]) => allowed.includes(value);
    for (const table of TABLES) {
      const columns = [...TABLE_COLUMNS[table]].sort().join(',');
      for (const row of pop[table]) v.check(Object.keys(row).sort().join(',') === columns, `${table} columns`, row);
    }
    for (const c of pop.cong_dan) {
      v.check(c.ho_ten.length <= 150 && c.dan_toc.length <= 50 && (c.ton_giao ?? '').length <= 50 && (c.que_quan ?? '').length <= 255, 'cong_dan sizes', c);
      v.check(oneOf(c.gioi_tinh, [1, 2]) && oneOf(c.tinh_trang_hon_nhan, [1, 2, 3, 4]) && c.quoc_tich === 'VN', 'cong_dan codes', c);
      v.check(c.nhom_mau === null || /^(O|A|B|AB)[+-]?$/.test(c.nhom_mau), 'blood group', c);
      v.check(dateOk(c.ngay_sinh) && dateOk(c.ngay_mat), 'cong_dan dates', c);
    }
    for (const h of pop.ho_gia_dinh) {
      v.check(h.so_ho.length <= 20 && h.quan_huyen.length <= 100 && h.phuong_xa.length <= 100 && h.dia_chi_chi_tiet.length <= 255, 'ho_gia_dinh sizes', h);
      v.check(dateOk(h.ngay_lap), 'ngay_lap', h);
    }
    for (const r of pop.dang_ky_cu_tru) {
      v.check(oneOf(r.loai_cu_tru, ['THUONG_TRU', 'TAM_TRU']) && oneOf(r.trang_thai, ['HIEU_LUC', 'HET_HIEU_LUC', 'DA_CHUYEN_DI']), 'residence codes', r);
      v.check(r.quan_huyen.length <= 100 && r.phuong_xa.length <= 100 && r.dia_chi_chi_tiet.length <= 255, 'residence sizes', r);
      v.check(dateOk(r.tu_ngay) && dateOk(r.den_ngay) && (r.den_ngay === null || r.den_ngay >= r.tu_ngay), 'residence dates', r);
      // An ended registration says when it ended; a current one does not.
      v.check((r.trang_thai === 'HIEU_LUC') === (r.den_ngay === null), 'residence end', r);
    }
    for (const m of pop.thanh_vien_ho) {
      v.check(oneOf(m.quan_he_chu_ho, ['CHU_HO', 'VO', 'CHONG', 'CON', 'CHA', 'ME', 'ONG', 'BA', 'CHAU', 'ANH_CHI_EM', 'KHAC']), 'relationship', m);
      v.check(dateOk(m.tu_ngay) && dateOk(m.den_ngay) && (m.den_ngay === null || m.den_ngay > m.tu_ngay), 'membership dates', m);
    }
    for (const card of pop.the_can_cuoc) {
      v.check(oneOf(card.loai_the, ['CMND', 'CCCD', 'CCCD_CHIP']), 'card kind', card);
      v.check(oneOf(card.trang_thai, ['CON_HIEU_LUC', 'HET_HAN', 'MAT', 'THU_HOI', 'DA_THAY_THE']), 'card status', card);
      v.check(card.so_the.length <= 12 && card.noi_cap.length <= 255 && dateOk(card.ngay_cap), 'card sizes', card);
    }
    for (const b of pop.dang_ky_khai_sinh) {
      v.check(b.so_dang_ky.length <= 30 && b.co_quan_dang_ky.length <= 255 && b.noi_sinh.length <= 255 && b.ho_ten_tre.length <= 150, 'birth sizes', b);
      v.check(oneOf(b.gioi_tinh_tre, [1, 2]) && dateOk(b.ngay_dang_ky), 'birth codes', b);
    }
    v.assertNone();
  });

  it('uses only known province codes, and every province appears', () => {
    const codeProvinces = new Set(pop.cong_dan.map((c) => c.so_dinh_danh.slice(0, 3)));
    const householdProvinces = new Set(pop.ho_gia_dinh.map((h) => h.ma_tinh));
    const used = new Set([...codeProvinces, ...householdProvinces, ...pop.dang_ky_cu_tru.map((r) => r.ma_tinh), ...pop.dang_ky_khai_sinh.map((b) => b.ma_tinh_dang_ky)]);
    expect([...used].filter((code) => !isProvinceCode(code))).toEqual([]);
    expect([...householdProvinces].sort()).toEqual([...PROVINCE_CODES].sort());
    expect([...codeProvinces].sort()).toEqual([...PROVINCE_CODES].sort());
    // The pilot localities and the big cities hold a large share.
    const pilot = pop.ho_gia_dinh.filter((h) => ['001', '079', '031', '046', '035', '017'].includes(h.ma_tinh)).length;
    expect(pilot / pop.ho_gia_dinh.length).toBeGreaterThan(0.35);
  });

  it('everyone born from 2000 on has exactly one birth registration that agrees with the citizen and the code', () => {
    const v = new Violations();
    expect(births.size).toBe(pop.dang_ky_khai_sinh.length);
    for (const c of pop.cong_dan) v.check(births.has(c.so_dinh_danh) === c.ngay_sinh >= '2000-01-01', 'birth registration iff born from 2000', c);
    const ids = pop.dang_ky_khai_sinh.map((b) => b.id);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(new Set(pop.dang_ky_khai_sinh.map((b) => b.so_dang_ky)).size).toBe(ids.length);
    for (const b of pop.dang_ky_khai_sinh) {
      const child = citizens.get(b.so_dinh_danh_tre!);
      if (!child) {
        v.check(false, 'child is not a citizen', b);
        continue;
      }
      v.check(b.ho_ten_tre === child.ho_ten && b.gioi_tinh_tre === child.gioi_tinh && b.ngay_sinh_tre === child.ngay_sinh, 'child differs from citizen', b);
      const code = parsePersonalCode(child.so_dinh_danh);
      v.check(code.provinceCode === b.ma_tinh_dang_ky, 'code province is not the registration province', b);
      v.check(code.birthYear === Number(b.ngay_sinh_tre.slice(0, 4)), 'code year', b);
      v.check(code.sex === (b.gioi_tinh_tre === 1 ? 'MALE' : 'FEMALE'), 'code sex', b);
      const registeredAfter = dayFromIso(b.ngay_dang_ky) - dayFromIso(b.ngay_sinh_tre);
      v.check(registeredAfter >= 0 && registeredAfter <= 60, 'registered within 60 days', b);
    }
    v.assertNone();
  });

  it('names parents by code when they are citizens, by name and nationality otherwise', () => {
    const v = new Violations();
    let byCode = 0;
    let foreign = 0;
    for (const b of pop.dang_ky_khai_sinh) {
      for (const [code, name, nationality, sex] of [
        [b.so_dinh_danh_cha, b.ho_ten_cha, b.quoc_tich_cha, 1],
        [b.so_dinh_danh_me, b.ho_ten_me, b.quoc_tich_me, 2],
      ] as const) {
        if (code !== null) {
          byCode++;
          const parent = citizens.get(code);
          if (!parent) {
            v.check(false, 'parent is not a citizen', b);
            continue;
          }
          v.check(parent.gioi_tinh === sex && parent.ho_ten === name && nationality === 'VN', 'parent differs from citizen', b);
          const ageAtBirth = (dayFromIso(b.ngay_sinh_tre) - dayFromIso(parent.ngay_sinh)) / 365.25;
          v.check(sex === 2 ? ageAtBirth >= 18 && ageAtBirth < 43 : ageAtBirth > 14, 'parent age at birth', { b, parent });
          v.check(parent.ngay_mat === null || parent.ngay_mat > b.ngay_sinh_tre, 'parent died before the birth', { b, parent });
        } else {
          // Unknown (all null) or named, with a nationality.
          v.check((name === null) === (nationality === null), 'external parent needs name and nationality', b);
          if (nationality !== null && nationality !== 'VN') foreign++;
        }
      }
      v.check(b.ho_ten_me !== null, 'the mother is always known', b);
    }
    v.assertNone();
    expect(byCode).toBeGreaterThan(pop.dang_ky_khai_sinh.length);
    expect(foreign).toBeGreaterThan(0);
  });

  it('codes agree with sex and year of birth, except about 0.2 % legacy errors that never have a birth registration', () => {
    const discrepant = pop.cong_dan.filter(
      (c) => codeDiscrepancies(c.so_dinh_danh, { sex: c.gioi_tinh === 1 ? 'MALE' : 'FEMALE', dateOfBirth: new Date(`${c.ngay_sinh}T00:00:00Z`) }).length > 0,
    );
    expect(discrepant.length).toBeGreaterThanOrEqual(10);
    expect(discrepant.length).toBeLessThanOrEqual(80);
    expect(discrepant.filter((c) => births.has(c.so_dinh_danh) || c.ngay_sinh >= '2000-01-01')).toEqual([]);
  });

  it('households: 1–8 current members, the head is a CHU_HO member, everyone is in exactly one household', () => {
    const v = new Violations();
    const members = groupBy(pop.thanh_vien_ho.filter((m) => m.den_ngay === null), (m) => m.so_ho);
    expect(members.size).toBe(pop.ho_gia_dinh.length);
    expect(new Set(pop.ho_gia_dinh.map((h) => h.so_ho)).size).toBe(pop.ho_gia_dinh.length);
    for (const h of pop.ho_gia_dinh) {
      const current = members.get(h.so_ho) ?? [];
      v.check(current.length >= 1 && current.length <= 8, 'household size', h);
      const heads = current.filter((m) => m.quan_he_chu_ho === 'CHU_HO');
      v.check(heads.length === 1 && heads[0].so_dinh_danh === h.so_dinh_danh_chu_ho, 'one CHU_HO, the head', h);
      v.check(heads.length === 1 && h.ngay_lap <= heads[0].tu_ngay, 'head joined after the household was opened', h);
    }
    const currentCount = groupBy(pop.thanh_vien_ho.filter((m) => m.den_ngay === null), (m) => m.so_dinh_danh);
    for (const c of pop.cong_dan) v.check(currentCount.get(c.so_dinh_danh)?.length === 1, 'exactly one current household', c);
    for (const m of pop.thanh_vien_ho) v.check(households.has(m.so_ho) && citizens.has(m.so_dinh_danh), 'membership references', m);
    v.assertNone();
    expect(pop.thanh_vien_ho.some((m) => m.den_ngay !== null)).toBe(true);
  });

  it('each household batch is self-contained except earlier memberships, which point backwards (FK order when streaming)', () => {
    const v = new Violations();
    const seen = new Set<string>();
    for (const batch of pop.households) {
      const own = batch.ho_gia_dinh[0].so_ho;
      const people = new Set(batch.cong_dan.map((c) => c.so_dinh_danh));
      v.check(people.has(batch.ho_gia_dinh[0].so_dinh_danh_chu_ho), 'head in batch', own);
      for (const m of batch.thanh_vien_ho) v.check(people.has(m.so_dinh_danh) && (m.so_ho === own || seen.has(m.so_ho)), 'membership in batch', m);
      for (const r of batch.dang_ky_cu_tru) v.check(people.has(r.so_dinh_danh), 'residence in batch', r);
      for (const card of batch.the_can_cuoc) v.check(people.has(card.so_dinh_danh), 'card in batch', card);
      for (const b of batch.dang_ky_khai_sinh) v.check(people.has(b.so_dinh_danh_tre!), 'birth in batch', b);
      seen.add(own);
    }
    v.assertNone();
  });

  it('each person has exactly one current permanent residence, at the household address', () => {
    const v = new Violations();
    let temporary = 0;
    for (const c of pop.cong_dan) {
      const registrations = residencesByPerson.get(c.so_dinh_danh) ?? [];
      const permanent = registrations.filter((r) => r.loai_cu_tru === 'THUONG_TRU' && r.trang_thai === 'HIEU_LUC');
      v.check(permanent.length === 1, 'one current THUONG_TRU', c);
      const household = households.get(currentMembership.get(c.so_dinh_danh)?.so_ho ?? '');
      const at = permanent[0];
      v.check(
        !!household && !!at && at.ma_tinh === household.ma_tinh && at.quan_huyen === household.quan_huyen &&
          at.phuong_xa === household.phuong_xa && at.dia_chi_chi_tiet === household.dia_chi_chi_tiet,
        'permanent residence at the household address',
        c,
      );
      const currentTemporary = registrations.filter((r) => r.loai_cu_tru === 'TAM_TRU' && r.trang_thai === 'HIEU_LUC');
      v.check(currentTemporary.length <= 1, 'at most one current TAM_TRU', c);
      temporary += currentTemporary.length;
    }
    v.assertNone();
    expect(temporary / pop.cong_dan.length).toBeGreaterThan(0.07);
    expect(temporary / pop.cong_dan.length).toBeLessThan(0.13);
  });

  it('marital status agrees with a spouse in the household', () => {
    const v = new Violations();
    for (const batch of pop.households) {
      const head = batch.cong_dan.find((c) => c.so_dinh_danh === batch.ho_gia_dinh[0].so_dinh_danh_chu_ho)!;
      const spouseMembership = batch.thanh_vien_ho.find((m) => m.den_ngay === null && (m.quan_he_chu_ho === 'VO' || m.quan_he_chu_ho === 'CHONG'));
      if (!spouseMembership) continue;
      const spouse = batch.cong_dan.find((c) => c.so_dinh_danh === spouseMembership.so_dinh_danh)!;
      v.check(spouse.gioi_tinh !== head.gioi_tinh && spouse.tinh_trang_hon_nhan === 2, 'spouse', spouse);
      v.check(head.tinh_trang_hon_nhan === (spouse.ngay_mat === null ? 2 : 4), 'head married, or widowed', head);
    }
    v.assertNone();
  });

  it('a few citizens are deceased, and none of them holds a valid card', () => {
    const v = new Violations();
    const deceased = pop.cong_dan.filter((c) => c.ngay_mat !== null);
    expect(deceased.length / pop.cong_dan.length).toBeGreaterThan(0.001);
    expect(deceased.length / pop.cong_dan.length).toBeLessThan(0.006);
    for (const c of deceased) {
      v.check(c.ngay_mat! > c.ngay_sinh, 'died after birth', c);
      for (const card of cardsByPerson.get(c.so_dinh_danh) ?? []) {
        v.check(card.trang_thai !== 'CON_HIEU_LUC' && card.ngay_cap < c.ngay_mat!, 'card of a deceased person', card);
      }
    }
    v.assertNone();
  });

  it('identity cards: at most one valid per person, chip and CCCD numbers are the code, CMND numbers 9 digits and one owner each', () => {
    const v = new Violations();
    const ids = pop.the_can_cuoc.map((c) => c.id);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const cardById = new Map(pop.the_can_cuoc.map((c) => [c.id, c]));
    const cmndOwner = new Map<string, string>();
    for (const [code, cards] of cardsByPerson) {
      const citizen = citizens.get(code);
      if (!citizen) {
        v.check(false, 'card of a non-citizen', code);
        continue;
      }
      v.check(cards.filter((c) => c.trang_thai === 'CON_HIEU_LUC').length <= 1, 'at most one valid card', cards);
      const fourteenth = addYears(dayFromIso(citizen.ngay_sinh), 14);
      for (const card of cards) {
        v.check(dayFromIso(card.ngay_cap) >= fourteenth, 'issued from age 14', card);
        if (card.loai_the === 'CMND') {
          v.check(/^\d{9}$/.test(card.so_the) && (cmndOwner.get(card.so_the) ?? code) === code, 'CMND number: 9 digits, one owner', card);
          cmndOwner.set(card.so_the, code);
        } else {
          v.check(card.so_the === code, 'CCCD number is the personal code', card);
        }
        v.check(card.trang_thai !== 'DA_THAY_THE' || card.id_the_thay_the !== null, 'a replaced card names its successor', card);
        if (card.id_the_thay_the !== null) {
          const successor = cardById.get(card.id_the_thay_the);
          v.check(!!successor && successor.so_dinh_danh === code && successor.ngay_cap >= card.ngay_cap, 'successor card', card);
        }
        v.check(card.trang_thai !== 'CON_HIEU_LUC' || card.ngay_het_han === null || card.ngay_het_han >= REFERENCE, 'valid card not expired', card);
      }
    }
    // Children under 14 hold no card.
    for (const c of pop.cong_dan) v.check(addYears(dayFromIso(c.ngay_sinh), 14) <= REF_DAY || !cardsByPerson.has(c.so_dinh_danh), 'card under 14', c);
    v.assertNone();
    const kinds = new Set(pop.the_can_cuoc.map((c) => `${c.loai_the}:${c.trang_thai}`));
    for (const expected of ['CMND:DA_THAY_THE', 'CMND:CON_HIEU_LUC', 'CMND:HET_HAN', 'CCCD_CHIP:CON_HIEU_LUC', 'CCCD:CON_HIEU_LUC', 'CCCD_CHIP:MAT', 'CCCD_CHIP:THU_HOI']) {
      expect(kinds).toContain(expected);
    }
  });
});
