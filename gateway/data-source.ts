import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CALLER_HEADERS, isRequestId } from '../lib/caller';
import { toClaims, type Principal } from '../lib/access/principal';
import { SERVICE_SCHEME, type CredentialSigner, type PrincipalClaims } from '../lib/service-auth';
import type { TlsMaterial } from '../lib/tls';
import type { Authenticate, PurposeRefusal } from './authentication';
import type { Fetcher, FetcherRequestInit } from '@apollo/utils.fetcher';
import { createHttpAgent, describeFetchFailure, send, type HttpAnswer } from '../lib/http-client';
import { SubgraphResponse } from './subgraph-response';
import { subgraphBreaker, SubgraphSkipped, type BreakerSettings, type BreakerState, type Guard } from './subgraph-breaker';
import { findAgency } from '../lib/agencies';
import { ErrorCode } from '../lib/graphql/errors';
import { takeAccessRecord, type AccessRecordContext } from './access-records';
import { takeRelatives, type RelativesContext } from './citizen-self-service';
import { currentLanguage, type Language } from '../lib/i18n/language';
import { message } from '../lib/i18n/messages';
import { outgoingTraceHeaders, scopeOf } from '../lib/request-scope';
import { TRACEPARENT_HEADER } from '../lib/trace-context';
import type { SubgraphCallResult } from '../lib/metrics';

/**
 * How the gateway calls one subgraph: HTTP keep-alive with a bounded number of connections (no TCP and
 * no new connection per request), a timeout on every call, a circuit breaker (gateway/subgraph-breaker.ts),
 * and failures turned into an error a citizen-facing frontend can show: which agency's data is missing, in
 * plain words, without the subgraph's URL, the network error or anything else internal (that goes to the log).
 */
export interface DataSourceOptions {
  name: string;
  url: string;
  /** Signs each call's credential for the subgraph (lib/service-auth.ts); null: calls go without one. */
  signer: CredentialSigner | null;
  /** Client certificate for mutual TLS (SERVICE_TLS_*); null: none. */
  tls?: TlsMaterial | null;
  timeoutMs: number;
  maxSockets: number;
  deduplicate: boolean;
  /** When calls that get no answer open the subgraph's circuit, and when it is probed again; absent: no breaker. */
  breaker?: BreakerSettings;
  /** Each change of the subgraph's breaker state (closed, open, half-open); also logged. */
  onBreakerStateChange?(subgraph: string, state: BreakerState): void;
  /** The gateway records the accesses of client requests (gateway/access-records.ts); else the subgraphs do. */
  recordsAccesses: boolean;
  /** A failed call's warning, with structured fields (subgraph, errorKind): the gateway's log. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Each call's outcome and seconds (citizen_graph_subgraph_request_duration_seconds, lib/metrics.ts). */
  observe?: (subgraph: string, result: SubgraphCallResult, seconds: number) => void;
}

/**
 * Internal: what willSendRequest hands the fetcher to sign (the principal, and whether the gateway records),
 * base64url JSON. The fetcher always removes it; it never leaves the gateway.
 */
export const CREDENTIAL_REQUEST_HEADER = 'x-citizen-graph-credential-request';

interface CredentialRequest {
  prn: PrincipalClaims;
  rec: boolean;
  /** A citizen's relatives named earlier in the request (ServiceClaims.rel). */
  rel?: string[];
}

export interface FetcherOptions {
  timeoutMs: number;
  /** Connections at most to the subgraph (SUBGRAPH_MAX_SOCKETS). */
  maxSockets: number;
  deduplicate?: boolean;
  /** The subgraph called: the audience of its credentials. */
  audience?: string;
  signer?: CredentialSigner | null;
  tls?: TlsMaterial | null;
  /** Wraps each call actually sent (the circuit breaker); none: sent as is. */
  guard?: Guard;
}

/** A call to the subgraph, answered whole; the Fetcher's Response is made from it per caller. */
type Call = (url: string, init?: FetcherRequestInit) => Promise<HttpAnswer>;

export function keepAliveFetcher(options: FetcherOptions): Fetcher {
  // One agent per subgraph: its connections kept alive and bounded, with the client certificate for mutual TLS.
  const dispatcher = createHttpAgent({ connections: options.maxSockets, tls: options.tls });
  const guard = options.guard ?? ((call) => call());
  const network: Call = (url, init) => guard(() => send(url, { ...init, dispatcher, signal: AbortSignal.timeout(options.timeoutMs) }));
  const signed = signing(network, options.audience ?? '', options.signer ?? null);
  const call = options.deduplicate === false ? signed : deduplicating(signed);
  return async (url, init) => new SubgraphResponse(await call(url, init), url);
}

