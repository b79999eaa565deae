import type { Request, RequestHandler, Response } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { Logger } from './log';
import { resultLabel, type ServiceMetrics } from './metrics';
import { attachScope, inScope, noteOperation, scopeFields, scopeFromHeaders, scopeOf } from './request-scope';
import { CALLER_HEADERS, type Caller } from './caller';

/**
 * Every GraphQL request a process serves (gateway or subgraph), observed from the first middleware to the
 * last byte of the answer: its scope (request id and trace, lib/request-scope.ts) is made from its headers,
 * the request id goes back in x-request-id, and when the answer is done (or the client went away) one log
 * line ("request": operation, result, status, durationMs, with the ids) is written and the latency histogram
 * observed. Both are labelled with the operation, a bounded label the server chooses (`operationOf`, or what a
 * plugin noted; "other" when neither), and the result: "ok", the answer's first error code (noted by
 * formatClientError), or the class of the HTTP status.
 *
 * `begin` goes first on the route; `enter` after the body parser (and, in a subgraph, after the seal), whose
 * stream events lose the async context, so the rest of the request runs in the scope again.
 */
export interface RequestObserverOptions {
  log: Logger;
  metrics: ServiceMetrics;
  /** The operation label read off the request itself (the gateway: its trusted document's name); else what was noted. */
  operationOf?(req: Request): string | undefined;
}

export interface RequestObserver {
  begin: RequestHandler;
  enter: RequestHandler;
}

export function observeRequests(options: RequestObserverOptions): RequestObserver {
  const { log, metrics } = options;
  return {
    begin(req, res, next) {
      // A CORS preflight is the browser's question, not a request: neither logged nor measured.
      if (req.method === 'OPTIONS') return next();
      const scope = scopeFromHeaders(req.headers);
      attachScope(res, scope);
      res.setHeader(CALLER_HEADERS.requestId, scope.requestId);
      const started = process.hrtime.bigint();
      res.once('close', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const operation = options.operationOf?.(req) ?? scope.operation ?? 'other';
        const result = res.writableFinished ? resultLabel(scope.errorCode, res.statusCode) : 'ABORTED';
        metrics.observeRequest(operation, result, seconds);
        log.info({ ...scopeFields(scope), operation, result, status: res.statusCode, durationMs: Math.round(seconds * 10_000) / 10 }, 'request');
      });
      inScope(scope, next);
    },
    enter(_req, res, next) {
      const scope = scopeOf(res);
      if (scope) inScope(scope, next);
      else next();
    },
  };
}

/**
 * In a subgraph, after the seal: the request id is the one the caller's verified credential names (the
 * gateway's id of the client request, also in every audit record of it), or the one the caller object
 * was made with, so that the log and the records agree.
 */
export const adoptCallerRequestId: RequestHandler = (_req, res: Response, next) => {
  const scope = scopeOf(res);
  const caller = res.locals.caller as Caller | undefined;
  if (scope && caller) scope.requestId = caller.requestId;
  next();
};

/**
 * A subgraph's operation label: the schema's root field it asks for (Query.citizen, Query._entities,
 * Mutation.registerBirth), or Query.multiple when it asks for several. The gateway names the operations it
 * sends after its client's, which for a free-form document is the client's free text: never a label.
 */
export function rootFieldOperation(operation: OperationDefinitionNode): string {
  const type = operation.operation === 'query' ? 'Query' : operation.operation === 'mutation' ? 'Mutation' : 'Subscription';
  const names = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return `${type}.multiple`;
    names.add(selection.name.value);
  }
  return names.size === 1 ? `${type}.${[...names][0]}` : `${type}.multiple`;
}

/** Notes a subgraph request's operation label once the document is validated (its root fields are the schema's). */
export function operationLabelPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation) noteOperation(rootFieldOperation(operation));
        },
      };
    },
  };
}

/** The gateway's label of a trusted document: its manifest name, or "anonymous" when it has none. */
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;
export const trustedOperationLabel = (name: string | null | undefined): string => (name && OPERATION_NAME.test(name) ? name : 'anonymous');
