import { isProvinceCode } from './provinces';
import { message } from './i18n/messages';

/**
 * The 12-digit personal identification code: PPP G YY RRRRRR (see DESIGN.md).
 *   PPP     province of birth registration (or a country code, never starting with 0, for births abroad)
 *   G       century and sex: century = 19 + floor(G / 2), odd = female
 *   YY      last two digits of the year of birth
 *   RRRRRR  six random digits
 * There is no check digit: validation is structure plus plausibility.
 */
export type Sex = 'MALE' | 'FEMALE';

export interface PersonalCodeParts {
  code: string;
  provinceCode: string;
  /** True when PPP is a country code: the birth was registered abroad. */
  registeredAbroad: boolean;
  sex: Sex;
  birthYear: number;
  serial: string;
}

/** Why a string is not a personal code; `part` names the offending part for the client. */
export class PersonalCodeError extends Error {
  constructor(
    readonly part: 'format' | 'province' | 'century',
    message: string,
  ) {
    super(message);
    this.name = 'PersonalCodeError';
  }
}

const TWELVE_DIGITS = /^\d{12}$/;

/** Parses a personal code or throws a PersonalCodeError that says which part is wrong. */
export function parsePersonalCode(input: unknown): PersonalCodeParts {
  if (typeof input !== 'string') {
    throw new PersonalCodeError('format', message('PERSONAL_CODE_TYPE', { type: typeof input }));
  }
  if (!TWELVE_DIGITS.test(input)) {
    const shown = input.length > 20 ? `${input.slice(0, 20)}…` : input;
    throw new PersonalCodeError('format', message('PERSONAL_CODE_FORMAT', { shown, length: input.length }));
  }
  const provinceCode = input.slice(0, 3);
  const registeredAbroad = provinceCode[0] !== '0';
  if (!registeredAbroad && !isProvinceCode(provinceCode)) {
    throw new PersonalCodeError('province', message('PERSONAL_CODE_PROVINCE', { code: input, province: provinceCode }));
  }
  const g = Number(input[3]);
  const yy = Number(input.slice(4, 6));
  return {
    code: input,
    provinceCode,
    registeredAbroad,
    sex: g % 2 === 1 ? 'FEMALE' : 'MALE',
    birthYear: (19 + Math.floor(g / 2)) * 100 + yy,
    serial: input.slice(6),
  };
}

export function isPersonalCode(input: unknown): input is string {
  try {
    parsePersonalCode(input);
    return true;
  } catch {
    return false;
  }
}

/** The G digit for a sex and year of birth, or an error for a year outside 1900–2399. */
export function centuryDigit(sex: Sex, birthYear: number): number {
  const century = Math.floor(birthYear / 100);
  if (century < 19 || century > 23) {
    throw new PersonalCodeError('century', message('PERSONAL_CODE_CENTURY', { year: birthYear }));
  }
  return (century - 19) * 2 + (sex === 'FEMALE' ? 1 : 0);
}

/** The first six digits, PPP G YY, shared by every code of one province, sex and year of birth. */
export function personalCodePrefix(provinceCode: string, sex: Sex, birthYear: number): string {
  return `${provinceCode}${centuryDigit(sex, birthYear)}${String(birthYear % 100).padStart(2, '0')}`;
}

/**
 * Where a record disagrees with what its code says. An empty list means consistent.
 * A disagreement is not an error: the code may predate a correction; frontends show it for review.
 */
export interface CodeDiscrepancy {
  /** Stable: a frontend may translate from it (SEX_MISMATCH, BIRTH_YEAR_MISMATCH). */
  code: 'SEX_MISMATCH' | 'BIRTH_YEAR_MISMATCH';
  /** In the caller's language (lib/i18n/messages.ts). */
  message: string;
  codeSays: string;
  recordSays: string;
}

export function codeDiscrepancies(code: string, record: { sex?: Sex | null; dateOfBirth?: Date | null }): CodeDiscrepancy[] {
  const parts = parsePersonalCode(code);
  const found: CodeDiscrepancy[] = [];
  if (record.sex && record.sex !== parts.sex) {
    found.push({
      code: 'SEX_MISMATCH',
      message: message('SEX_MISMATCH', { codeSex: parts.sex, digit: code[3], recordSex: record.sex }),
      codeSays: parts.sex,
      recordSays: record.sex,
    });
  }
  if (record.dateOfBirth) {
    const year = record.dateOfBirth.getUTCFullYear();
    if (year !== parts.birthYear) {
      found.push({
        code: 'BIRTH_YEAR_MISMATCH',
        message: message('BIRTH_YEAR_MISMATCH', { codeYear: parts.birthYear, digits: code.slice(3, 6), recordYear: year }),
        codeSays: String(parts.birthYear),
        recordSays: String(year),
      });
    }
  }
  return found;
}