/**
 * The credential is signed here, where the exact body bytes are known (RemoteGraphQLDataSource serialises
 * the request after willSendRequest): a fresh one per call actually sent, over `init.body`. A deduplicated
 * read shares the one call (and credential) its identical twin sends.
 */
function signing(call: Call, audience: string, signer: CredentialSigner | null): Call {
  return async (url, init) => {
    const given = init?.headers ?? {};
    const { [CREDENTIAL_REQUEST_HEADER]: request, ...headers } = given;
    if (request === undefined) return call(url, init);
    if (signer && typeof init?.body === 'string') {
      const { prn, rec, rel } = JSON.parse(Buffer.from(request, 'base64url').toString('utf8')) as CredentialRequest;
      headers.authorization = `${SERVICE_SCHEME} ${await signer.sign(audience, init.body, { principal: prn, recordedByGateway: rec, relatives: rel })}`;
    }
    return call(url, { ...init, headers });
  };
}

/**
 * In-flight deduplication: while a read is on its way to a subgraph, an identical one (same URL, same
 * headers, same query and variables) waits for the same answer instead of being sent again. Popular
 * queries under load (statistics on a dashboard, the same citizen opened at several counters) then cost
 * the subgraph and its database one call per moment, not one per client. Only queries: a mutation is
 * always sent. The answer is shared as read (a string); each caller gets a Response of its own
 * (SubgraphResponse), so the objects the gateway parses and merges into are never shared between requests.
 * Headers are part of the key, so callers with different credentials never share an answer.
 */
