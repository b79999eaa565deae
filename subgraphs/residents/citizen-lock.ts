import type { Prisma } from '../../prisma/residents/generated/client';
import { conflict, notFound } from '../../lib/graphql/errors';
import { formatDate } from '../../lib/graphql/scalars';
import type { LogChange, Write } from '../../lib/write-transaction';
import type { Context } from './context';
import type { CitizenRecord } from './models';
import { CODE_STATUS } from './codes';

type Tx = Prisma.TransactionClient;

/**
 * Every write about a citizen starts here, inside its transaction: the citizen's core row is locked
 * (SELECT ... FOR UPDATE), so concurrent writes about the same person queue and each sees the state the
 * previous one committed. Then the rules every write shares: the person exists under this code (a
 * cancelled code is refused with the code in force, so the caller can retry under it), and (unless the
 * write allows it) is alive.
 */
export interface LockedCitizen {
  personalCode: string;
  dateOfBirth: Date;
  sex: number;
  dateOfDeath: Date | null;
}

export async function lockCitizen(
  tx: Prisma.TransactionClient,
  personalCode: string,
  argument: string,
  options: { living?: boolean } = { living: true },
): Promise<LockedCitizen> {
  const rows = await tx.$queryRaw<LockedCitizen[]>`
    SELECT so_dinh_danh AS "personalCode", ngay_sinh AS "dateOfBirth", gioi_tinh AS "sex", ngay_mat AS "dateOfDeath"
      FROM cong_dan WHERE so_dinh_danh = ${personalCode} FOR UPDATE`;
  const citizen = rows[0];
  if (!citizen) {
    const [former] = await tx.$queryRaw<{ current: string }[]>`
      SELECT so_dinh_danh_hien_hanh AS current FROM so_dinh_danh WHERE so_dinh_danh = ${personalCode} AND trang_thai = ${CODE_STATUS.encode('CANCELLED')}`;
    if (former) {
      throw conflict(
        'PERSONAL_CODE_CANCELLED',
        { code: personalCode, current: former.current.trim() },
        { argument, currentPersonalCode: former.current.trim() },
      );
    }
    throw notFound('CITIZEN_NOT_FOUND', { code: personalCode }, { argument });
  }
  if (options.living !== false && citizen.dateOfDeath !== null) {
    throw conflict('CITIZEN_DECEASED', { code: personalCode, died: formatDate(citizen.dateOfDeath) }, { argument });
  }
  return citizen;
}

/**
 * A write about one citizen (a residence, a death): the write kit's transaction with the citizen locked first
 * (lockCitizen, the argument `personalCode` unless named), then the citizen as committed, which the mutation
 * returns.
 */
export async function changeCitizen(
  ctx: Context,
  write: Write<Tx>,
  personalCode: string,
  options: { argument?: string; living?: boolean },
  work: (tx: Tx, citizen: LockedCitizen, logChange: LogChange) => Promise<void>,
): Promise<CitizenRecord> {
  await write.transaction(async (tx, logChange) => {
    const citizen = await lockCitizen(tx, personalCode, options.argument ?? 'personalCode', { living: options.living });
    await work(tx, citizen, logChange);
  });
  return (await ctx.loaders.citizen.load(personalCode))!;
}
