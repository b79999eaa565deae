import type { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../lib/graphql/errors';
import { fieldsLeftNull, withAgencyPaths, type FieldOwners } from './agency-paths';
import type { GatewayContext } from './data-source';
import { rootFields } from './access-policy';

/**
 * The gateway's answers as GraphQL over HTTP says (https://graphql.github.io/graphql-over-http/), for
 * `application/graphql-response+json` and, by choice, for `application/json` too (README, "The HTTP contract"):
 *
 * - A request that is not executed (malformed, unparsable, invalid, refused) has no `data` and a 4xx status:
 *   the status of its error's code in HTTP_STATUS (400 bad request or bad input, 401 not authenticated, 403
 *   refused by the policy, 429 rate limited), 5xx only for faults. Whoever throws may set the status (and
 *   headers such as Retry-After) in `extensions.http`; where none was set, or a client's mistake came out as a
 *   5xx, the table decides, so a refusal or bad input can never become a 500.
 * - Bad input and refusals have one shape wherever they are found. Found by a subgraph while the operation
 *   ran (an unknown province in a search, too many codes), they come back from @apollo/gateway as field
 *   errors beside `data: null` or a null field; the gateway answers them exactly like those it finds before
 *   running anything: HTTP 400/403/401, the refusals' errors, no `data` (the request is refused whole, as the
 *   access policy refuses it). The one exception is a mutation operation of several writes: each runs and
 *   commits on its own, so an earlier one may be done when a later one is refused; its refusal stays a field
 *   error beside the `data` there is, HTTP 200, so the client does not read "nothing was done".
 * - Anything else that ran is 200 with `data` and `errors`: partial answers (an agency down, each field it left
 *   null named by path: gateway/agency-paths.ts) and business refusals of a write (NOT_FOUND, CONFLICT).
 */
export const HTTP_STATUS: Readonly<Record<string, number>> = Object.freeze({
  BAD_REQUEST: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  [ErrorCode.BAD_USER_INPUT]: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
  OPERATION_NOT_SUPPORTED: 400,
  [ErrorCode.OPERATION_LIMIT_EXCEEDED]: 400,
  [ErrorCode.TRUSTED_DOCUMENT_REQUIRED]: 400,
  [ErrorCode.TRUSTED_DOCUMENT_UNKNOWN]: 400,
  PERSISTED_QUERY_NOT_SUPPORTED: 400,
  PERSISTED_QUERY_NOT_FOUND: 400,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  NOT_ACCEPTABLE: 406,
  [ErrorCode.RATE_LIMITED]: 429,
  AUDIT_UNAVAILABLE: 503,
  [ErrorCode.INTERNAL_SERVER_ERROR]: 500,
});

/** Codes that refuse a request whole even when a subgraph finds them while the operation runs. */
const REFUSED_WHOLE = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED, ErrorCode.RATE_LIMITED]);

const codeOf = (error: { extensions?: Record<string, unknown> }) => (typeof error.extensions?.code === 'string' ? error.extensions.code : undefined);

const isClientError = (error: { extensions?: Record<string, unknown> }) => {
  const status = HTTP_STATUS[codeOf(error) ?? ''];
  return status !== undefined && status < 500;
};

/** The status of a request error: that of its first error with a known code; a fault (500) if none has one. */
export function statusOf(errors: readonly { extensions?: Record<string, unknown> }[]): number {
  for (const error of errors) {
    const status = HTTP_STATUS[codeOf(error) ?? ''];
    if (status !== undefined) return status;
  }
  return 500;
}

/**
 * Gives a GraphQLError thrown before the GraphQL pipeline runs (the context function's checks: token, rate
 * limit, trusted documents) the status of its code when its thrower set none. Apollo Server answers such
 * errors itself, without plugins, with 500 where no status is set.
 */
export function withStatus(error: unknown): unknown {
  const extensions = (error as GraphQLError | undefined)?.extensions;
  if (!extensions || typeof extensions !== 'object' || (extensions.http as { status?: number } | undefined)?.status) return error;
  const status = statusOf([error as GraphQLError]);
  if (status < 500) (extensions as Record<string, unknown>).http = { ...(extensions.http as object | undefined), status };
  return error;
}

/** `fieldOwners`: those of the supergraph whose API schema the request ran under (a reloaded supergraph brings its own). */
export function httpContractPlugin(options: { fieldOwners: (schema: GraphQLSchema) => FieldOwners }): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, document, schema }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const errors = (result.errors ?? []) as GraphQLFormattedError[];
          if (errors.length === 0) return;

          if (result.data === undefined) {
            // A request error: never a 2xx, and a client's mistake never a 5xx.
            const status = response.http.status;
            if (status === undefined || status < 400 || (status >= 500 && errors.every(isClientError))) response.http.status = statusOf(errors);
            return;
          }

          const refusals = errors.filter((error) => REFUSED_WHOLE.has(codeOf(error) ?? ''));
          // Writes run one after the other, each committed on its own: in an operation of several, an earlier
          // one may be done when a later one is refused (and a non-null field's error may null all of `data`).
          const severalWrites = operation?.operation === 'mutation' && !!document && rootFields(document, operation.selectionSet).length > 1;
          if (refusals.length > 0 && !severalWrites) {
            // A request error: no data, so no path into it (nor the subgraph's own document locations).
            const errors = refusals.map(({ path: _path, locations: _locations, ...error }) => error);
            response.body.singleResult = { errors, ...(result.extensions ? { extensions: result.extensions } : {}) };
            response.http.status = statusOf(refusals);
            if (response.http.status === 401 && !response.http.headers.get('www-authenticate')) response.http.headers.set('www-authenticate', 'Bearer');
            return;
          }

          if (result.data && document && operation) {
            const data = result.data;
            result.errors = withAgencyPaths(errors, (agency) => fieldsLeftNull(schema, document, operation, data, agency, options.fieldOwners(schema)));
          }
        },
      };
    },
  };
}
