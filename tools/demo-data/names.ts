/**
 * Vietnamese personal names: family name (họ), middle name (tên đệm), given name (tên).
 *
 * Weights follow published frequency estimates (Nguyễn ≈ 38 %, Trần ≈ 11 %, Lê ≈ 9.5 %, ...). Some family
 * names have a northern and a southern form of the same name (Hoàng/Huỳnh, Vũ/Võ): the form follows the
 * region of the province. Minority ethnic groups have their own family names. Fashion changes over time:
 * "Văn" and "Thị" dominate the middle names of people born before 1980 and much less after 2000.
 * The names are only plausible; no real person is described.
 */
import type { Random, WeightedTable } from './random';
import { weightedTable } from './random';
import type { Sex } from '../../lib/personal-code';

/** Provinces from Thanh Hóa (038) southwards use the southern forms (Huỳnh, Võ) more often. */
function isSouthOrCentre(provinceCode: string): boolean {
  return Number(provinceCode) >= 38;
}

const KINH_FAMILY_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['Nguyễn', 38],
  ['Trần', 11],
  ['Lê', 9.5],
  ['Phạm', 7],
  ['HOANG', 5.1], // Hoàng in the north, Huỳnh in the centre and south
  ['Phan', 4.5],
  ['VU', 3.9], // Vũ / Võ
  ['Đặng', 2.1],
  ['Bùi', 2],
  ['Đỗ', 1.4],
  ['Hồ', 1.3],
  ['Ngô', 1.3],
  ['Dương', 1],
  ['Lý', 0.5],
  ['Đinh', 0.5],
  ['Đào', 0.4],
  ['Trương', 0.4],
  ['Lâm', 0.3],
  ['Mai', 0.3],
  ['Trịnh', 0.3],
  ['Lương', 0.25],
  ['Cao', 0.25],
  ['Tạ', 0.2],
  ['Hà', 0.2],
  ['Chu', 0.15],
  ['Quách', 0.1],
  ['Kiều', 0.1],
  ['Tô', 0.1],
  ['Lưu', 0.1],
  ['Thái', 0.1],
  ['Châu', 0.1],
  ['Lại', 0.08],
  ['Tăng', 0.05],
  ['Vương', 0.05],
  ['Doãn', 0.05],
  ['Triệu', 0.05],
  ['Khúc', 0.03],
];
const KINH_FAMILY = weightedTable(KINH_FAMILY_NAMES);

/** Family names of the larger minority groups (used when the person's dân tộc is that group). */
const MINORITY_FAMILY: Readonly<Record<string, readonly string[]>> = {
  Tày: ['Hoàng', 'Nông', 'Lộc', 'Ma', 'Hà', 'Lương', 'Triệu', 'Bế'],
  Thái: ['Lò', 'Cầm', 'Lường', 'Quàng', 'Vì', 'Tòng', 'Hà'],
  Mường: ['Bùi', 'Đinh', 'Quách', 'Hà', 'Xa', 'Bạch'],
  Khmer: ['Thạch', 'Sơn', 'Danh', 'Kim', 'Lâm', 'Trà', 'Kiên', 'Châu'],
  Hoa: ['Lâm', 'Quách', 'Trương', 'Lý', 'Mã', 'Tăng', 'Diệp', 'Hứa', 'Lưu', 'Hoàng'],
  Nùng: ['Nông', 'Hoàng', 'Lục', 'Chu', 'Vi', 'Lăng'],
  "H'Mông": ['Giàng', 'Sùng', 'Vàng', 'Mùa', 'Lý', 'Thào', 'Hầu', 'Lầu', 'Hờ'],
  Dao: ['Triệu', 'Bàn', 'Đặng', 'Lý', 'Chảo', 'Phùn'],
  'Gia Rai': ['Ksor', 'Siu', 'Rơ Mah', 'Nay', 'Kpă', 'Rah Lan'],
  'Ê Đê': ['Niê', 'Byă', 'Mlô', 'Êban', 'Ayun', 'Ktla'],
  'Ba Na': ['Đinh', 'Rơ Ô', 'Kpă'],
  Chăm: ['Đàng', 'Thuận', 'Lộ', 'Quảng', 'Thành'],
  'Sán Chay': ['Hoàng', 'Lâm', 'Trần', 'Đàm'],
};

