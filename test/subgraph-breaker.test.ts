import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepAliveFetcher } from '../gateway/data-source';
import { subgraphBreaker, SubgraphSkipped, type BreakerState } from '../gateway/subgraph-breaker';
import { readConfig } from '../gateway/config';

/**
 * What opens a subgraph's circuit and what does not: the gateway's own fetcher (undici, the breaker around
 * each call) against a real HTTP server that answers as the test says. An agency that answers, whatever it
 * answers (a GraphQL error, a 4xx, its own 503 in JSON), is reachable; a balancer's 502/503/504 page, a
 * dropped connection, are not.
 */
let server: http.Server;
let url: string;
let answer: { status: number; contentType: string; body: string } | 'drop';
let received = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    received += 1;
    req.resume();
    if (answer === 'drop') return void req.socket.destroy();
    res.writeHead(answer.status, { 'content-type': answer.contentType });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function fetcherWithBreaker(failures: number) {
  const states: BreakerState[] = [];
  const guard = subgraphBreaker({ subgraph: 'test', failures, probeAfterMs: 3_600_000, onStateChange: (_name, state) => states.push(state), log: () => undefined });
  const fetcher = keepAliveFetcher({ timeoutMs: 10_000, maxSockets: 4, deduplicate: false, guard });
  const call = () => fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
  return { states, call };
}

const JSON_TYPE = 'application/graphql-response+json; charset=utf-8';

describe('a subgraph circuit', () => {
  it('stays closed, and every call goes through, while the agency answers: GraphQL errors, 4xx, its own 503', async () => {
    const { states, call } = fetcherWithBreaker(2);
    const before = received;
    const answers = [
      { status: 200, contentType: JSON_TYPE, body: '{"errors":[{"message":"refused","extensions":{"code":"FORBIDDEN"}}]}' },
      { status: 401, contentType: JSON_TYPE, body: '{"errors":[{"message":"no credential","extensions":{"code":"UNAUTHENTICATED"}}]}' },
      { status: 400, contentType: JSON_TYPE, body: '{"errors":[{"message":"bad","extensions":{"code":"BAD_USER_INPUT"}}]}' },
      { status: 503, contentType: JSON_TYPE, body: '{"errors":[{"message":"audit store down","extensions":{"code":"AUDIT_UNAVAILABLE"}}]}' },
      { status: 500, contentType: JSON_TYPE, body: '{"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}' },
    ];
    for (const given of answers) {
      answer = given;
      for (let i = 0; i < 3; i++) expect((await call()).status).toBe(given.status);
    }
    expect(received - before).toBe(answers.length * 3);
    expect(states).toEqual([]);
  });

  it('opens after a balancer says, in a row, that no replica answered; calls then fail without reaching it', async () => {
    const { states, call } = fetcherWithBreaker(3);
    answer = { status: 503, contentType: 'text/html', body: '<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>' };
    const before = received;
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(503);
    expect(states).toEqual(['open']);
    await expect(call()).rejects.toBeInstanceOf(SubgraphSkipped);
    expect(received - before).toBe(3);
  });

  it('opens after dropped connections in a row; one answer in between starts the count again', async () => {
    const { states, call } = fetcherWithBreaker(2);
    answer = 'drop';
    await expect(call()).rejects.toThrow();
    answer = { status: 200, contentType: JSON_TYPE, body: '{"data":{"__typename":"Query"}}' };
    expect((await call()).status).toBe(200);
    answer = 'drop';
    await expect(call()).rejects.toThrow();
    expect(states).toEqual([]);
    await expect(call()).rejects.toThrow();
    expect(states).toEqual(['open']);
    await expect(call()).rejects.toBeInstanceOf(SubgraphSkipped);
  });

  it('SUBGRAPH_BREAKER_FAILURES=0 turns it off: every call goes through', async () => {
    const settings = readConfig({ SUBGRAPH_BREAKER_FAILURES: '0', AUTHENTICATION: 'false', AUDIT_RECORDING: 'false' }).subgraphBreaker;
    expect(settings).toEqual({ failures: 0, probeAfterMs: 10_000 });
    const { states, call } = fetcherWithBreaker(settings.failures);
    answer = 'drop';
    const before = received;
    for (let i = 0; i < 6; i++) await expect(call()).rejects.toThrow();
    expect(received - before).toBe(6);
    expect(states).toEqual([]);
  });

  it('refuses settings out of range', () => {
    expect(() => readConfig({ SUBGRAPH_BREAKER_FAILURES: '-1' })).toThrow(/SUBGRAPH_BREAKER_FAILURES/);
    expect(() => readConfig({ SUBGRAPH_BREAKER_PROBE_AFTER_MS: '10' })).toThrow(/SUBGRAPH_BREAKER_PROBE_AFTER_MS/);
  });
});
