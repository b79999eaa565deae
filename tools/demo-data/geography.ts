/**
 * Where people live: province weights, districts, wards, street addresses, hospitals and authorities.
 *
 * Households concentrate in the pilot localities (Hải Phòng and Thừa Thiên Huế for residence management,
 * Phủ Lý/Hà Nam and Hòa Bình for data collection) and the two big cities, so demos of those places have
 * depth, while every province of the code table still appears.
 *
 * Districts of the pilot provinces and the big cities are real (pre-2025 names, as legacy records have
 * them); elsewhere a province has its real capital plus made-up districts. Wards and streets are
 * made-up names built from common place-name syllables. The geography is derived from the province code
 * alone (its own seed), not from the population seed, so every population shares one map.
 */
import { PROVINCE_CODES, PROVINCES } from '../../lib/provinces';
import { Random, weightedTable } from './random';

export const PROVINCE_WEIGHTS = weightedTable<string>(
  PROVINCE_CODES.map((code) => [code, ({ '001': 12, '079': 12, '031': 8, '046': 6, '035': 5, '017': 5 } as Record<string, number>)[code] ?? 1] as const),
);

const CENTRAL_CITIES = new Set(['001', '031', '048', '079', '092']);

const TITLES = new Map(
  PROVINCE_CODES.map((code) => [
    code,
    code === '079' ? 'Thành phố Hồ Chí Minh' : CENTRAL_CITIES.has(code) ? `Thành phố ${PROVINCES[code]}` : `Tỉnh ${PROVINCES[code]}`,
  ]),
);
const LOWER_TITLES = new Map([...TITLES].map(([code, title]) => [code, title.charAt(0).toLowerCase() + title.slice(1)]));

/** "Thành phố Hải Phòng", "Tỉnh Hà Nam": the form addresses and authorities use. */
export function provinceTitle(code: string): string {
  return TITLES.get(code) ?? code;
}

/** "thành phố Hải Phòng", "tỉnh Hà Nam": the same, inside a phrase ("Công an tỉnh Hà Nam"). */
export function provinceLowerTitle(code: string): string {
  return LOWER_TITLES.get(code) ?? code;
}

/** Real districts (quận/huyện/thị xã/thành phố) of the pilot provinces and the large cities. */
const REAL_DISTRICTS: Readonly<Record<string, readonly string[]>> = {
  '001': [
    'Quận Ba Đình', 'Quận Hoàn Kiếm', 'Quận Tây Hồ', 'Quận Long Biên', 'Quận Cầu Giấy', 'Quận Đống Đa',
    'Quận Hai Bà Trưng', 'Quận Hoàng Mai', 'Quận Thanh Xuân', 'Quận Hà Đông', 'Quận Nam Từ Liêm',
    'Quận Bắc Từ Liêm', 'Huyện Sóc Sơn', 'Huyện Đông Anh', 'Huyện Gia Lâm', 'Huyện Thanh Trì', 'Huyện Mê Linh',
    'Thị xã Sơn Tây', 'Huyện Ba Vì', 'Huyện Thạch Thất', 'Huyện Chương Mỹ', 'Huyện Thường Tín',
  ],
  '079': [
    'Quận 1', 'Quận 3', 'Quận 4', 'Quận 5', 'Quận 6', 'Quận 7', 'Quận 8', 'Quận 10', 'Quận 11', 'Quận 12',
    'Quận Bình Thạnh', 'Quận Gò Vấp', 'Quận Phú Nhuận', 'Quận Tân Bình', 'Quận Tân Phú', 'Quận Bình Tân',
    'Thành phố Thủ Đức', 'Huyện Củ Chi', 'Huyện Hóc Môn', 'Huyện Bình Chánh', 'Huyện Nhà Bè', 'Huyện Cần Giờ',
  ],
  '031': [
    'Quận Hồng Bàng', 'Quận Ngô Quyền', 'Quận Lê Chân', 'Quận Hải An', 'Quận Kiến An', 'Quận Đồ Sơn',
    'Quận Dương Kinh', 'Thành phố Thủy Nguyên', 'Huyện An Dương', 'Huyện An Lão', 'Huyện Kiến Thụy',
    'Huyện Tiên Lãng', 'Huyện Vĩnh Bảo', 'Huyện Cát Hải',
  ],
  '046': [
    'Thành phố Huế', 'Thị xã Hương Thủy', 'Thị xã Hương Trà', 'Huyện Phong Điền', 'Huyện Quảng Điền',
    'Huyện Phú Vang', 'Huyện Phú Lộc', 'Huyện A Lưới', 'Huyện Nam Đông',
  ],
  '035': ['Thành phố Phủ Lý', 'Thị xã Duy Tiên', 'Thị xã Kim Bảng', 'Huyện Thanh Liêm', 'Huyện Bình Lục', 'Huyện Lý Nhân'],
  '017': [
    'Thành phố Hòa Bình', 'Huyện Lương Sơn', 'Huyện Cao Phong', 'Huyện Đà Bắc', 'Huyện Kim Bôi', 'Huyện Lạc Sơn',
    'Huyện Lạc Thủy', 'Huyện Mai Châu', 'Huyện Tân Lạc', 'Huyện Yên Thủy',
  ],
  '048': ['Quận Hải Châu', 'Quận Thanh Khê', 'Quận Sơn Trà', 'Quận Ngũ Hành Sơn', 'Quận Liên Chiểu', 'Quận Cẩm Lệ', 'Huyện Hòa Vang'],
  '092': ['Quận Ninh Kiều', 'Quận Bình Thủy', 'Quận Cái Răng', 'Quận Ô Môn', 'Quận Thốt Nốt', 'Huyện Phong Điền', 'Huyện Cờ Đỏ', 'Huyện Thới Lai'],
};

