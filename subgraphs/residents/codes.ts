/**
 * The Resident Information Center's code tables: the values its columns hold, and what the graph calls them.
 * The only place a stored code of this agency is written (lib/code-table.ts: the policy for an unknown one).
 */
import { codeTable, sexCodes } from '../../lib/code-table';
import type { CodeCancellationReason, HouseholdRelationship, MaritalStatus, ResidenceKind, ResidenceStatus } from './generated/graphql';

export const SEX = sexCodes('cong_dan.gioi_tinh');

export const MARITAL_STATUS = codeTable('cong_dan.tinh_trang_hon_nhan', {
  1: 'SINGLE',
  2: 'MARRIED',
  3: 'DIVORCED',
  4: 'WIDOWED',
} as const satisfies Record<number, MaritalStatus>);

export const RESIDENCE_KIND = codeTable('dang_ky_cu_tru.loai_cu_tru', {
  THUONG_TRU: 'PERMANENT',
  TAM_TRU: 'TEMPORARY',
} as const satisfies Record<string, ResidenceKind>);

export const RESIDENCE_STATUS = codeTable('dang_ky_cu_tru.trang_thai', {
  HIEU_LUC: 'ACTIVE',
  HET_HIEU_LUC: 'ENDED',
  DA_CHUYEN_DI: 'MOVED_OUT',
} as const satisfies Record<string, ResidenceStatus>);

export const RELATIONSHIP = codeTable('thanh_vien_ho.quan_he_chu_ho', {
  CHU_HO: 'HEAD',
  VO: 'WIFE',
  CHONG: 'HUSBAND',
  CON: 'CHILD',
  CHA: 'FATHER',
  ME: 'MOTHER',
  ONG: 'GRANDFATHER',
  BA: 'GRANDMOTHER',
  CHAU: 'GRANDCHILD',
  ANH_CHI_EM: 'SIBLING',
  KHAC: 'OTHER',
} as const satisfies Record<string, HouseholdRelationship>);

/** The personal-code register's states (so_dinh_danh.trang_thai): not in the graph, named here. */
export const CODE_STATUS = codeTable('so_dinh_danh.trang_thai', {
  HIEU_LUC: 'IN_FORCE',
  DA_HUY: 'CANCELLED',
} as const);

export const CODE_CANCELLATION_REASON = codeTable('so_dinh_danh.ly_do_huy', {
  DOI_GIOI_TINH: 'SEX_CHANGE',
  SUA_NAM_SINH: 'BIRTH_YEAR_CORRECTION',
  SAI_SOT_NHAP_LIEU: 'DATA_ENTRY_ERROR',
} as const satisfies Record<string, CodeCancellationReason>);
