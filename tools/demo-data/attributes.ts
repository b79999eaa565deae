/**
 * Ethnicity, religion and blood group, with rough real shares.
 *
 * Ethnicity depends on where people live: the national mix is 85 % Kinh, but H'Mông live in the northern
 * mountains, Khmer in the Mekong delta, Mường in Hòa Bình, Hoa in Hồ Chí Minh City, and so on. A few
 * provinces therefore have their own table; the rest use the lowland table. Religion likewise: most
 * Vietnamese declare none (null), Hòa Hảo is an An Giang/Đồng Tháp faith, Cao Đài a Tây Ninh one.
 */
import type { Random, WeightedTable } from './random';
import { weightedTable } from './random';

type Weights = ReadonlyArray<readonly [string, number]>;

const LOWLAND: Weights = [['Kinh', 97], ['Hoa', 0.8], ['Tày', 0.5], ['Mường', 0.5], ['Nùng', 0.4], ['Thái', 0.3], ['Khmer', 0.2]];
const NORTHERN_MOUNTAINS: Weights = [
  ['Kinh', 35], ["H'Mông", 22], ['Thái', 14], ['Tày', 10], ['Dao', 9], ['Nùng', 5], ['Giáy', 2], ['Hà Nhì', 1], ['Lô Lô', 1], ['Mường', 1],
];
const NORTH_EAST: Weights = [['Kinh', 35], ['Tày', 30], ['Nùng', 22], ['Dao', 7], ["H'Mông", 4], ['Sán Chay', 2]];
const CENTRAL_HIGHLANDS: Weights = [['Kinh', 68], ['Gia Rai', 12], ['Ê Đê', 10], ['Ba Na', 5], ['Xơ Đăng', 2], ['Mnông', 2], ['Cơ Ho', 1]];
const MEKONG_KHMER: Weights = [['Kinh', 64], ['Khmer', 30], ['Hoa', 5], ['Chăm', 1]];

const BY_PROVINCE: Readonly<Record<string, Weights>> = {
  '002': NORTHERN_MOUNTAINS, '010': NORTHERN_MOUNTAINS, '011': NORTHERN_MOUNTAINS, '012': NORTHERN_MOUNTAINS,
  '014': [['Thái', 53], ['Kinh', 17], ["H'Mông", 17], ['Mường', 8], ['Dao', 3], ['Xinh Mun', 2]],
  '015': NORTHERN_MOUNTAINS,
  '004': NORTH_EAST, '006': NORTH_EAST, '008': NORTH_EAST, '020': NORTH_EAST,
  '017': [['Mường', 63], ['Kinh', 28], ['Thái', 4], ['Dao', 3], ['Tày', 2]],
  '019': [['Kinh', 73], ['Tày', 11], ['Nùng', 6], ['Sán Dìu', 4], ['Dao', 3], ['Sán Chay', 3]],
  '024': [['Kinh', 88], ['Nùng', 5], ['Tày', 3], ['Sán Chay', 2], ['Sán Dìu', 2]],
  '025': [['Kinh', 85], ['Mường', 14], ['Dao', 1]],
  '038': [['Kinh', 85], ['Mường', 9], ['Thái', 6]],
  '040': [['Kinh', 87], ['Thái', 10], ["H'Mông", 1], ['Khơ Mú', 2]],
  '058': [['Kinh', 78], ['Chăm', 12], ['Ra Glai', 10]],
  '062': [['Kinh', 46], ['Xơ Đăng', 25], ['Ba Na', 13], ['Gia Rai', 9], ['Giẻ Triêng', 7]],
  '064': [['Kinh', 53], ['Gia Rai', 31], ['Ba Na', 14], ['Ê Đê', 2]],
  '066': [['Kinh', 65], ['Ê Đê', 18], ['Nùng', 4], ['Tày', 4], ['Mnông', 3], ['Gia Rai', 2], ["H'Mông", 2], ['Dao', 2]],
  '067': [['Kinh', 66], ['Mnông', 10], ['Nùng', 8], ['Tày', 6], ["H'Mông", 5], ['Dao', 5]],
  '068': [['Kinh', 76], ['Cơ Ho', 13], ['Mạ', 3], ['Chu Ru', 2], ['Nùng', 3], ['Tày', 3]],
  '079': [['Kinh', 93], ['Hoa', 5], ['Khmer', 0.5], ['Chăm', 0.3], ['Tày', 0.6], ['Nùng', 0.6]],
  '084': MEKONG_KHMER, '094': MEKONG_KHMER,
  // Provinces not listed (the delta, the coast, Hà Nam, Hải Phòng, ...) use the lowland table.
  '091': [['Kinh', 85], ['Khmer', 12], ['Hoa', 3]],
  '089': [['Kinh', 94], ['Khmer', 4], ['Chăm', 1], ['Hoa', 1]],
  '095': [['Kinh', 90], ['Khmer', 8], ['Hoa', 2]],
};

