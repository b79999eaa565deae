import { inputError } from './errors';
import type { LandmarkKey } from '../i18n/messages';
import { isProvinceCode } from '../provinces';

/** Checks shared by the subgraphs' root fields; each error says which argument and what was expected. */
export function boundedList<T>(values: readonly T[], max: number, argument: string): readonly T[] {
  if (values.length > max) {
    throw inputError('TOO_MANY_VALUES', { argument, maximum: max, actual: values.length }, { argument });
  }
  return values;
}

export function pageSize(first: number | null | undefined, max: number, argument = 'first'): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw inputError('PAGE_SIZE', { argument, maximum: max, actual: size }, { argument });
  }
  return size;
}

export function provinceCodeArgument(value: string, argument: string): string {
  if (!isProvinceCode(value)) {
    throw inputError('UNKNOWN_PROVINCE', { argument, value: value.slice(0, 20) }, { argument });
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
    throw inputError('DATE_IN_FUTURE', { argument, date: date.toISOString().slice(0, 10) }, { argument });
  }
  return date;
}

/**
 * A date that cannot come before another (a residence before the person's birth, say): `what` names the other
 * date (lib/i18n/messages.ts' LANDMARKS), `reason` is the stable code of the refusal.
 */
export function notBefore(date: Date, earliest: Date, argument: string, reason: string, what: LandmarkKey, whatParams?: { number: string }): Date {
  if (date.getTime() < earliest.getTime()) {
    const day = (d: Date) => d.toISOString().slice(0, 10);
    throw inputError('DATE_BEFORE', { argument, date: day(date), what, whatParams, earliest: day(earliest) }, { argument, reason });
  }
  return date;
}

/** Free text an agency stores (names, addresses, authorities): trimmed, not empty, within its column's length. */
export function requiredText(value: string, argument: string, maxLength: number): string {
  const text = value.trim().replace(/\s+/g, ' ');
  if (text.length === 0) throw inputError('TEXT_REQUIRED', { argument }, { argument });
  if (text.length > maxLength) {
    throw inputError('TEXT_TOO_LONG', { argument, maximum: maxLength, actual: text.length }, { argument });
  }
  return text;
}

const COUNTRY = /^[A-Z]{2}$/;

/** A nationality or country: an ISO 3166 alpha-2 code, upper-cased. */
export function countryCodeArgument(value: string, argument: string): string {
  const code = value.trim().toUpperCase();
  if (!COUNTRY.test(code)) {
    throw inputError('NATIONALITY_FORMAT', { argument, value: value.slice(0, 20) }, { argument });
  }
  return code;
}

/**
 * A client's text for a LIKE pattern, matched literally: Prisma's `startsWith`/`contains` put the value into
 * LIKE without escaping (prisma/prisma#19506), so `%` and `_` would be wildcards and `"%%"` would match
 * everyone. PostgreSQL's default LIKE escape character is the backslash.
 */
export const literalLikeText = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);