/** The provincial capital of every other province: the first district of its made-up list. */
const CAPITALS: Readonly<Record<string, string>> = {
  '002': 'Hà Giang', '004': 'Cao Bằng', '006': 'Bắc Kạn', '008': 'Tuyên Quang', '010': 'Lào Cai', '011': 'Điện Biên Phủ',
  '012': 'Lai Châu', '014': 'Sơn La', '015': 'Yên Bái', '019': 'Thái Nguyên', '020': 'Lạng Sơn', '022': 'Hạ Long',
  '024': 'Bắc Giang', '025': 'Việt Trì', '026': 'Vĩnh Yên', '027': 'Bắc Ninh', '030': 'Hải Dương', '033': 'Hưng Yên',
  '034': 'Thái Bình', '036': 'Nam Định', '037': 'Ninh Bình', '038': 'Thanh Hóa', '040': 'Vinh', '042': 'Hà Tĩnh',
  '044': 'Đồng Hới', '045': 'Đông Hà', '049': 'Tam Kỳ', '051': 'Quảng Ngãi', '052': 'Quy Nhơn', '054': 'Tuy Hòa',
  '056': 'Nha Trang', '058': 'Phan Rang–Tháp Chàm', '060': 'Phan Thiết', '062': 'Kon Tum', '064': 'Pleiku',
  '066': 'Buôn Ma Thuột', '067': 'Gia Nghĩa', '068': 'Đà Lạt', '070': 'Đồng Xoài', '072': 'Tây Ninh',
  '074': 'Thủ Dầu Một', '075': 'Biên Hòa', '077': 'Vũng Tàu', '080': 'Tân An', '082': 'Mỹ Tho', '083': 'Bến Tre',
  '084': 'Trà Vinh', '086': 'Vĩnh Long', '087': 'Cao Lãnh', '089': 'Long Xuyên', '091': 'Rạch Giá',
  '093': 'Vị Thanh', '094': 'Sóc Trăng', '095': 'Bạc Liêu', '096': 'Cà Mau',
};

const PLACE_FIRST = ['An', 'Bình', 'Yên', 'Tân', 'Phú', 'Vĩnh', 'Thanh', 'Hòa', 'Đông', 'Tây', 'Nam', 'Bắc', 'Hưng', 'Thuận', 'Long', 'Quảng', 'Kim', 'Phước', 'Gia', 'Lạc', 'Minh', 'Trung', 'Đại', 'Hồng', 'Cẩm', 'Mỹ', 'Xuân', 'Tiên', 'Hiệp', 'Đức'];
const PLACE_SECOND = ['Lợi', 'Hòa', 'Thành', 'Xuân', 'Sơn', 'Bình', 'Phú', 'Lạc', 'An', 'Hưng', 'Thịnh', 'Mỹ', 'Định', 'Phong', 'Trung', 'Điền', 'Lộc', 'Khánh', 'Tiến', 'Thủy', 'Hải', 'Lâm', 'Nghĩa', 'Quang', 'Tường', 'Hiệp', 'Đông', 'Thái', 'Cường', 'Vinh'];

