import { UserInputError } from './errors';
import { isProvinceCode } from '../provinces';

/** Checks shared by the subgraphs' root fields; each error says which argument and what was expected. */
export function boundedList<T>(values: readonly T[], max: number, argument: string): readonly T[] {
  if (values.length > max) {
    throw new UserInputError(`${argument} takes at most ${max} values; got ${values.length}.`, { argument, reason: 'TOO_MANY_VALUES' });
  }
  return values;
}

export function pageSize(first: number | null | undefined, max: number, argument = 'first'): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new UserInputError(`${argument} must be from 1 to ${max}; got ${size}.`, { argument, reason: 'PAGE_SIZE' });
  }
  return size;
}

export function provinceCodeArgument(value: string, argument: string): string {
  if (!isProvinceCode(value)) {
    throw new UserInputError(
      `${argument} "${value}" is not a province code of the national code table (three digits, e.g. "001" for Hà Nội).`,
      { argument, reason: 'UNKNOWN_PROVINCE' },
    );
  }
  return value;
}

/** Today's date where the agencies are (Asia/Ho_Chi_Minh), as a UTC-midnight Date like the Date scalar's. */
export function today(now = new Date()): Date {
  const local = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return new Date(`${local}T00:00:00Z`);
}

/** A date of an event that has happened (a birth, a move, an issue date): not after today. */
export function notInFuture(date: Date, argument: string): Date {
  if (date.getTime() > today().getTime()) {
    throw new UserInputError(`${argument} ${date.toISOString().slice(0, 10)} is in the future.`, { argument, reason: 'DATE_IN_FUTURE' });
  }
  return date;
}

/** A date that cannot come before another (a residence before the person's birth, say). */
export function notBefore(date: Date, earliest: Date, argument: string, reason: string, what: string): Date {
  if (date.getTime() < earliest.getTime()) {
    throw new UserInputError(
      `${argument} ${date.toISOString().slice(0, 10)} is before ${what} (${earliest.toISOString().slice(0, 10)}).`,
      { argument, reason },
    );
  }
  return date;
}

/** Free text an agency stores (names, addresses, authorities): trimmed, not empty, within its column's length. */
export function requiredText(value: string, argument: string, maxLength: number): string {
  const text = value.trim().replace(/\s+/g, ' ');
  if (text.length === 0) throw new UserInputError(`${argument} must not be empty.`, { argument, reason: 'TEXT_REQUIRED' });
  if (text.length > maxLength) {
    throw new UserInputError(`${argument} is at most ${maxLength} characters; got ${text.length}.`, { argument, reason: 'TEXT_TOO_LONG' });
  }
  return text;
}

const COUNTRY = /^[A-Z]{2}$/;

/** A nationality or country: an ISO 3166 alpha-2 code, upper-cased. */
export function countryCodeArgument(value: string, argument: string): string {
  const code = value.trim().toUpperCase();
  if (!COUNTRY.test(code)) {
    throw new UserInputError(`${argument} is an ISO 3166 alpha-2 country code such as "VN"; got "${value.slice(0, 20)}".`, {
      argument,
      reason: 'NATIONALITY_FORMAT',
    });
  }
  return code;
}

/**
 * A client's text for a LIKE pattern, matched literally: Prisma's `startsWith`/`contains` put the value into
 * LIKE without escaping (prisma/prisma#19506), so `%` and `_` would be wildcards and `"%%"` would match
 * everyone. PostgreSQL's default LIKE escape character is the backslash.
 */
export const literalLikeText = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);
