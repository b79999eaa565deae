import crypto from 'node:crypto';
import type { Prisma } from '../../prisma/residents/generated/client';
import { conflict } from '../../lib/graphql/errors';
import { personalCodePrefix, type Sex } from '../../lib/personal-code';
import { CODE_STATUS } from './codes';

/**
 * Issuing a personal code, PPP G YY RRRRRR, safely under concurrency.
 *
 * What must hold: the six last digits come from a cryptographic random source (a code must not reveal how
 * many were issued before it, so no sequence, no "max + 1"); a code is never issued twice, not even one
 * cancelled long ago; and two registrars issuing at the same instant, for the same province, sex and year,
 * still get different codes. A block PPP G YY holds 1,000,000 codes; when it is full, say so.
 *
 * How: the register of codes (table so_dinh_danh, every code ever issued, never deleted) has the code as
 * its primary key, and the PRIMARY KEY is the final guard: a candidate becomes a code only by a row
 * inserted with `INSERT ... ON CONFLICT (so_dinh_danh) DO NOTHING RETURNING`. Two transactions that draw
 * the same candidate cannot both insert it: the second waits for the first's row and, once that commits,
 * inserts nothing and draws again (if the first rolls back, the second gets the code). DO NOTHING
 * (instead of catching a unique violation) keeps the surrounding transaction usable, so the code, the
 * citizen's record and the change log still commit together or not at all. No lock is held on the block,
 * so issuance in one block never waits for another, and concurrent issuers in the same block only wait
 * for each other on the rare identical draw.
 *
 * Bounded, never an endless loop: with n codes of the block taken, a random draw collides with probability
 * n / 1,000,000; RANDOM_DRAWS draws all collide only when the block is nearly full (at 90% full, 0.9^12 =
 * 28% of the time). Then the block is counted (one index range scan): full, and the answer is
 * CODE_BLOCK_EXHAUSTED; not full, and the free codes are searched from a random starting point, wrapping
 * around, which finds one if any exists. A free code taken by someone else between that search and the
 * insert costs another search, at most FREE_SEARCHES times, then a retryable CODE_ISSUANCE_CONTENDED.
 */
export const BLOCK_SIZE = 1_000_000;
const RANDOM_DRAWS = 12;
const FREE_SEARCHES = 3;

export interface CodeRequest {
  provinceCode: string;
  sex: Sex;
  dateOfBirth: Date;
}

export interface IssuedBy {
  actor: string;
  /** The birth registration the code is issued for: at most one code per registration (a UNIQUE column). */
  birthKey?: string;
}

const serial = (n: number) => String(n).padStart(6, '0');

async function tryInsert(tx: Prisma.TransactionClient, code: string, by: IssuedBy): Promise<boolean> {
  const rows = await tx.$queryRaw<{ so_dinh_danh: string }[]>`
    INSERT INTO so_dinh_danh (so_dinh_danh, so_dinh_danh_hien_hanh, trang_thai, nguoi_cap, khoa_khai_sinh)
    VALUES (${code}, ${code}, ${CODE_STATUS.encode('IN_FORCE')}, ${by.actor}, ${by.birthKey ?? null})
    ON CONFLICT (so_dinh_danh) DO NOTHING
    RETURNING so_dinh_danh`;
  return rows.length === 1;
}

/** Issues a new code inside the caller's transaction and returns it; the register row commits with the caller's work. */
export async function issuePersonalCode(tx: Prisma.TransactionClient, request: CodeRequest, by: IssuedBy): Promise<string> {
  const prefix = personalCodePrefix(request.provinceCode, request.sex, request.dateOfBirth.getUTCFullYear());
  for (let draw = 0; draw < RANDOM_DRAWS; draw++) {
    const code = prefix + serial(crypto.randomInt(BLOCK_SIZE));
    if (await tryInsert(tx, code, by)) return code;
  }
  for (let search = 0; search < FREE_SEARCHES; search++) {
    const [{ used }] = await tx.$queryRaw<{ used: number }[]>`
      SELECT count(*)::int AS used FROM so_dinh_danh
       WHERE so_dinh_danh BETWEEN ${prefix + '000000'}::char(12) AND ${prefix + '999999'}::char(12)`;
    if (used >= BLOCK_SIZE) {
      throw conflict(
        'CODE_BLOCK_EXHAUSTED',
        { province: request.provinceCode, sex: request.sex, year: request.dateOfBirth.getUTCFullYear(), block: prefix },
        { block: prefix },
      );
    }
    const start = crypto.randomInt(BLOCK_SIZE);
    const free = await tx.$queryRaw<{ code: string }[]>`
      SELECT c.code FROM (
        SELECT (${prefix}::text || lpad(((${start}::int + g) % ${BLOCK_SIZE}::int)::text, 6, '0'))::char(12) AS code
          FROM generate_series(0, ${BLOCK_SIZE - 1}::int) AS g
      ) AS c
      WHERE NOT EXISTS (SELECT 1 FROM so_dinh_danh AS r WHERE r.so_dinh_danh = c.code)
      LIMIT 1`;
    if (free[0] && (await tryInsert(tx, free[0].code, by))) return free[0].code;
  }
  throw conflict('CODE_ISSUANCE_CONTENDED', { block: prefix }, { block: prefix });
}
