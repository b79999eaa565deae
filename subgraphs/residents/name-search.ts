import { UserInputError } from '../../lib/graphql/errors';
import { literalLikeText } from '../../lib/graphql/arguments';

/**
 * Vietnamese names as people type them: without diacritics ("Nguyen" finds "Nguyễn"), in any case, in
 * either Unicode normalisation form (a Windows keyboard sends "Nguyễn" precomposed, NFC; some Mac and
 * phone keyboards and legacy converters send "e" + U+0302 + U+0303, NFD), starting at any word of the name
 * ("van an" finds "Nguyễn Văn An" and "Lê Văn Anh"). What the user types is folded here exactly as the
 * database folds every name into cong_dan.cg_ho_ten_tim_kiem (cg_ten_khong_dau in
 * prisma/residents/migrations/20261206000000_name_search), and matched as the start of a run of words:
 * ' ' + typed text + anything, which the trigram index answers (README "Searching by name").
 */

/** As long as the longest full name the register holds (ho_ten is 150 characters), counted in NFC characters. */
export const MAX_NAME = 150;
/** Folded characters (spaces not counted) a search needs: a two-letter family name (Lê, Hồ, Vũ) is common. */
export const MIN_NAME = 2;

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
 * The `contains` value for cg_ho_ten_tim_kiem that finds `name` as typed: its folded text after a space (the
 * start of a word), with `%`, `_` and `\` escaped so that they match themselves (Prisma puts the value into
 * LIKE as it is). Refuses, with the argument and a reason, what no name can match or what is too long or too
 * short to search with.
 */
export function nameSearchPattern(name: string): string {
  const typed = name.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (NOT_IN_A_NAME.test(typed)) {
    throw new UserInputError('name must not contain control characters or lone UTF-16 surrogates.', { argument: 'name', reason: 'NAME_CHARACTERS' });
  }
  const length = [...typed].length;
  if (length > MAX_NAME) {
    throw new UserInputError(`name takes at most ${MAX_NAME} characters; got ${length}.`, { argument: 'name', reason: 'NAME_TOO_LONG' });
  }
  const folded = foldName(typed);
  if ([...folded.replace(/ /g, '')].length < MIN_NAME) {
    throw new UserInputError(`name needs at least ${MIN_NAME} characters besides spaces (the start of a name or of any of its words).`, {
      argument: 'name',
      reason: 'NAME_TOO_SHORT',
    });
  }
  return ` ${literalLikeText(folded)}`;
}