const MALE_MIDDLE_OLD = weightedTable<string>([
  ['Văn', 60], ['Hữu', 6], ['Đức', 6], ['Đình', 5], ['Xuân', 4], ['Quang', 4], ['Công', 4], ['Ngọc', 3],
  ['Thanh', 3], ['Minh', 3], ['Trọng', 2], ['Quốc', 2], ['Thế', 2], ['Bá', 2], ['Duy', 1], ['Viết', 1],
]);
const MALE_MIDDLE_NEW = weightedTable<string>([
  ['Văn', 18], ['Minh', 12], ['Đức', 8], ['Quang', 6], ['Gia', 7], ['Bảo', 6], ['Hoàng', 5], ['Anh', 5],
  ['Tuấn', 4], ['Quốc', 4], ['Hữu', 4], ['Thành', 4], ['Duy', 4], ['Thanh', 3], ['Đăng', 3], ['Trung', 3],
  ['Nhật', 3], ['Khánh', 2], ['Phúc', 2], ['Thiên', 2],
]);
const FEMALE_MIDDLE_OLD = weightedTable<string>([
  ['Thị', 72], ['Ngọc', 5], ['Thu', 4], ['Thanh', 4], ['Kim', 3], ['Hồng', 3], ['Minh', 2], ['Bích', 2],
  ['Xuân', 2], ['Mỹ', 1], ['Thúy', 1], ['Phương', 1],
]);
const FEMALE_MIDDLE_NEW = weightedTable<string>([
  ['Thị', 22], ['Ngọc', 10], ['Thu', 6], ['Thanh', 5], ['Minh', 6], ['Phương', 5], ['Bảo', 5], ['Khánh', 5],
  ['Hoài', 3], ['Mỹ', 4], ['Diệu', 3], ['Thùy', 4], ['Hà', 3], ['Kim', 3], ['Quỳnh', 3], ['Gia', 4],
  ['Tuệ', 2], ['An', 2], ['Hồng', 2],
]);

const MALE_GIVEN = weightedTable<string>(
  ([
    'Anh', 'Bình', 'Cường', 'Dũng', 'Duy', 'Đức', 'Hải', 'Hiếu', 'Hoàng', 'Hùng', 'Huy', 'Khang', 'Khoa',
    'Kiên', 'Long', 'Lâm', 'Mạnh', 'Minh', 'Nam', 'Nghĩa', 'Phong', 'Phúc', 'Quân', 'Quang', 'Sơn', 'Tài',
    'Tâm', 'Thắng', 'Thành', 'Thịnh', 'Toàn', 'Trung', 'Tuấn', 'Tùng', 'Việt', 'Vinh', 'Vũ', 'Bảo', 'Đạt',
    'Hưng', 'Khánh', 'Lộc', 'Nhân', 'Phát', 'Tiến', 'Trí', 'Hậu', 'Thiện', 'An', 'Dương', 'Hào', 'Kiệt',
    'Công', 'Chiến', 'Định', 'Giang', 'Hiển', 'Hòa', 'Luân', 'Lực', 'Nhật', 'Quý', 'Sang', 'Tân', 'Thái',
    'Thanh', 'Thông', 'Tú', 'Tường', 'Vương',
  ] as const).map((name, i) => [name, i < 40 ? 3 : 1] as const),
);
const FEMALE_GIVEN = weightedTable<string>(
  ([
    'Anh', 'Linh', 'Trang', 'Hương', 'Hà', 'Ngọc', 'Thảo', 'Huyền', 'Lan', 'Mai', 'Phương', 'Hằng', 'Nga',
    'Thu', 'Thủy', 'Hoa', 'Hạnh', 'Hiền', 'Nhung', 'Yến', 'Dung', 'Giang', 'Loan', 'Vân', 'Quỳnh', 'Trâm',
    'Nhi', 'Vy', 'My', 'Ly', 'Chi', 'Ngân', 'Uyên', 'Tâm', 'Châu', 'Diệp', 'Bích', 'Ánh', 'Liên', 'Oanh',
    'Quyên', 'Xuân', 'Hậu', 'Thư', 'Tuyết', 'Diễm', 'Hân', 'Khuê', 'An', 'Hồng', 'Lệ', 'Mơ', 'Nhàn', 'Phượng',
    'Sen', 'Thắm', 'Thơ', 'Trinh', 'Tú', 'Vui',
  ] as const).map((name, i) => [name, i < 36 ? 3 : 1] as const),
);

/** Names people are also known by (tên gọi khác): birth-order nicknames, mostly in the south. */
export const NICKNAMES: readonly string[] = ['Hai', 'Ba', 'Tư', 'Năm', 'Sáu', 'Bảy', 'Út', 'Bé', 'Tí', 'Tèo', 'Cu'];

const familyCache = new Map<string, WeightedTable<string>>();
function minorityTable(ethnicity: string): WeightedTable<string> | null {
  const names = MINORITY_FAMILY[ethnicity];
  if (!names) return null;
  let table = familyCache.get(ethnicity);
  if (!table) {
    // The first names of each list are the commoner ones.
    table = weightedTable(names.map((name, i) => [name, names.length - i] as const));
    familyCache.set(ethnicity, table);
  }
  return table;
}

export function familyName(rng: Random, ethnicity: string, provinceCode: string): string {
  const minority = minorityTable(ethnicity);
  if (minority && rng.chance(0.85)) return rng.weighted(minority);
  const name = rng.weighted(KINH_FAMILY);
  if (name === 'HOANG') return isSouthOrCentre(provinceCode) === rng.chance(0.85) ? 'Huỳnh' : 'Hoàng';
  if (name === 'VU') return isSouthOrCentre(provinceCode) === rng.chance(0.85) ? 'Võ' : 'Vũ';
  return name;
}