const STREETS = [
  'Lê Lợi', 'Trần Hưng Đạo', 'Nguyễn Trãi', 'Hai Bà Trưng', 'Lý Thường Kiệt', 'Quang Trung', 'Nguyễn Huệ', 'Lê Duẩn',
  'Hùng Vương', 'Điện Biên Phủ', 'Phan Chu Trinh', 'Phan Bội Châu', 'Nguyễn Du', 'Bà Triệu', 'Trần Phú', 'Lê Lai',
  'Ngô Quyền', 'Nguyễn Văn Cừ', 'Võ Thị Sáu', 'Tô Hiến Thành', 'Lê Thánh Tông', 'Hoàng Diệu', 'Nguyễn Thái Học',
  'Lý Tự Trọng', 'Trần Quang Khải', 'Nguyễn Chí Thanh', 'Lê Hồng Phong', 'Nguyễn Khuyến', 'Chu Văn An', 'Phạm Văn Đồng',
  'Võ Nguyên Giáp', 'Tôn Đức Thắng', 'Nguyễn Văn Linh', 'Lạc Long Quân', 'An Dương Vương', 'Bạch Đằng', 'Hàm Nghi',
  'Nguyễn Đình Chiểu', 'Cách Mạng Tháng Tám', 'Ba Tháng Hai', 'Lạch Tray', 'Lê Quý Đôn', 'Đinh Tiên Hoàng', 'Kim Mã',
];

const MOUNTAIN_PROVINCES = new Set(['002', '004', '006', '008', '010', '011', '012', '014', '015', '017', '020', '062', '064', '066', '067']);
const SOUTHERN_HAMLETS = 70; // province codes from 070 southwards call hamlets "ấp"

export interface Address {
  ma_tinh: string;
  quan_huyen: string;
  phuong_xa: string;
  dia_chi_chi_tiet: string;
}

interface District {
  name: string;
  urban: boolean;
  wards: string[];
}

const provinceDistricts = new Map<string, District[]>();

function placeName(rng: Random, used: Set<string>): string {
  for (let attempt = 0; attempt < 50; attempt++) {
    const name = `${rng.pick(PLACE_FIRST)} ${rng.pick(PLACE_SECOND)}`;
    if (!used.has(name) && name.split(' ')[0] !== name.split(' ')[1]) {
      used.add(name);
      return name;
    }
  }
  const fallback = `${rng.pick(PLACE_FIRST)} ${rng.pick(PLACE_SECOND)} ${used.size}`;
  used.add(fallback);
  return fallback;
}

function districtsOf(code: string): District[] {
  const cached = provinceDistricts.get(code);
  if (cached) return cached;
  const rng = new Random(`geography:${code}`);
  const used = new Set<string>();
  const names: string[] = REAL_DISTRICTS[code]
    ? [...REAL_DISTRICTS[code]]
    : [
        `Thành phố ${CAPITALS[code] ?? PROVINCES[code]}`,
        ...Array.from({ length: rng.int(6, 9) }, (_, i) => `${i === 0 ? 'Thị xã' : 'Huyện'} ${placeName(rng, used)}`),
      ];
  const districts = names.map((name) => {
    const urban = !name.startsWith('Huyện');
    const wardCount = rng.int(8, 14);
    const wards = Array.from({ length: wardCount }, (_, i) =>
      urban ? `Phường ${placeName(rng, used)}` : i === 0 ? `Thị trấn ${placeName(rng, used)}` : `Xã ${placeName(rng, used)}`,
    );
    return { name, urban, wards };
  });
  provinceDistricts.set(code, districts);
  return districts;
}

/** A random address in a province: district, ward, and a house number or hamlet. */
export function address(rng: Random, provinceCode: string): Address {
  const districts = districtsOf(provinceCode);
  // The first districts (the centre) hold more people.
  const district = districts[Math.min(rng.int(0, districts.length - 1), rng.int(0, districts.length - 1))];
  const ward = rng.pick(district.wards);
  return { ma_tinh: provinceCode, quan_huyen: district.name, phuong_xa: ward, dia_chi_chi_tiet: streetDetail(rng, provinceCode, district.urban) };
}

/** Another address in the same ward (a move within the neighbourhood). */
export function addressInWard(rng: Random, base: Address): Address {
  const urban = !base.quan_huyen.startsWith('Huyện');
  return { ...base, dia_chi_chi_tiet: streetDetail(rng, base.ma_tinh, urban) };
}