const tableCache = new Map<string, WeightedTable<string>>();
const LOWLAND_TABLE = weightedTable(LOWLAND);

export function ethnicity(rng: Random, provinceCode: string): string {
  const weights = BY_PROVINCE[provinceCode];
  if (!weights) return rng.weighted(LOWLAND_TABLE);
  let table = tableCache.get(provinceCode);
  if (!table) {
    table = weightedTable(weights);
    tableCache.set(provinceCode, table);
  }
  return rng.weighted(table);
}

/** null = no religion declared, which is what most Vietnamese records say. */
const RELIGION_DEFAULT = weightedTable<string | null>([
  [null, 86], ['Phật giáo', 5], ['Công giáo', 6.5], ['Tin Lành', 1], ['Cao Đài', 0.8], ['Hòa Hảo', 0.3], ['Hồi giáo', 0.05],
]);
const RELIGION_BY_PROVINCE: Readonly<Record<string, WeightedTable<string | null>>> = {
  '089': weightedTable<string | null>([[null, 55], ['Hòa Hảo', 30], ['Phật giáo', 10], ['Công giáo', 3], ['Hồi giáo', 1], ['Cao Đài', 1]]),
  '087': weightedTable<string | null>([[null, 70], ['Hòa Hảo', 15], ['Phật giáo', 8], ['Công giáo', 4], ['Cao Đài', 3]]),
  '072': weightedTable<string | null>([[null, 65], ['Cao Đài', 25], ['Phật giáo', 6], ['Công giáo', 4]]),
  '036': weightedTable<string | null>([[null, 75], ['Công giáo', 22], ['Phật giáo', 3]]),
  '037': weightedTable<string | null>([[null, 80], ['Công giáo', 16], ['Phật giáo', 4]]),
  '046': weightedTable<string | null>([[null, 68], ['Phật giáo', 26], ['Công giáo', 5], ['Tin Lành', 1]]),
  '064': weightedTable<string | null>([[null, 60], ['Tin Lành', 18], ['Công giáo', 16], ['Phật giáo', 6]]),
  '066': weightedTable<string | null>([[null, 62], ['Tin Lành', 16], ['Công giáo', 14], ['Phật giáo', 8]]),
  '058': weightedTable<string | null>([[null, 70], ['Bà La Môn', 12], ['Hồi giáo', 8], ['Phật giáo', 6], ['Công giáo', 4]]),
};
const KHMER_RELIGION = weightedTable<string | null>([['Phật giáo', 90], [null, 10]]);

export function religion(rng: Random, provinceCode: string, ethnicityName: string): string | null {
  if (ethnicityName === 'Khmer') return rng.weighted(KHMER_RELIGION);
  return rng.weighted(RELIGION_BY_PROVINCE[provinceCode] ?? RELIGION_DEFAULT);
}

/**
 * ABO group, as the population database records it: mostly just the group, sometimes with the Rh factor;
 * Rh-negative is very rare in Vietnam (≈ 0.1 %). null = not yet recorded.
 */
const ABO = weightedTable<string>([['O', 42], ['B', 30], ['A', 22], ['AB', 6]]);

export function bloodGroup(rng: Random): string | null {
  if (rng.chance(0.3)) return null;
  const group = rng.weighted(ABO);
  if (rng.chance(0.7)) return group;
  return group + (rng.chance(0.01) ? '-' : '+');
}
