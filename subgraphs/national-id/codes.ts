/**
 * The National ID Center's code tables: the values its columns hold, and what the graph calls them. The only
 * place a stored code of this agency is written (lib/code-table.ts: the policy for an unknown one).
 */
import { codeTable } from '../../lib/code-table';
import type { IdentityCardKind, IdentityCardStatus } from './generated/graphql';

export const CARD_KIND = codeTable('the_can_cuoc.loai_the', {
  CMND: 'LEGACY_ID',
  CCCD: 'CITIZEN_ID',
  CCCD_CHIP: 'CHIP_ID',
} as const satisfies Record<string, IdentityCardKind>);

export const CARD_STATUS = codeTable('the_can_cuoc.trang_thai', {
  CON_HIEU_LUC: 'VALID',
  HET_HAN: 'EXPIRED',
  MAT: 'LOST',
  THU_HOI: 'REVOKED',
  DA_THAY_THE: 'REPLACED',
} as const satisfies Record<string, IdentityCardStatus>);
