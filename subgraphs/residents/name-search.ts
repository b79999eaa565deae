import { inputError } from '../../lib/graphql/errors';
import { literalLikeText } from '../../lib/graphql/arguments';
import { sqlLiteral } from '../../lib/code-table';
import { RESIDENCE_KIND, RESIDENCE_STATUS } from './codes';

/**
 * Vietnamese names as people type them: without diacritics ("Nguyen" finds "Nguyễn"), in any case, in
 * either Unicode normalisation form (a Windows keyboard sends "Nguyễn" precomposed, NFC; some Mac and
 * phone keyboards and legacy converters send "e" + U+0302 + U+0303, NFD), starting at any word of the name
 * ("van an" finds "Nguyễn Văn An" and "Lê Văn Anh"). What the user types is folded here exactly as the
 * database folds every name into cong_dan.cg_ho_ten_tim_kiem (cg_ten_khong_dau in
 * prisma/residents/migrations/20261206000000_name_search), and looked up as the start of one of the name's
 * word suffixes (cg_hau_to: 'nguyen van an', 'van an', 'an'), each position with a B-tree of its own
 * (README "Searching by name").
 */
/** As long as the longest full name the register holds (ho_ten is 150 characters), counted in NFC characters. */
export const MAX_NAME = 150;
/**
 * Letters or digits a search needs once folded: a two-letter family name (Lê, Hồ, Vũ) is common, while one
 * letter starts a word of most names. Text without any (punctuation, emoji, "%%") is in no name: it finds nobody.
 */
export const MIN_NAME = 2;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/gu;

/** Combining marks (U+0300–U+036F): the five tones and the marks of ă â ê ô ơ ư once a name is decomposed. */
const COMBINING_MARKS = /[\u0300-\u036f]/g;
/** Đ and đ do not decompose; ð/Ð are their look-alikes in text that went through legacy converters. */
const D_WITH_STROKE = /[ĐđÐð]/g;
/**
 * Control characters (NUL, escapes, C1) left once white space is collapsed, and lone surrogates (a JSON
 * "\ud800" is a valid GraphQL string but no text): no name has them, and PostgreSQL refuses NUL outright.
 */
const NOT_IN_A_NAME = /[\p{Cc}\p{Cs}]/u;

/**
 * A name without diacritics, lower case, single-spaced: 'NGUYỄN  Văn Đức' → 'nguyen van duc'. The same steps,
 * in the same order, as the database's cg_ten_khong_dau (which also puts a space in front).
 */
export function foldName(text: string): string {
  return text.normalize('NFD').replace(D_WITH_STROKE, 'd').replace(COMBINING_MARKS, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * The LIKE pattern that finds `name` as typed at the start of a word suffix: its folded text, with `%`, `_`
 * and `\` escaped so that they match themselves, then `%`; null for text no name can contain (no letter or
 * digit at all). Refuses, with the argument and a reason, what is not text, too long, or one letter.
 */
export function nameSearchPattern(name: string): string | null {
  const typed = name.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (NOT_IN_A_NAME.test(typed)) {
    throw inputError('NAME_CHARACTERS', {}, { argument: 'name' });
  }
  const length = [...typed].length;
  if (length > MAX_NAME) {
    throw inputError('NAME_TOO_LONG', { maximum: MAX_NAME, actual: length }, { argument: 'name' });
  }
  const folded = foldName(typed);
  const letters = (folded.match(LETTER_OR_DIGIT) ?? []).length;
  if (letters === 0) return null;
  if (letters < MIN_NAME) {
    throw inputError('NAME_TOO_SHORT', { minimum: MIN_NAME }, { argument: 'name' });
  }
  return `${literalLikeText(folded)}%`;
}

/** Word positions a run of words may start at, one index each (the migration's cong_dan_cg_hau_to_<n>_idx). */
export const WORD_POSITIONS = 5;

/** Where a page of a name search starts: after this suffix and code (the last row of the previous page). */
export interface NameSearchPosition {
  suffix: string;
  personalCode: string;
}

export interface NameSearchFilters {
  dateOfBirth?: Date;
  /** PPP: the first three digits of the code. */
  birthProvince?: string;
  residenceProvince?: string;
}

/**
 * The statement that finds a page of a name search: per word position, the citizens whose suffix there
 * starts with the pattern and whose earlier suffixes do not (so each citizen is found once, at the first word
 * the text starts at), merged in (suffix, code) order. Each branch is one range of its position's index in
 * that order, so PostgreSQL merges the five ranges and stops at the page's end. Returns the page's codes and
 * the suffix each was found at, which is its place in the order (the cursor).
 */
export function nameSearchStatement(pattern: string, filters: NameSearchFilters, after: NameSearchPosition | null, limit: number) {
  const values: unknown[] = [pattern];
  const parameter = (value: unknown) => `$${values.push(value)}`;
  const limitParameter = parameter(limit);
  const conditions: string[] = [];
  if (filters.dateOfBirth) conditions.push(`c.ngay_sinh = ${parameter(filters.dateOfBirth.toISOString().slice(0, 10))}::date`);
  if (filters.birthProvince) conditions.push(`c.so_dinh_danh LIKE ${parameter(`${filters.birthProvince}%`)}`);
  if (filters.residenceProvince) {
    conditions.push(
      `EXISTS (SELECT 1 FROM dang_ky_cu_tru r WHERE r.so_dinh_danh = c.so_dinh_danh ` +
        `AND r.loai_cu_tru = ${sqlLiteral(RESIDENCE_KIND, RESIDENCE_KIND.encode('PERMANENT'))} ` +
        `AND r.trang_thai = ${sqlLiteral(RESIDENCE_STATUS, RESIDENCE_STATUS.encode('ACTIVE'))} AND r.ma_tinh = ${parameter(filters.residenceProvince)})`,
    );
  }
  const position = after ? `(%s, c.so_dinh_danh) > (${parameter(after.suffix)}::text COLLATE "C", ${parameter(after.personalCode)}::bpchar)` : null;
  const suffix = (n: number) => `cg_hau_to(c.cg_ho_ten_tim_kiem, ${n})`;
  const branches = Array.from({ length: WORD_POSITIONS }, (_, i) => {
    const n = i + 1;
    const where = [
      `${suffix(n)} LIKE $1`,
      ...Array.from({ length: i }, (_, j) => `${suffix(j + 1)} NOT LIKE $1`),
      ...(position ? [position.replace('%s', suffix(n))] : []),
      ...conditions,
    ];
    return `(SELECT c.so_dinh_danh, ${suffix(n)} AS hau_to FROM cong_dan c WHERE ${where.join(' AND ')} ORDER BY 2, 1 LIMIT ${limitParameter})`;
  });
  return {
    text: `SELECT so_dinh_danh AS "personalCode", hau_to AS suffix FROM (${branches.join(' UNION ALL ')}) AS found ORDER BY hau_to, so_dinh_danh LIMIT ${limitParameter}`,
    values,
  };
}
