/** The National ID Center's code tables: the values its columns hold, and what the graph calls them. */
import type { IdentityCardKind, IdentityCardStatus } from './generated/graphql';

export const CARD_KIND: Record<string, IdentityCardKind> = { CMND: 'LEGACY_ID', CCCD: 'CITIZEN_ID', CCCD_CHIP: 'CHIP_ID' };

export const CARD_STATUS: Record<string, IdentityCardStatus> = {
  CON_HIEU_LUC: 'VALID',
  HET_HAN: 'EXPIRED',
  MAT: 'LOST',
  THU_HOI: 'REVOKED',
  DA_THAY_THE: 'REPLACED',
};

export { decode } from '../../lib/code-table';
