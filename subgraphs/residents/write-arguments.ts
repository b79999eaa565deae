import { notBefore, provinceCodeArgument, requiredText } from '../../lib/graphql/arguments';
import type { AddressInput } from './generated/graphql';
import type { AddressRecord } from './models';

/**
 * The arguments the residence and household writes share (the transaction, the actor, the change log and the
 * loaders are the write kit's: lib/write-transaction.ts).
 */

/** An address to register, trimmed and checked against the columns' lengths and the province table. */
export function addressArgument(address: AddressInput, argument: string): AddressRecord {
  return {
    provinceCode: provinceCodeArgument(address.provinceCode.trim(), `${argument}.provinceCode`),
    district: requiredText(address.district, `${argument}.district`, 100),
    ward: requiredText(address.ward, `${argument}.ward`, 100),
    street: requiredText(address.street, `${argument}.street`, 255),
  };
}

export function notBeforeBirth(date: Date, citizen: { dateOfBirth: Date }, argument: string): Date {
  return notBefore(date, citizen.dateOfBirth, argument, 'DATE_BEFORE_BIRTH', 'CITIZEN_BIRTH');
}
