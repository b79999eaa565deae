import http from 'node:http';
import https from 'node:https';
import fetch, { type RequestInit as NodeFetchInit } from 'node-fetch';
import { GraphQLError } from 'graphql';
import { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import { agency } from '../lib/agencies';
import { ErrorCode } from '../lib/graphql/errors';

/**
 * How the gateway calls one subgraph: HTTP keep-alive with a bounded number of sockets (no TCP and
 * no new connection per request), a timeout on every call, and failures turned into an error a
 * citizen-facing frontend can show: which agency's data is missing, in plain words, without the
 * subgraph's URL, the network error or anything else internal (that goes to the log).
 */
export interface DataSourceOptions {
  name: string;
  url: string;
  timeoutMs: number;
  maxSockets: number;
  log?: (message: string) => void;
}

export function keepAliveFetcher(options: { timeoutMs: number; maxSockets: number }): Fetcher {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  return ((url: string, init?: NodeFetchInit) =>
    fetch(url, {
      ...init,
      agent: (parsed: URL) => (parsed.protocol === 'https:' ? httpsAgent : httpAgent),
      signal: AbortSignal.timeout(options.timeoutMs) as NodeFetchInit['signal'],
    })) as unknown as Fetcher;
}

export function agencyUnavailable(name: string): GraphQLError {
  const known = (() => {
    try {
      return agency(name as never);
    } catch {
      return null;
    }
  })();
  const message = known
    ? `The ${known.title} did not answer, so its data (${known.holds}) is missing from this response. The rest is complete; retry later for the missing part.`
    : `One of the agencies did not answer, so part of this response is missing. Retry later.`;
  return new GraphQLError(message, { extensions: { code: ErrorCode.AGENCY_UNAVAILABLE, agency: known?.title ?? 'unknown' } });
}

export class AgencyDataSource extends RemoteGraphQLDataSource {
  private readonly agencyName: string;
  private readonly log: (message: string) => void;

  constructor(options: DataSourceOptions) {
    super({ url: options.url, fetcher: keepAliveFetcher(options) });
    this.agencyName = options.name;
    this.log = options.log ?? ((message) => console.error(message));
  }

  didEncounterError(error: Error, _request: unknown, response?: { status?: number }): never {
    const reason = error.name === 'AbortError' ? 'timed out' : response?.status ? `answered HTTP ${response.status}` : error.message;
    this.log(`[gateway] subgraph ${this.agencyName} ${reason}`);
    throw agencyUnavailable(this.agencyName);
  }
}
