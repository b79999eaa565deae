import type { Prisma } from '../../prisma/residents/generated/client';
import { requireActor, type Caller } from '../../lib/caller';
import { notBefore, provinceCodeArgument, requiredText } from '../../lib/graphql/arguments';
import { conflict } from '../../lib/graphql/errors';
import { formatDate } from '../../lib/graphql/scalars';
import type { AddressInput, HouseholdRelationship } from './generated/graphql';
import { RELATIONSHIP } from './codes';
import type { Context } from './context';
import type { AddressRecord } from './models';
import { isUniqueViolation, RetryWrite, writeTransaction } from '../../lib/write-transaction';

/**
 * What the residence and household writes share: the transaction every write runs in, the address and
 * relationship arguments, and the translation of a database guard's refusal into a client error.
 */
export type Tx = Prisma.TransactionClient;
export type Actor = Caller & { actor: string };

export { RetryWrite };

/** The actor of a write, required before anything else is checked, read or written. */
export function actorOf(ctx: Context): Actor {
  return { ...ctx.caller, actor: requireActor(ctx.caller) };
}

/**
 * The one transaction of a write (lib/write-transaction.ts: its bounds, the retries, a busy database's
 * refusal). Afterwards the request's loaders forget what they held, so what the mutation returns (and
 * anything read later in the same request) is the state just committed.
 */
export async function inTransaction<T>(ctx: Context, work: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await writeTransaction(ctx.db, 'residents', work);
  } catch (error) {
    // A unique index refusing what the locks should have prevented: the client gets a CONFLICT to retry.
    if (isUniqueViolation(error)) throw conflict('CONCURRENT_CHANGE', {});
    throw error;
  } finally {
    ctx.loaders.citizen.clearAll();
    ctx.loaders.household.clearAll();
  }
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
