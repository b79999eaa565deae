/**
 * Rows exactly as the agencies' tables take them: keys are the DB column names of the migrations under
 * prisma/<agency>/migrations, dates are 'YYYY-MM-DD'. Columns filled by defaults (ngay_tao, ngay_cap_nhat)
 * and bigserial ids that nothing references (thanh_vien_ho.id, dang_ky_cu_tru.id) are left out;
 * the_can_cuoc.id and dang_ky_khai_sinh.id are explicit because id_the_thay_the points at card ids and
 * because numbering them ourselves keeps the output deterministic (see seed.ts for the sequences).
 */
import type { StoredCode } from '../../lib/code-table';
import type { MARITAL_STATUS, RELATIONSHIP, RESIDENCE_KIND, RESIDENCE_STATUS, SEX } from '../../subgraphs/residents/codes';
import type { CARD_KIND, CARD_STATUS } from '../../subgraphs/national-id/codes';

/**
 * The stored codes, as the agencies' code tables define them (subgraphs/<agency>/codes.ts): a code the
 * services would not know does not compile here.
 */
export type SexCode = StoredCode<typeof SEX>;
export type MaritalStatusCode = StoredCode<typeof MARITAL_STATUS>;
export type HouseholdRelationship = StoredCode<typeof RELATIONSHIP>;
export type ResidenceKind = StoredCode<typeof RESIDENCE_KIND>;
export type ResidenceStatus = StoredCode<typeof RESIDENCE_STATUS>;
export type CardKind = StoredCode<typeof CARD_KIND>;
export type CardStatus = StoredCode<typeof CARD_STATUS>;

/** residents.cong_dan */
export interface CongDanRow {
  so_dinh_danh: string;
  ho_ten: string;
  ten_goi_khac: string | null;
  ngay_sinh: string;
  gioi_tinh: SexCode;
  dan_toc: string;
  ton_giao: string | null;
  quoc_tich: string;
  que_quan: string | null;
  nhom_mau: string | null;
  tinh_trang_hon_nhan: MaritalStatusCode;
  ngay_mat: string | null;
}

/** residents.ho_gia_dinh */
export interface HoGiaDinhRow {
  so_ho: string;
  so_dinh_danh_chu_ho: string;
  ma_tinh: string;
  quan_huyen: string;
  phuong_xa: string;
  dia_chi_chi_tiet: string;
  ngay_lap: string;
}

/** residents.thanh_vien_ho (id is bigserial) */
export interface ThanhVienHoRow {
  so_ho: string;
  so_dinh_danh: string;
  quan_he_chu_ho: HouseholdRelationship;
  tu_ngay: string;
  den_ngay: string | null;
}

/** residents.dang_ky_cu_tru (id is bigserial) */
export interface DangKyCuTruRow {
  so_dinh_danh: string;
  loai_cu_tru: ResidenceKind;
  ma_tinh: string;
  quan_huyen: string;
  phuong_xa: string;
  dia_chi_chi_tiet: string;
  tu_ngay: string;
  den_ngay: string | null;
  trang_thai: ResidenceStatus;
}

/** national_id.the_can_cuoc */
export interface TheCanCuocRow {
  id: number;
  so_the: string;
  loai_the: CardKind;
  so_dinh_danh: string;
  ngay_cap: string;
  ngay_het_han: string | null;
  noi_cap: string;
  trang_thai: CardStatus;
  id_the_thay_the: number | null;
}

/** birth_registry.dang_ky_khai_sinh */
export interface DangKyKhaiSinhRow {
  id: number;
  so_dang_ky: string;
  ngay_dang_ky: string;
  co_quan_dang_ky: string;
  ma_tinh_dang_ky: string;
  noi_sinh: string;
  ho_ten_tre: string;
  gioi_tinh_tre: SexCode;
  ngay_sinh_tre: string;
  so_dinh_danh_tre: string | null;
  so_dinh_danh_cha: string | null;
  ho_ten_cha: string | null;
  quoc_tich_cha: string | null;
  so_dinh_danh_me: string | null;
  ho_ten_me: string | null;
  quoc_tich_me: string | null;
}

/** One household's rows, for every table, keyed by table name. */
export interface PopulationBatch {
  cong_dan: CongDanRow[];
  ho_gia_dinh: HoGiaDinhRow[];
  thanh_vien_ho: ThanhVienHoRow[];
  dang_ky_cu_tru: DangKyCuTruRow[];
  the_can_cuoc: TheCanCuocRow[];
  dang_ky_khai_sinh: DangKyKhaiSinhRow[];
}

export type TableName = keyof PopulationBatch;
export type RowOf<T extends TableName> = PopulationBatch[T][number];

/** The column order COPY uses; every key of the row type, nothing else. */
export const TABLE_COLUMNS: { readonly [T in TableName]: ReadonlyArray<keyof RowOf<T>> } = {
  cong_dan: [
    'so_dinh_danh', 'ho_ten', 'ten_goi_khac', 'ngay_sinh', 'gioi_tinh', 'dan_toc', 'ton_giao', 'quoc_tich',
    'que_quan', 'nhom_mau', 'tinh_trang_hon_nhan', 'ngay_mat',
  ],
  ho_gia_dinh: ['so_ho', 'so_dinh_danh_chu_ho', 'ma_tinh', 'quan_huyen', 'phuong_xa', 'dia_chi_chi_tiet', 'ngay_lap'],
  thanh_vien_ho: ['so_ho', 'so_dinh_danh', 'quan_he_chu_ho', 'tu_ngay', 'den_ngay'],
  dang_ky_cu_tru: ['so_dinh_danh', 'loai_cu_tru', 'ma_tinh', 'quan_huyen', 'phuong_xa', 'dia_chi_chi_tiet', 'tu_ngay', 'den_ngay', 'trang_thai'],
  the_can_cuoc: ['id', 'so_the', 'loai_the', 'so_dinh_danh', 'ngay_cap', 'ngay_het_han', 'noi_cap', 'trang_thai', 'id_the_thay_the'],
  dang_ky_khai_sinh: [
    'id', 'so_dang_ky', 'ngay_dang_ky', 'co_quan_dang_ky', 'ma_tinh_dang_ky', 'noi_sinh', 'ho_ten_tre', 'gioi_tinh_tre',
    'ngay_sinh_tre', 'so_dinh_danh_tre', 'so_dinh_danh_cha', 'ho_ten_cha', 'quoc_tich_cha', 'so_dinh_danh_me',
    'ho_ten_me', 'quoc_tich_me',
  ],
};

/** Which agency database holds each table; within residents, the order FKs require. */
export const TABLES_BY_DATABASE = {
  residents: ['cong_dan', 'ho_gia_dinh', 'thanh_vien_ho', 'dang_ky_cu_tru'],
  nationalId: ['the_can_cuoc'],
  birthRegistry: ['dang_ky_khai_sinh'],
} as const satisfies Record<string, readonly TableName[]>;

export type DatabaseName = keyof typeof TABLES_BY_DATABASE;