function deduplicating(call: Call): Call {
  const inFlight = new Map<string, Promise<HttpAnswer>>();
  return (url, init) => {
    if (!isQuery(init?.body)) return call(url, init);
    // The request id and trace differ for every client request, so they are left out of the key; the actor is not.
    const { [CALLER_HEADERS.requestId]: _requestId, [TRACEPARENT_HEADER]: _trace, ...headers } = init!.headers ?? {};
    const key = JSON.stringify([url, headers, init!.body]);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = call(url, init).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
}

/**
 * The body RemoteGraphQLDataSource sends is JSON.stringify({ query, variables, ... }) with `query` first,
 * so the operation's kind is read off the start of the string: no JSON.parse on the hot path.
 */
const QUERY_BODY = /^\{"query":"\s*(?:query\b|\{)/;

function isQuery(body: unknown): boolean {
  return typeof body === 'string' && QUERY_BODY.test(body);
}

/** Why a call failed, for its metric: keyed by the error didEncounterError throws. */
const failures = new WeakMap<object, SubgraphCallResult>();

/**
 * A subgraph the gateway could not get an answer from. The error has no path here: the gateway gives it the
 * path of each field the agency left null before the answer leaves (gateway/agency-paths.ts).
 */
export function agencyUnavailable(name: string): GraphQLError {
  const known = findAgency(name);
  return new GraphQLError(message('AGENCY_UNREACHABLE', { agency: known?.id }), {
    extensions: { code: ErrorCode.AGENCY_UNAVAILABLE, reason: 'AGENCY_UNREACHABLE', agency: known?.title ?? 'unknown' },
  });
}

/**
 * What the gateway passes on to every subgraph call of a client request: the actor the client names
 * (x-actor, recorded by the subgraphs with every write) and a request id (the client's x-request-id if it
 * is well formed, else a new one), which the response carries back so a client can quote it.
 */
export interface GatewayContext extends AccessRecordContext, RelativesContext {
  actor?: string;
  requestId: string;
  /** The authenticated caller (gateway/authentication.ts); absent only when authentication is off. */
  principal?: Principal;
  /** What the policy must refuse (and audit) of this request: a purpose or case reference not bound to the token. */
  purposeRefusal?: PurposeRefusal;
  /** The client's address (the TCP peer), the rate limit's key for a caller without a principal. */
  clientAddress?: string;
  /** The manifest id of the operation when it is a trusted document (gateway/trusted-documents.ts). */
  trustedDocumentId?: string;
  /** The client's language (Accept-Language), passed on to every subgraph call so that their messages speak it too. */
  language?: Language;
  /** The answer is wanted as CSV (Accept: text/csv, gateway/statistics-csv.ts): only a statistics table can be. */
  resultFormat?: 'csv';
}

export async function requestContext(req: IncomingMessage, res: ServerResponse, authenticate: Authenticate | null): Promise<GatewayContext> {
  const given = req.headers[CALLER_HEADERS.requestId];
  // The id the request observer gave the request (lib/request-observer.ts), the one its log lines carry.
  const requestId = scopeOf(res as ServerResponse & { locals?: Record<string, unknown> })?.requestId ?? (isRequestId(given) ? given : crypto.randomUUID());
  res.setHeader(CALLER_HEADERS.requestId, requestId);
  const clientAddress = req.socket?.remoteAddress;
  const address = clientAddress ? { clientAddress } : {};
  const language = currentLanguage();
  if (authenticate) return { requestId, language, ...(await authenticate(req, requestId)), ...address };
  // Authentication off (development against unsealed subgraphs, benchmarks): the caller names the actor.
  const actor = req.headers[CALLER_HEADERS.actor];
  return { requestId, language, ...(typeof actor === 'string' ? { actor } : {}), ...address };
}

export class AgencyDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly agencyName: string;
  private readonly recordsAccesses: boolean;
  private readonly log: (message: string, fields?: Record<string, unknown>) => void;
  private readonly observe: DataSourceOptions['observe'];

  constructor(options: DataSourceOptions) {
    const log = options.log ?? ((message: string) => console.error(`[gateway] ${message}`));
    const guard = options.breaker
      ? subgraphBreaker({ ...options.breaker, subgraph: options.name, onStateChange: options.onBreakerStateChange, log })
      : undefined;
    super({ url: options.url, fetcher: keepAliveFetcher({ ...options, audience: options.name, guard }) });
    this.agencyName = options.name;
    this.recordsAccesses = options.recordsAccesses;
    this.log = log;
    this.observe = options.observe;
  }

  /** Times each call and notes how it ended (didEncounterError says why a failed one failed). */
  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const started = process.hrtime.bigint();
    let result: SubgraphCallResult = 'ok';
    try {
      const response = await super.process(options);
      if (response.errors?.length) result = 'graphql_errors';
      return response;
    } catch (error) {
      result = failures.get(error as object) ?? 'unreachable';
      throw error;
    } finally {
      this.observe?.(this.agencyName, result, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    // Only this method ever asks the fetcher for a credential.
    headers?.delete(CREDENTIAL_REQUEST_HEADER);
    if (!headers || !context?.requestId) return;
    headers.set(CALLER_HEADERS.requestId, context.requestId);
    // The client request's trace, with a span id of this call's own (lib/trace-context.ts).
    for (const [name, value] of Object.entries(outgoingTraceHeaders())) headers.set(name, value);
    headers.set('accept-language', context.language ?? currentLanguage());
    if (context.principal) {
      // The seal: the fetcher signs a credential for this subgraph alone, over this call's exact body,
      // naming the caller, role, purpose and request id.
      const request: CredentialRequest = { prn: toClaims(context.principal), rec: this.recordsAccesses };
      // Citizen self-service: the parents and children an agency named so far, whose names this call may serve.
      if (context.relatives?.size) request.rel = [...context.relatives];
      headers.set(CREDENTIAL_REQUEST_HEADER, Buffer.from(JSON.stringify(request)).toString('base64url'));
    } else if (context.actor) {
      headers.set(CALLER_HEADERS.actor, context.actor);
    }
  }

  didReceiveResponse({ response, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    takeAccessRecord(response, this.agencyName, context);
    takeRelatives(response, context);
    return response;
  }

  didEncounterError(error: Error, _request: unknown, response?: { status?: number }): never {
    if (error instanceof SubgraphSkipped) {
      // Skipped by the open breaker: not logged one by one (the breaker logs when it opens and closes).
      const unavailable = agencyUnavailable(this.agencyName);
      failures.set(unavailable, 'circuit_open');
      throw unavailable;
    }
    const result: SubgraphCallResult = error.name === 'AbortError' || error.name === 'TimeoutError' ? 'timeout' : response?.status ? 'http_error' : 'unreachable';
    const reason = response?.status ? `answered HTTP ${response.status}` : describeFetchFailure(error);
    // A timeout says all there is to say; for the others the error (a refused connection, a reset) is kept.
    this.log(`subgraph ${this.agencyName} ${reason}`, { subgraph: this.agencyName, errorKind: result, status: response?.status, ...(result === 'timeout' ? {} : { err: error }) });
    const unavailable = agencyUnavailable(this.agencyName);
    failures.set(unavailable, result);
    throw unavailable;
  }
}
