import { disableVendorTelemetry } from '../gateway/config';
import { AGENCIES } from '../lib/agencies';
import { bearer, PERSONAS } from './support/tokens';
import { startFederation, type TestFederation } from './support/federation';

/** What the gateway serves besides GraphQL: its own IDE (nothing from a CDN) and health endpoints. */
let federation: TestFederation;

beforeAll(async () => {
  federation = await startFederation();
});

afterAll(async () => {
  await federation?.stop();
});

describe('the GraphQL IDE', () => {
  it('is served by the gateway with every script and stylesheet from the gateway itself', async () => {
    const page = await fetch(`${federation.gatewayBase}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of assets) {
      expect(asset.startsWith('/')).toBe(true);
      const response = await fetch(`${federation.gatewayBase}${asset}`);
      expect(response.status).toBe(200);
      expect((await response.text()).length).toBeGreaterThan(100);
    }
  });
});

describe('health', () => {
  it('is live and ready once listening, and reports every agency as answering', async () => {
    expect((await fetch(`${federation.gatewayBase}/health/live`)).status).toBe(200);
    const ready = await fetch(`${federation.gatewayBase}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
    const dependencies = await fetch(`${federation.gatewayBase}/health/dependencies`);
    expect(dependencies.status).toBe(200);
    const body = (await dependencies.json()) as any;
    expect(body.status).toBe('ok');
    expect(body.sharedStore).toBe('none');
    expect(body.subgraphs.map((s: { subgraph: string }) => s.subgraph).sort()).toEqual([...AGENCIES.map((a) => a.id), 'statistics'].sort());
  });

  it('serves live and ready on every subgraph too, /health being ready under its old name', async () => {
    for (const url of Object.values(federation.subgraphUrls)) {
      const base = url.replace(/\/graphql$/, '');
      for (const path of ['/health/live', '/health/ready', '/health']) {
        const response = await fetch(`${base}${path}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ status: 'ok' });
      }
    }
  });
});

describe('air-gapped operation', () => {
  it('turns off @apollo/gateway telemetry before the gateway is built, whatever the environment said', () => {
    const env: NodeJS.ProcessEnv = { APOLLO_TELEMETRY_DISABLED: 'false' };
    disableVendorTelemetry(env);
    expect(env.APOLLO_TELEMETRY_DISABLED).toBe('1');
    // The federation of this file was built through createGateway, which must have done the same here.
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('1');
  });
});

describe('HTTP hygiene', () => {
  it('allows no cross-origin access by default (CORS_ORIGINS empty): a preflight gets 403 and no Access-Control-* header', async () => {
    const response = await fetch(federation.gatewayUrl, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(response.status).toBe(403);
    expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('refuses batched requests and requests without a JSON content type (CSRF prevention)', async () => {
    const token = await bearer(PERSONAS.investigator);
    const batched = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...token },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(batched.status).toBe(400);
    const simple = await fetch(`${federation.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: token });
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/CSRF/);
  });
});
