import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { parsePersonalCode, PersonalCodeError } from '../personal-code';
import { inputError, UserInputError } from './errors';

/**
 * The custom scalars every subgraph declares. The gateway runs the same validators on operations
 * before it plans them (gateway/input-validation.ts), so bad input is refused before any subgraph is called.
 */
export function validatePersonalCode(value: unknown): string {
  try {
    return parsePersonalCode(value).code;
  } catch (error) {
    if (error instanceof PersonalCodeError) {
      throw new UserInputError(error.message, { reason: `PERSONAL_CODE_${error.part.toUpperCase()}` });
    }
    throw error;
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date as YYYY-MM-DD; returns it as a UTC-midnight Date. */
export function validateDate(value: unknown): Date {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match) {
    throw inputError('DATE_FORMAT', { value: String(JSON.stringify(value)).slice(0, 40) });
  }
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  if (date.toISOString().slice(0, 10) !== value) {
    throw inputError('DATE_INVALID', { value: String(value) });
  }
  return date;
}

export function formatDate(value: Date): string {
  return value.toISOString().slice(0, 10);
}

function literal(ast: ValueNode): unknown {
  return ast.kind === Kind.STRING ? ast.value : ast.kind === Kind.INT || ast.kind === Kind.FLOAT ? ast.value : undefined;
}

export const PersonalCodeScalar = new GraphQLScalarType<string, string>({
  name: 'PersonalCode',
  // Output is what the agency stored; it was validated on the way in.
  serialize: (value) => String(value),
  parseValue: (value) => validatePersonalCode(value),
  parseLiteral: (ast) => validatePersonalCode(literal(ast) ?? `<${ast.kind}>`),
});

export const DateScalar = new GraphQLScalarType<Date, string>({
  name: 'Date',
  serialize: (value) => {
    if (value instanceof Date) return formatDate(value);
    return formatDate(validateDate(value));
  },
  parseValue: (value) => validateDate(value),
  parseLiteral: (ast) => validateDate(literal(ast) ?? `<${ast.kind}>`),
});

/** Input validators by scalar name, for the gateway's check of whole operations. */
export const INPUT_SCALAR_VALIDATORS: Readonly<Record<string, (value: unknown) => unknown>> = {
  PersonalCode: validatePersonalCode,
  Date: validateDate,
};