/** Middle and given name ("Văn Hùng"), in the fashion of the birth year. */
export function middleAndGivenName(rng: Random, sex: Sex, birthYear: number, ethnicity: string): string {
  if (ethnicity === "H'Mông") {
    // H'Mông names: A for men, Thị or Mí for women, then a short given name.
    const middle = sex === 'MALE' ? 'A' : rng.chance(0.6) ? 'Thị' : 'Mí';
    return `${middle} ${rng.pick(sex === 'MALE' ? HMONG_MALE : HMONG_FEMALE)}`;
  }
  const modern = birthYear >= 1995 || (birthYear >= 1980 && rng.chance((birthYear - 1980) / 15));
  const middleTable = sex === 'MALE' ? (modern ? MALE_MIDDLE_NEW : MALE_MIDDLE_OLD) : modern ? FEMALE_MIDDLE_NEW : FEMALE_MIDDLE_OLD;
  const given = rng.weighted(sex === 'MALE' ? MALE_GIVEN : FEMALE_GIVEN);
  let middle = rng.weighted(middleTable);
  // Avoid "Anh Anh", "Thanh Thanh".
  if (middle === given) middle = sex === 'MALE' ? 'Văn' : 'Thị';
  // Recent generations sometimes have two middle names ("Nguyễn Ngọc Bảo Anh").
  if (modern && birthYear >= 2005 && rng.chance(0.12)) {
    const second = rng.weighted(middleTable);
    if (second !== middle && second !== given && second !== 'Văn' && second !== 'Thị') middle = `${middle} ${second}`;
  }
  return `${middle} ${given}`;
}

const HMONG_MALE = ['Páo', 'Chứ', 'Dình', 'Sếnh', 'Lử', 'Sùng', 'Tủa', 'Vàng', 'Chớ', 'Súa', 'Dế', 'Pó'];
const HMONG_FEMALE = ['Mỷ', 'Dở', 'Pà', 'Sua', 'Chi', 'Máy', 'Sò', 'Lan', 'Dua', 'Gia', 'Pằng', 'Mai'];

/** Names of foreign parents, by nationality (ISO 3166 alpha-2, as quoc_tich stores it). */
const FOREIGN_NAMES: Readonly<Record<string, { male: readonly string[]; female: readonly string[] }>> = {
  CN: { male: ['Wang Wei', 'Li Qiang', 'Zhang Jun', 'Liu Yang', 'Chen Hao'], female: ['Wang Fang', 'Li Na', 'Zhang Min', 'Liu Ying', 'Chen Jing'] },
  TW: { male: ['Lin Chih-hao', 'Chen Chien-hung', 'Huang Wen-bin'], female: ['Lin Mei-ling', 'Chen Yi-ting', 'Huang Shu-fen'] },
  KR: { male: ['Kim Min-jun', 'Lee Seo-jun', 'Park Ji-hoon', 'Choi Hyun-woo'], female: ['Kim Ji-yeon', 'Lee Soo-jin', 'Park Min-ji', 'Choi Yu-na'] },
  JP: { male: ['Tanaka Hiroshi', 'Suzuki Takeshi', 'Sato Kenji'], female: ['Tanaka Yuki', 'Suzuki Aiko', 'Sato Haruka'] },
  US: { male: ['John Smith', 'Michael Johnson', 'David Miller'], female: ['Emily Davis', 'Sarah Wilson', 'Jessica Brown'] },
  FR: { male: ['Pierre Martin', 'Nicolas Bernard', 'Julien Dubois'], female: ['Marie Laurent', 'Camille Durand', 'Sophie Moreau'] },
  AU: { male: ['James Taylor', 'Daniel White'], female: ['Olivia Harris', 'Chloe Martin'] },
  LA: { male: ['Somphone Phommachanh', 'Khamla Vongsa'], female: ['Souksavanh Keo', 'Manivanh Sisouk'] },
  KH: { male: ['Sok Dara', 'Chan Vuthy'], female: ['Sok Sreymom', 'Chan Sophea'] },
  DE: { male: ['Thomas Müller', 'Stefan Schmidt'], female: ['Anna Schneider', 'Julia Fischer'] },
};
export const FOREIGN_NATIONALITIES = weightedTable<string>([
  ['CN', 5], ['TW', 3], ['KR', 5], ['JP', 2], ['US', 2], ['FR', 1], ['AU', 1], ['LA', 1], ['KH', 1], ['DE', 1],
]);

export function foreignName(rng: Random, nationality: string, sex: Sex): string {
  const names = FOREIGN_NAMES[nationality] ?? FOREIGN_NAMES.US;
  return rng.pick(sex === 'MALE' ? names.male : names.female);
}
