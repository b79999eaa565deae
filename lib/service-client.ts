import { currentLanguage } from './i18n/language';
import { agency, type Agency } from './agencies';
import { toClaims } from './access/principal';
import { CALLER_HEADERS, type Caller } from './caller';
import { DomainError, UserInputError, type ClientErrorCode } from './graphql/errors';
import type { Agent } from 'undici';
import { createHttpAgent, describeFetchFailure, send } from './http-client';
import { SERVICE_SCHEME, type CredentialSigner } from './service-auth';
import type { TlsMaterial } from './tls';
import { outgoingTraceHeaders } from './request-scope';

/**
 * One agency's service calling another agency's subgraph directly (not through the gateway), with a
 * service credential signed with this agency's own key over the exact request body (lib/service-auth.ts),
 * naming the person the call is made for, so the other agency records who acted. A call without a
 * principal carries no credential (a sealed subgraph refuses it). With TLS configured, the call goes over
 * HTTPS and presents this agency's client certificate (mutual TLS). What can happen, and what the caller gets:
 *   - no answer, a timeout, an HTTP error, or the agency saying it cannot answer now (AGENCY_UNAVAILABLE:
 *     its database out of reach, too busy to take a write in time)   AgencyUnreachableError (the write may be retried)
 *   - a refusal (bad input, not found, conflict)     the same refusal, code and reason kept
 *   - anything else                                  an internal error, logged by the caller
 */
export interface ServiceClientOptions {
  from: Agency['id'];
  to: Agency['id'];
  url: string;
  /** Signs each call's credential; null: calls go without one (development without keys, unsealed subgraphs). */
  signer: CredentialSigner | null;
  timeoutMs: number;
  /** Client certificate, key and the CA the target's certificate must chain to (SERVICE_TLS_*); null: plain HTTP. */
  tls?: TlsMaterial | null;
}

export class AgencyUnreachableError extends Error {
  constructor(
    readonly agency: Agency,
    readonly cause: string,
  ) {
    super(`${agency.title} unreachable: ${cause}`);
    this.name = 'AgencyUnreachableError';
  }
}

interface RemoteError {
  message: string;
  extensions?: { code?: string; reason?: string; [key: string]: unknown };
}

const PASSED_ON = new Set<string>(['NOT_FOUND', 'CONFLICT', 'UNAUTHENTICATED']);

export class ServiceClient {
  readonly target: Agency;

  constructor(private readonly options: ServiceClientOptions) {
    this.target = agency(options.to);
    this.agent = createHttpAgent({ tls: options.tls });
  }

  /** Kept-alive connections to the other agency, with this agency's client certificate under mutual TLS. */
  private readonly agent: Agent;

  async request<Data>(query: string, variables: Record<string, unknown>, caller: Caller): Promise<Data> {
    const { to, url, signer, timeoutMs } = this.options;
    const payload = JSON.stringify({ query, variables });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [CALLER_HEADERS.requestId]: caller.requestId,
      // The trace of the request being served goes on, with a span of this call's own.
      ...outgoingTraceHeaders(),
      // The other agency's refusals, passed on to the client, speak the client's language too.
      'accept-language': currentLanguage(),
    };
    if (signer && caller.principal) {
      headers.authorization = `${SERVICE_SCHEME} ${await signer.sign(to, payload, { principal: toClaims(caller.principal) })}`;
    }
    if (caller.actor) headers[CALLER_HEADERS.actor] = caller.actor;
    let response: { status: number; ok: boolean };
    let body: { data?: Data | null; errors?: RemoteError[] };
    try {
      const answer = await send(url, { method: 'POST', headers, body: payload, dispatcher: this.agent, signal: AbortSignal.timeout(timeoutMs) });
      response = { status: answer.status, ok: answer.status >= 200 && answer.status < 300 };
      body = JSON.parse(answer.body) as typeof body;
    } catch (error) {
      throw new AgencyUnreachableError(this.target, describeFetchFailure(error));
    }
    const first = body.errors?.[0];
    if (first) {
      const code = first.extensions?.code;
      const { code: _code, reason, ...details } = first.extensions ?? {};
      if (code === 'BAD_USER_INPUT') throw new UserInputError(first.message, { ...details, ...(reason ? { reason } : {}) });
      if (code && PASSED_ON.has(code)) throw new DomainError(code as ClientErrorCode, String(reason ?? code), first.message, details);
      if (code === 'AGENCY_UNAVAILABLE') throw new AgencyUnreachableError(this.target, `${String(reason ?? code)}: ${first.message}`);
      if (response.status >= 500 || code === 'INTERNAL_SERVER_ERROR') throw new AgencyUnreachableError(this.target, `HTTP ${response.status}: ${first.message}`);
      throw new Error(`${this.target.title} refused a service call: ${first.message}`);
    }
    if (!response.ok || body.data == null) throw new AgencyUnreachableError(this.target, `HTTP ${response.status}`);
    return body.data;
  }
}
