import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, PERSONAS } from './support/tokens';
import { startFederation, type TestFederation } from './support/federation';

/**
 * Identical reads in flight at the same time share one subgraph call. A real HTTP proxy that holds each
 * request to the residents subgraph for 300 ms makes the overlap certain instead of a matter of timing.
 */
function delayingProxy(target: string, delayMs: number) {
  const targetUrl = new URL(target);
  let forwarded = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      forwarded += 1;
      setTimeout(() => {
        const upstream = http.request(
          { host: targetUrl.hostname, port: targetUrl.port, path: targetUrl.pathname, method: req.method, headers: req.headers },
          (response) => {
            res.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(res);
          },
        );
        upstream.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  return {
    forwarded: () => forwarded,
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`))),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const STATISTICS = `{ citizenStatistics(groupBy: [SEX]) { total groups { sex count } } }`;

async function federationBehindProxy(deduplicate: boolean) {
  let proxy!: ReturnType<typeof delayingProxy>;
  // Without authentication: with it, every request is audited under its own id and shares no call (tested below).
  const federation = await startFederation({
    security: false,
    gatewayEnv: { SUBGRAPH_DEDUPLICATE: String(deduplicate) },
    routeThrough: {
      residents: (url) => {
        proxy = delayingProxy(url, 300);
        return proxy.listen();
      },
    },
  });
  return { federation, proxy };
}

describe('in-flight deduplication of subgraph reads', () => {
  let federation: TestFederation;
  let proxy: ReturnType<typeof delayingProxy>;

  beforeAll(async () => {
    ({ federation, proxy } = await federationBehindProxy(true));
  });

  afterAll(async () => {
    await federation?.stop();
    await proxy?.close();
  });

  it('sends five identical concurrent queries to the subgraph once, and answers all five fully', async () => {
    const before = proxy.forwarded();
    const responses = await Promise.all(Array.from({ length: 5 }, () => federation.query<any>(STATISTICS)));
    expect(proxy.forwarded() - before).toBe(1);
    for (const response of responses) {
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual(responses[0].data);
      expect(response.data.citizenStatistics.total).toBeGreaterThan(0);
    }
  });

  it('sends queries that differ in their variables separately', async () => {
    const before = proxy.forwarded();
    const query = `query($by: [StatisticsDimension!]!) { citizenStatistics(groupBy: $by) { total } }`;
    await Promise.all([federation.query(query, { by: ['SEX'] }), federation.query(query, { by: ['PROVINCE'] })]);
    expect(proxy.forwarded() - before).toBe(2);
  });
});

describe('with authentication on', () => {
  it('sends every query: each request is audited under its own id', async () => {
    let proxy!: ReturnType<typeof delayingProxy>;
    const federation = await startFederation({
      routeThrough: {
        residents: (url) => {
          proxy = delayingProxy(url, 300);
          return proxy.listen();
        },
      },
    });
    try {
      const analyst = await bearer(PERSONAS.analyst);
      const before = proxy.forwarded();
      await Promise.all(Array.from({ length: 3 }, () => federation.query(STATISTICS, {}, analyst)));
      expect(proxy.forwarded() - before).toBe(3);
    } finally {
      await federation.stop();
      await proxy.close();
    }
  });
});

describe('with deduplication turned off', () => {
  it('sends every query', async () => {
    const { federation, proxy } = await federationBehindProxy(false);
    try {
      const before = proxy.forwarded();
      await Promise.all(Array.from({ length: 3 }, () => federation.query(STATISTICS)));
      expect(proxy.forwarded() - before).toBe(3);
    } finally {
      await federation.stop();
      await proxy.close();
    }
  });
});
