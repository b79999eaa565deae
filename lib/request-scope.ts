import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Response } from 'express';
import { CALLER_HEADERS, isRequestId } from './caller';
import { childTraceparent, TRACEPARENT_HEADER, traceFrom, type TraceContext } from './trace-context';

/**
 * What identifies one request in a process (gateway or subgraph) while it is served: its request id (the
 * client's x-request-id if well formed, else a new one; the one the gateway sends every subgraph, which
 * also records it in every audit record) and its trace (lib/trace-context.ts). It is held in an
 * AsyncLocalStorage for the rest of the request, as the caller's language is (lib/i18n/language.ts), so
 * that every log line written while serving it carries the ids (lib/log.ts) and every call to another
 * service passes them on, without being handed through every function.
 *
 * It also collects what the request's metrics are labelled with (lib/request-observer.ts): the operation
 * (a bounded label chosen by the server, never the client's text) and the first error code of the answer.
 */
export interface RequestScope {
  requestId: string;
  trace: TraceContext;
  /** The metrics label of the operation (lib/request-observer.ts); unset: not known (yet). */
  operation?: string;
  /** The code of the first error the answer carries (formatClientError notes it); unset: none so far. */
  errorCode?: string;
}

const storage = new AsyncLocalStorage<RequestScope>();
const SCOPE = Symbol('request scope');

/** The scope of a request from its headers: the id and trace it came with, when well formed. */
export function scopeFromHeaders(headers: IncomingHttpHeaders): RequestScope {
  const given = headers[CALLER_HEADERS.requestId];
  return {
    requestId: isRequestId(given) ? given : crypto.randomUUID(),
    trace: traceFrom(headers[TRACEPARENT_HEADER]),
  };
}

/** The request being served (undefined outside one: start-up, timers, scripts). */
export const currentScope = (): RequestScope | undefined => storage.getStore();

export const inScope = <T>(scope: RequestScope, run: () => T): T => storage.run(scope, run);

/** The scope an Express response was given by the request observer (lib/request-observer.ts). */
export const scopeOf = (res: Response | { locals?: Record<string | symbol, unknown> }): RequestScope | undefined =>
  res.locals?.[SCOPE as unknown as string] as RequestScope | undefined;

export const attachScope = (res: Response, scope: RequestScope): void => {
  res.locals[SCOPE as unknown as string] = scope;
};

/** Notes the code of an error the answer carries; the first one labels the request (AUDIT_UNAVAILABLE overrides). */
export function noteErrorCode(code: string, options: { override?: boolean } = {}): void {
  const scope = storage.getStore();
  if (scope && (options.override || scope.errorCode === undefined)) scope.errorCode = code;
}

/** Names the operation of the request being served (a bounded label: lib/request-observer.ts). */
export function noteOperation(label: string): void {
  const scope = storage.getStore();
  if (scope) scope.operation = label;
}

/** The log fields of a scope: the ids, nothing the client wrote besides a well-formed id. */
export function scopeFields(scope: RequestScope): { requestId: string; traceId: string; spanId: string; parentSpanId?: string } {
  const { requestId, trace } = scope;
  return trace.parentSpanId
    ? { requestId, traceId: trace.traceId, spanId: trace.spanId, parentSpanId: trace.parentSpanId }
    : { requestId, traceId: trace.traceId, spanId: trace.spanId };
}

/** The traceparent of a call made now to another service: the current trace, a new span; none outside a request. */
export function outgoingTraceHeaders(): Record<string, string> {
  const scope = storage.getStore();
  return scope ? { [TRACEPARENT_HEADER]: childTraceparent(scope.trace) } : {};
}
