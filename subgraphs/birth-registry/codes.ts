/**
 * The birth registry's code tables: the values its columns hold, and what the graph (or this subgraph) calls
 * them. The only place a stored code of this agency is written (lib/code-table.ts: the policy for an unknown one).
 */
import { codeTable, sexCodes } from '../../lib/code-table';

export const CHILD_SEX = sexCodes('dang_ky_khai_sinh.gioi_tinh_tre');

/** Where a registration request stands (birth-writes.ts): not in the graph as such, named here. */
export const REQUEST_STATUS = codeTable('cg_yeu_cau_khai_sinh.trang_thai', {
  CHO_CAP_SO: 'AWAITING_CODE',
  CHO_XEM_XET: 'HELD_FOR_REVIEW',
  HOAN_TAT: 'COMPLETED',
} as const);
