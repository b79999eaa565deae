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
