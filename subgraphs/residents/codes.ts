/**
 * The Resident Information Center's code tables: the values its columns hold, and what the graph calls them.
 */
import type { CodeCancellationReason, HouseholdRelationship, MaritalStatus, ResidenceKind, ResidenceStatus } from './generated/graphql';

export { SEX_CODES as SEX } from '../../lib/code-table';

export const MARITAL_STATUS: Record<number, MaritalStatus> = { 1: 'SINGLE', 2: 'MARRIED', 3: 'DIVORCED', 4: 'WIDOWED' };

export const RESIDENCE_KIND: Record<string, ResidenceKind> = { THUONG_TRU: 'PERMANENT', TAM_TRU: 'TEMPORARY' };

export const RESIDENCE_STATUS: Record<string, ResidenceStatus> = {
  HIEU_LUC: 'ACTIVE',
  HET_HIEU_LUC: 'ENDED',
  DA_CHUYEN_DI: 'MOVED_OUT',
};

export const RELATIONSHIP: Record<string, HouseholdRelationship> = {
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
};

export const CODE_CANCELLATION_REASON: Record<string, CodeCancellationReason> = {
  DOI_GIOI_TINH: 'SEX_CHANGE',
  SUA_NAM_SINH: 'BIRTH_YEAR_CORRECTION',
  SAI_SOT_NHAP_LIEU: 'DATA_ENTRY_ERROR',
};

export { decode } from '../../lib/code-table';
