import { agency, type Agency } from './agencies';
import { toClaims } from './access/principal';
import { CALLER_HEADERS, type Caller } from './caller';
import { DomainError, UserInputError, type ClientErrorCode } from './graphql/errors';
import { SERVICE_SCHEME, signServiceToken } from './service-auth';

/**
 * One agency's service calling another agency's subgraph directly (not through the gateway), with a
 * service credential and the original caller's actor and request id, so the other agency records who
 * acted. What can happen, and what the caller gets:
 *   - no answer, a timeout, an HTTP error            AgencyUnreachableError (the write may be retried)
 *   - a refusal (bad input, not found, conflict)     the same refusal, code and reason kept
 *   - anything else                                  an internal error, logged by the caller
 */
export interface ServiceClientOptions {
  from: Agency['id'];
  to: Agency['id'];
  url: string;
  secret: string;
  timeoutMs: number;
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
  }

  async request<Data>(query: string, variables: Record<string, unknown>, caller: Caller): Promise<Data> {
    const { from, to, url, secret, timeoutMs } = this.options;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      authorization: `${SERVICE_SCHEME} ${signServiceToken(secret, from, to, caller.principal ? { principal: toClaims(caller.principal) } : {})}`,
      [CALLER_HEADERS.requestId]: caller.requestId,
    };
    if (caller.actor) headers[CALLER_HEADERS.actor] = caller.actor;
    let response: Response;
    let body: { data?: Data | null; errors?: RemoteError[] };
    try {
      response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(timeoutMs) });
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw new AgencyUnreachableError(this.target, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
    const first = body.errors?.[0];
    if (first) {
      const code = first.extensions?.code;
      const { code: _code, reason, ...details } = first.extensions ?? {};
      if (code === 'BAD_USER_INPUT') throw new UserInputError(first.message, { ...details, ...(reason ? { reason } : {}) });
      if (code && PASSED_ON.has(code)) throw new DomainError(code as ClientErrorCode, String(reason ?? code), first.message, details);
      if (response.status >= 500 || code === 'INTERNAL_SERVER_ERROR') throw new AgencyUnreachableError(this.target, `HTTP ${response.status}: ${first.message}`);
      throw new Error(`${this.target.title} refused a service call: ${first.message}`);
    }
    if (!response.ok || body.data == null) throw new AgencyUnreachableError(this.target, `HTTP ${response.status}`);
    return body.data;
  }
}
