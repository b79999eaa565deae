import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { causes, DomainError, ErrorCode, UserInputError } from './errors';

/**
 * What a client may see of an error. Deliberate errors (bad input, not allowed, agency unavailable, and
 * the GraphQL request errors graphql-js makes) keep their message and code; anything else is an internal
 * fault: the client gets "Internal error" and the full error goes to the log. No SQL, stack trace or
 * URL ever leaves this way.
 */
const CLIENT_ERROR_CODES = new Set<string>([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.AGENCY_UNAVAILABLE,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.OPERATION_LIMIT_EXCEEDED,
  ErrorCode.TRUSTED_DOCUMENT_REQUIRED,
  ErrorCode.TRUSTED_DOCUMENT_UNKNOWN,
  ErrorCode.RATE_LIMITED,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'OPERATION_NOT_SUPPORTED',
  'BAD_REQUEST',
]);

export type ErrorLogger = (message: string, error: unknown) => void;

export function formatClientError(formatted: GraphQLFormattedError, error: unknown, log: ErrorLogger): GraphQLFormattedError {
  // The originalError chain includes what unwrapResolverError would return.
  const input = causes(error).find((cause): cause is UserInputError => cause instanceof UserInputError);
  const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
  if (input) {
    return { ...formatted, extensions: { ...extensions, ...input.details, code: ErrorCode.BAD_USER_INPUT } };
  }
  const refusal = causes(error).find((cause): cause is DomainError => cause instanceof DomainError);
  if (refusal) {
    return { ...formatted, extensions: { ...extensions, ...refusal.details, code: refusal.code, reason: refusal.reason } };
  }
  const code = typeof extensions.code === 'string' ? extensions.code : undefined;
  if (code && CLIENT_ERROR_CODES.has(code)) {
    return { ...formatted, extensions };
  }
  log('internal error', unwrapResolverError(error));
  return {
    message: 'Internal error. It has been logged; retry later or contact the operator.',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