function streetDetail(rng: Random, provinceCode: string, urban: boolean): string {
  const number = rng.int(1, 399);
  if (urban) {
    const street = rng.pick(STREETS);
    const alley = Number(provinceCode) >= SOUTHERN_HAMLETS ? 'hẻm' : 'ngõ';
    const kind = rng.int(0, 9);
    if (kind < 5) return `Số ${number} ${street}`;
    if (kind < 9) return `Số ${rng.int(1, 80)}, ${alley} ${number} ${street}`;
    return `Tổ ${rng.int(1, 40)}, khu phố ${rng.int(1, 12)}`;
  }
  const rngName = `${rng.pick(PLACE_FIRST)} ${rng.pick(PLACE_SECOND)}`;
  if (MOUNTAIN_PROVINCES.has(provinceCode) && rng.chance(0.5)) return `Bản ${rngName}`;
  if (Number(provinceCode) >= SOUTHERN_HAMLETS) return `Số ${number}, ấp ${rngName}`;
  return rng.chance(0.6) ? `Thôn ${rngName}` : `Xóm ${rng.int(1, 20)}, thôn ${rngName}`;
}

/** Quê quán (place of origin): "Xã An Hòa, Huyện Vĩnh Bảo, Thành phố Hải Phòng". */
export function placeOfOrigin(rng: Random, provinceCode: string): string {
  const a = address(rng, provinceCode);
  return `${a.phuong_xa}, ${a.quan_huyen}, ${provinceTitle(provinceCode)}`;
}

const BIG_HOSPITALS: Readonly<Record<string, readonly string[]>> = {
  '001': ['Bệnh viện Phụ sản Trung ương', 'Bệnh viện Phụ sản Hà Nội', 'Bệnh viện Bạch Mai', 'Bệnh viện Đa khoa Đức Giang'],
  '079': ['Bệnh viện Từ Dũ', 'Bệnh viện Hùng Vương', 'Bệnh viện Nhân dân Gia Định', 'Bệnh viện Quận Thủ Đức'],
  '031': ['Bệnh viện Phụ sản Hải Phòng', 'Bệnh viện Hữu nghị Việt Tiệp', 'Bệnh viện Trẻ em Hải Phòng'],
  '046': ['Bệnh viện Trung ương Huế', 'Bệnh viện Trường Đại học Y Dược Huế'],
  '048': ['Bệnh viện Phụ sản – Nhi Đà Nẵng'],
};

/** Nơi sinh: a hospital, a commune health station, or (rarely) at home. */
export function placeOfBirth(rng: Random, at: Address): string {
  const roll = rng.int(0, 99);
  const big = BIG_HOSPITALS[at.ma_tinh];
  if (big && roll < 55) return `${rng.pick(big)}, ${provinceTitle(at.ma_tinh)}`;
  if (roll < 70) return `Bệnh viện Đa khoa ${provinceLowerTitle(at.ma_tinh)}`;
  if (roll < 85) return `Trung tâm Y tế ${at.quan_huyen.replace(/^(Quận|Huyện|Thị xã|Thành phố) /, '')}, ${provinceTitle(at.ma_tinh)}`;
  if (roll < 97) return `Trạm Y tế ${at.phuong_xa.replace(/^(Phường|Xã|Thị trấn) /, '')}, ${at.quan_huyen}, ${provinceTitle(at.ma_tinh)}`;
  return `Tại nhà, ${at.dia_chi_chi_tiet}, ${at.phuong_xa}, ${at.quan_huyen}, ${provinceTitle(at.ma_tinh)}`;
}

/** Cơ quan đăng ký khai sinh: the ward's People's Committee. */
export function birthRegistrar(at: Address): string {
  const ward = at.phuong_xa.charAt(0).toLowerCase() + at.phuong_xa.slice(1);
  return `UBND ${ward}, ${at.quan_huyen}, ${provinceTitle(at.ma_tinh)}`;
}

/** Another province than `code` for people born or living elsewhere (every province equally likely). */
export function otherProvince(rng: Random, code: string): string {
  for (;;) {
    const other = rng.pick(PROVINCE_CODES);
    if (other !== code) return other;
  }
}

/** Where people move to for work or study (temporary residence): mostly the big cities. */
const DESTINATIONS = weightedTable<string>([
  ['079', 30], ['001', 25], ['074', 8], ['075', 6], ['048', 5], ['031', 5], ['092', 3], ['027', 3], ['022', 2], ['056', 2], ['046', 2],
]);
export function migrationDestination(rng: Random, home: string): string {
  const destination = rng.chance(0.8) ? rng.weighted(DESTINATIONS) : rng.pick(PROVINCE_CODES);
  return destination === home ? otherProvince(rng, home) : destination;
}
