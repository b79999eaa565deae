import http from 'node:http';
import { Headers } from 'undici';
import type { FetcherHeaders, FetcherResponse } from '@apollo/utils.fetcher';
import type { HttpAnswer } from '../lib/http-client';

/**
 * A subgraph's answer as @apollo/gateway's RemoteGraphQLDataSource reads it (its Fetcher interface), over an
 * answer already read whole (lib/http-client.ts). Each caller gets an object of its own (its own headers, a fresh
 * parse on json()), so requests that shared one call (in-flight deduplication) share nothing the gateway merges into.
 */
export class SubgraphResponse implements FetcherResponse {
  readonly headers: FetcherHeaders;
  readonly redirected = false;
  private used = false;

  constructor(
    private readonly answer: HttpAnswer,
    readonly url: string,
  ) {
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
    }
    this.headers = headers;
  }

  get status(): number {
    return this.answer.status;
  }

  get ok(): boolean {
    return this.answer.status >= 200 && this.answer.status < 300;
  }

  get statusText(): string {
    return http.STATUS_CODES[this.answer.status] ?? '';
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  async text(): Promise<string> {
    this.used = true;
    return this.answer.body;
  }

  async json(): Promise<any> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = new TextEncoder().encode(await this.text());
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }

  clone(): SubgraphResponse {
    return new SubgraphResponse(this.answer, this.url);
  }
}
