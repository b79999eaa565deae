import { GraphQLError } from 'graphql';
import { message, type MessageKey, type MessageParams } from '../i18n/messages';

/**
 * The error codes clients may rely on (`extensions.code`). Stable: a frontend switches on them.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** One agency could not answer; the rest of the data is still returned. */
  AGENCY_UNAVAILABLE: 'AGENCY_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** A write named something (a citizen, household, card) that does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A write that the current state forbids (deceased citizen, a valid card already, a full code block...). */
  CONFLICT: 'CONFLICT',
  /** The caller did not say who they are, or a service credential is missing or wrong. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The caller's role and purpose do not allow what was asked (lib/access/policy.ts). */
  FORBIDDEN: 'FORBIDDEN',
  /** The operation is over one of the gateway's limits; `extensions.limit` says which (depth, aliases, tokens, directives, cost). */
  OPERATION_LIMIT_EXCEEDED: 'OPERATION_LIMIT_EXCEEDED',
  /** A free-form document from a caller whose role may send only trusted documents (by id). */
  TRUSTED_DOCUMENT_REQUIRED: 'TRUSTED_DOCUMENT_REQUIRED',
  /** A document id the gateway's manifest does not have. */
  TRUSTED_DOCUMENT_UNKNOWN: 'TRUSTED_DOCUMENT_UNKNOWN',
  /** Too many requests from this caller: HTTP 429, retry after `Retry-After` seconds. */
  RATE_LIMITED: 'RATE_LIMITED',
} as const;

export type ClientErrorCode = 'NOT_FOUND' | 'CONFLICT' | 'UNAUTHENTICATED' | 'AGENCY_UNAVAILABLE';

/** Bad input refused at the gateway (HTTP 400): the message says what is wrong and what was expected; `details` say where. */
export function badInput(message: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...details, http: { status: 400 } } });
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

/**
 * A refusal meant for the client that is not about the shape of the input: `code` is the category a
 * frontend switches on, `reason` the stable precise cause (e.g. CONFLICT / CITIZEN_DECEASED).
 */
export class DomainError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

type Details = Record<string, unknown> & { reason?: string };

/**
 * The errors code throws on purpose, each with the message of `key` (lib/i18n/messages.ts) in the caller's
 * language. The stable `reason` is the key, unless `details.reason` names another (a reason with several
 * wordings, such as CITIZEN_DECEASED).
 */
export function inputError<K extends MessageKey>(key: K, params: MessageParams<K>, details: Details = {}): UserInputError {
  return new UserInputError(message(key, params as never), { reason: key, ...details });
}

function domainError<K extends MessageKey>(code: ClientErrorCode, key: K, params: MessageParams<K>, details: Details = {}): DomainError {
  const { reason = key, ...rest } = details;
  return new DomainError(code, reason, message(key, params as never), rest);
}

export const notFound = <K extends MessageKey>(key: K, params: MessageParams<K>, details?: Details) => domainError('NOT_FOUND', key, params, details);
export const conflict = <K extends MessageKey>(key: K, params: MessageParams<K>, details?: Details) => domainError('CONFLICT', key, params, details);
export const unavailable = <K extends MessageKey>(key: K, params: MessageParams<K>, details?: Details) =>
  domainError('AGENCY_UNAVAILABLE', key, params, details);
export const unauthenticatedCaller = <K extends MessageKey>(key: K, params: MessageParams<K>, details?: Details) =>
  domainError('UNAUTHENTICATED', key, params, details);

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
