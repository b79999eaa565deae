import type { Prisma } from '../../prisma/residents/generated/client';
import { requireActor, type Caller } from '../../lib/caller';
import { notBefore, provinceCodeArgument, requiredText } from '../../lib/graphql/arguments';
import { conflict } from '../../lib/graphql/errors';
import { formatDate } from '../../lib/graphql/scalars';
import type { AddressInput, HouseholdRelationship } from './generated/graphql';
import { RELATIONSHIP } from './codes';
import type { Context } from './context';
import type { AddressRecord } from './models';

/**
 * What the residence and household writes share: the transaction every write runs in, the address and
 * relationship arguments, and the translation of a database guard's refusal into a client error.
 */
export type Tx = Prisma.TransactionClient;
export type Actor = Caller & { actor: string };

/** Thrown inside a write's transaction when what it read before locking changed meanwhile: run it again. */
export class RetryWrite extends Error {}

const ATTEMPTS = 3;
// Writes about one citizen queue on its row lock; allow for a queue (10 parallel writes, a busy pool).
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 20_000 };

/** The actor of a write, required before anything else is checked, read or written. */
export function actorOf(ctx: Context): Actor {
  return { ...ctx.caller, actor: requireActor(ctx.caller) };
}

/**
 * The one transaction of a write (run again when it asks to, see RetryWrite). Afterwards the request's
 * loaders forget what they held, so what the mutation returns (and anything read later in the same
 * request) is the state just committed.
 */
export async function inTransaction<T>(ctx: Context, work: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ctx.db.prisma.$transaction((tx) => work(tx), TRANSACTION_OPTIONS);
      } catch (error) {
        if (!(error instanceof RetryWrite) || attempt >= ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    if (error instanceof RetryWrite || isConcurrencyFailure(error)) {
      throw conflict('CONCURRENT_CHANGE', {});
    }
    throw error;
  } finally {
    ctx.loaders.citizen.clearAll();
    ctx.loaders.household.clearAll();
  }
}

/**
 * A unique index, deadlock or serialization failure: the database's guards refusing what the locks should
 * have prevented. The client gets a CONFLICT to retry, not an internal error.
 */
function isConcurrencyFailure(error: unknown): boolean {
  const codes = new Set(['P2002', '23505', '40P01', '40001']);
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown } } } };
    if (
      codes.has(String(candidate.code)) ||
      codes.has(String(candidate.meta?.code)) ||
      codes.has(String(candidate.meta?.driverAdapterError?.cause?.originalCode))
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** An address to register, trimmed and checked against the columns' lengths and the province table. */
export function addressArgument(address: AddressInput, argument: string): AddressRecord {
  return {
    provinceCode: provinceCodeArgument(address.provinceCode.trim(), `${argument}.provinceCode`),
    district: requiredText(address.district, `${argument}.district`, 100),
    ward: requiredText(address.ward, `${argument}.ward`, 100),
    street: requiredText(address.street, `${argument}.street`, 255),
  };
}

const RELATIONSHIP_CODES = Object.fromEntries(Object.entries(RELATIONSHIP).map(([code, name]) => [name, code])) as Record<
  HouseholdRelationship,
  string
>;

export function relationshipCode(relationship: HouseholdRelationship): string {
  return RELATIONSHIP_CODES[relationship];
}

export function notBeforeBirth(date: Date, citizen: { dateOfBirth: Date }, argument: string): Date {
  return notBefore(date, citizen.dateOfBirth, argument, 'DATE_BEFORE_BIRTH', 'CITIZEN_BIRTH');
}

export const day = formatDate;
