import { GraphQLError } from 'graphql';

/**
 * The error codes clients may rely on (`extensions.code`). Stable: a frontend switches on them.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** One agency could not answer; the rest of the data is still returned. */
  AGENCY_UNAVAILABLE: 'AGENCY_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

/** Bad input: the message says what is wrong and what was expected; `details` say where. */
export function badInput(message: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...details } });
}

/** Errors that carry a message meant for the client (thrown on purpose for bad input). */
export class UserInputError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** Walks an error's originalError chain (graphql-js and Apollo wrap errors several times). */
export function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current && chain.length < 10 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { originalError?: unknown }).originalError;
  }
  return chain;
}
