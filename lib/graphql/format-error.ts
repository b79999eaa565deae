import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { causes, DomainError, ErrorCode, UserInputError } from './errors';
import { isDatabaseUnavailable } from '../database-failure';
import { findAgency } from '../agencies';
import { currentLanguage } from '../i18n/language';
import { message } from '../i18n/messages';
import { noteErrorCode } from '../request-scope';
import { UnknownStoredCode } from '../code-table';

/**
 * What a client may see of an error. Deliberate errors (bad input, not allowed, agency unavailable, and
 * the GraphQL request errors graphql-js makes) keep their message and code; anything else is an internal
 * fault: the client gets "Internal error" and the full error goes to the log. No SQL, stack trace or
 * URL ever leaves this way. An agency's database that cannot be reached (refused, terminated, timed out)
 * is not a fault of the request: that agency's data is missing, so the client gets AGENCY_UNAVAILABLE,
 * with the path of the field left without it.
 */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set<string>([
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
  'AUDIT_UNAVAILABLE',
]);

export type ErrorLogger = (message: string, error: unknown) => void;

export interface FormatOptions {
  /** The agency whose subgraph formats the error (lib/agencies.ts id): names it when its database fails. */
  agency?: string;
}

export function formatClientError(formatted: GraphQLFormattedError, error: unknown, log: ErrorLogger, options: FormatOptions = {}): GraphQLFormattedError {
  const answer = forClient(formatted, error, log, options);
  // The request's metrics and log line are labelled with its answer's first error code (lib/request-observer.ts).
  if (typeof answer.extensions?.code === 'string') noteErrorCode(answer.extensions.code);
  return answer;
}

function forClient(formatted: GraphQLFormattedError, error: unknown, log: ErrorLogger, options: FormatOptions): GraphQLFormattedError {
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
    return localized({ ...formatted, extensions });
  }
  if (options.agency && isDatabaseUnavailable(error)) {
    log('database unavailable', unwrapResolverError(error));
    return {
      message: message('AGENCY_DATABASE_UNAVAILABLE', { agency: options.agency }),
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.AGENCY_UNAVAILABLE, reason: 'AGENCY_DATABASE_UNAVAILABLE', agency: agencyTitle(options.agency) },
    };
  }
  const fault = causes(error).find((cause): cause is UnknownStoredCode => cause instanceof UnknownStoredCode);
  // A stored code its table does not know (lib/code-table.ts): the column's data to fix, not the request's fault.
  if (fault) log(`data fault: ${fault.column} holds a code its table does not know`, fault);
  else log('internal error', unwrapResolverError(error));
  return {
    message: message('INTERNAL_SERVER_ERROR'),
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

const agencyTitle = (id: string) => findAgency(id)?.title ?? id;

/** graphql-js's words for a variable it could not coerce ("Variable "$code" of required type …"). */
const VARIABLE_NAMED = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/;

/**
 * Errors whose words come from graphql-js or Apollo Server (parse, validation, variables, the HTTP request):
 * in Vietnamese, a sentence of ours carries their English detail.
 * A variable graphql-js could not coerce is bad input like any other: it gets a reason and the variable's name.
 */
function localized(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = formatted.extensions ?? {};
  const code = extensions.code;
  const detail = formatted.message;
  if (code === ErrorCode.BAD_USER_INPUT && extensions.reason === undefined) {
    const variable = VARIABLE_NAMED.exec(detail)?.[1];
    return {
      ...formatted,
      message: message('VARIABLE_INVALID', { detail }),
      extensions: { ...extensions, reason: 'VARIABLE_INVALID', ...(variable ? { variable } : {}) },
    };
  }
  if (currentLanguage() === 'en') return formatted;
  switch (code) {
    case 'GRAPHQL_PARSE_FAILED':
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'BAD_REQUEST':
      return { ...formatted, message: message(code, { detail }) };
    default:
      return formatted;
  }
}
