import type { Browser, Page } from 'playwright-core';
import { Pool } from 'pg';
import { readConfig } from '../gateway/config';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { CORS_ALLOWED_HEADERS, CORS_MAX_AGE_S, corsHandlers } from '../gateway/cors';
import { startFederation, type TestFederation, statements } from './support/federation';
import { bearer, mintToken, PERSONAS } from './support/tokens';
import { productionGateway } from './support/service-credentials';
import { testDatabases } from './support/databases';
import { shownCitizen } from './support/fixtures';
import { BROWSER_TEST_TIMEOUT_MS, chromiumExecutable, launchBrowser, newContext, servePage, type PageServer } from './support/browser';

/**
 * Cross-origin access (CORS_ORIGINS): a single-page application on an allowed origin calls the gateway from a
 * real browser; a page on any other origin cannot, and the gateway never runs its operation. CSRF prevention
 * still refuses what a page could send without a preflight.
 */
const NOTHING = statements();
const ELSEWHERE = 'https://app.example.gov.vn';
const NAME_QUERY = `query Name($c: PersonalCode!) { citizen(personalCode: $c) { fullName } }`;

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

let browser: Browser;
let allowedSite: PageServer;
let otherSite: PageServer;
let federation: TestFederation;
let audit: Pool;
let code: string;
let fullName: string;

beforeAll(async () => {
  // Two web applications, each an origin of its own (another port), and the gateway allowing only the first.
  allowedSite = await servePage('<!doctype html><title>allowed</title><p>An allowed frontend</p>');
  otherSite = await servePage('<!doctype html><title>other</title><p>Another site</p>');
  federation = await startFederation({ gatewayEnv: { CORS_ORIGINS: `${allowedSite.origin}, ${ELSEWHERE}` } });
  audit = new Pool({ connectionString: testDatabases().auditUrl, max: 1 });
  ({ code, fullName } = await shownCitizen());
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await federation?.stop();
  await Promise.all([allowedSite?.close(), otherSite?.close(), audit?.end()]);
});

/** The records the audit store holds of a subject (each test's caller is a subject of its own). */
const recordsOf = async (subject: string) =>
  (await audit.query<{ action: string; persons: string[] }>(`SELECT action, persons::text[] AS persons FROM audit_log WHERE subject = $1`, [subject])).rows;

const preflight = (origin: string, requestHeaders = 'authorization,content-type,x-purpose') =>
  fetch(federation.gatewayUrl, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders },
  });

const corsHeadersOf = (response: Response) => [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));

describe('CORS_ORIGINS: read and validated at start-up', () => {
  it('is empty by default: no origin may call from another origin', () => {
    expect(readConfig({}).corsOrigins).toEqual([]);
    expect(readConfig({ CORS_ORIGINS: ' http://localhost:3000 ,https://app.example.gov.vn,,http://localhost:3000' }).corsOrigins).toEqual([
      'http://localhost:3000',
      'https://app.example.gov.vn',
    ]);
  });

  it.each([
    ['a trailing slash', 'https://app.example.gov.vn/', /did you mean https:\/\/app\.example\.gov\.vn\?/],
    ['a path', 'https://app.example.gov.vn/app', /is not an origin/],
    ['capitals', 'https://App.Example.gov.vn', /did you mean https:\/\/app\.example\.gov\.vn\?/],
    ['a default port', 'https://app.example.gov.vn:443', /did you mean/],
    ['a wildcard subdomain', 'https://*.example.gov.vn', /is not an origin/],
    ['no scheme', 'app.example.gov.vn', /is not an origin/],
    ['the opaque origin "null"', 'null', /is not an origin/],
    ['another scheme', 'file:///tmp/app', /is not an origin/],
    ['credentials', 'https://user:pw@app.example.gov.vn', /is not an origin/],
    ['* beside origins', '*,https://app.example.gov.vn', /either \* or a list/],
  ])('refuses to start with %s', (_, value, message) => {
    expect(() => readConfig({ CORS_ORIGINS: value })).toThrow(message);
  });

  it('allows any origin (*) in development only; production takes https origins only', async () => {
    expect(readConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    const { env } = await productionGateway();
    expect(readConfig({ ...env, CORS_ORIGINS: 'https://app.example.gov.vn' }).corsOrigins).toEqual(['https://app.example.gov.vn']);
    expect(() => readConfig({ ...env, CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS=\* lets every web site's pages call the gateway.*NODE_ENV=production/);
    expect(() => readConfig({ ...env, CORS_ORIGINS: 'http://app.example.gov.vn' })).toThrow(/not https: production allows only https origins/);
  });
});

describe('preflight (plain HTTP)', () => {
  it.each([['the page server', () => allowedSite.origin], ['another listed origin', () => ELSEWHERE]])(
    'an allowed origin (%s) gets 204 with the headers a frontend needs',
    async (_, origin) => {
      const response = await preflight(origin(), 'authorization,content-type,x-purpose,x-case-reference,apollographql-client-name');
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin());
      expect(response.headers.get('access-control-allow-methods')!.split(',').sort()).toEqual(['GET', 'POST']);
      const allowed = response.headers.get('access-control-allow-headers')!.split(',');
      for (const header of [
        'authorization',
        'content-type',
        'x-purpose',
        'x-case-reference',
        'x-request-id',
        'apollographql-client-name',
        'apollographql-client-version',
        'apollo-require-preflight',
        'x-apollo-operation-name',
      ]) {
        expect(allowed).toContain(header);
      }
      expect(allowed).toEqual([...CORS_ALLOWED_HEADERS]);
      expect(response.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_S));
      expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
      // The token travels in Authorization, never in a cookie: no credentials mode.
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(await response.text()).toBe('');
    },
  );

  it.each([
    ['another port', () => otherSite.origin],
    ['localhost for 127.0.0.1', () => allowedSite.origin.replace('127.0.0.1', 'localhost')],
    ['https for http', () => allowedSite.origin.replace('http:', 'https:')],
    ['a suffix of an allowed host', () => `${ELSEWHERE}.attacker.example`],
    ['a prefix', () => `https://evil-app.example.gov.vn`],
    ['capitals', () => ELSEWHERE.toUpperCase()],
    ['a trailing slash', () => `${ELSEWHERE}/`],
    ['the opaque origin', () => 'null'],
  ])('any other origin (%s) gets 403 and no Access-Control-* header at all', async (_, origin) => {
    const response = await preflight(origin());
    expect(response.status).toBe(403);
    expect(corsHeadersOf(response)).toEqual([]);
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('CORS_ORIGINS=* (development only) answers any origin, echoing it, never with a literal *', async () => {
    const app = express().use('/graphql', ...corsHandlers('*'), (_req, res) => void res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      for (const origin of ['http://localhost:5173', 'https://anything.example']) {
        const response = await fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
        expect(response.status).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the answer to a request from an allowed origin lets its page read the data, the request id and Retry-After', async () => {
    const response = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { origin: ELSEWHERE, 'content-type': 'application/json', ...(await bearer(PERSONAS.clerk)) },
      body: JSON.stringify({ query: NAME_QUERY, variables: { c: code } }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).data.citizen.fullName).toBe(fullName);
    expect(response.headers.get('access-control-allow-origin')).toBe(ELSEWHERE);
    expect(response.headers.get('access-control-expose-headers')!.split(',')).toEqual(['x-request-id', 'retry-after']);
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it("CSRF prevention is kept: a simple cross-origin POST (text/plain, no preflight) is refused before anything runs, even with a token and an allowed origin", async () => {
    for (const origin of [ELSEWHERE, otherSite.origin]) {
      const subject = `test:cors-simple-${Date.now()}-${origin.length}`;
      let response!: Response;
      const counts = await federation.countStatements(async () => {
        response = await fetch(federation.gatewayUrl, {
          method: 'POST',
          headers: { origin, 'content-type': 'text/plain', ...(await bearer({ ...PERSONAS.clerk, sub: subject })) },
          body: JSON.stringify({ query: NAME_QUERY, variables: { c: code } }),
        });
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/CSRF/);
      expect(counts).toEqual(NOTHING);
      expect(await recordsOf(subject)).toEqual([]);
    }
  });

  it('a GET from an allowed origin runs only with a header that forces a preflight', async () => {
    const url = `${federation.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`;
    const token = await bearer(PERSONAS.clerk);
    const simple = await fetch(url, { headers: { origin: ELSEWHERE, ...token } });
    expect(simple.status).toBe(400);
    const preflighted = await fetch(url, { headers: { origin: ELSEWHERE, 'apollo-require-preflight': 'true', ...token } });
    expect(preflighted.status).toBe(200);
    expect(await preflighted.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('from a page in a real browser (headless Chromium)', () => {
  /** Runs fetch in the page: what a single-page application does with the token it holds. */
  const fetchFromPage = (page: Page, url: string, token: string, requestId: string) =>
    page.evaluate(
      async ({ url, token, requestId, query, code }) => {
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId },
            body: JSON.stringify({ query, variables: { c: code } }),
          });
          return { status: response.status, requestId: response.headers.get('x-request-id'), body: await response.json() };
        } catch (error) {
          return { failed: String(error) };
        }
      },
      { url, token, requestId, query: NAME_QUERY, code },
    );

  async function open(site: PageServer): Promise<{ page: Page; console: string[] }> {
    const page = await (await newContext(browser)).newPage();
    const console: string[] = [];
    page.on('console', (message) => console.push(message.text()));
    await page.goto(`${site.origin}/`);
    return { page, console };
  }

  it('uses the Chromium found on this machine, and says how to get one when there is none', () => {
    expect(browser.isConnected()).toBe(true);
    expect(chromiumExecutable()).toMatch(/chrom/);
    expect(() => chromiumExecutable({}, ['/nonexistent/chromium'])).toThrow(/No Chromium found .*apt-get install -y chromium.*CHROMIUM_PATH/);
    expect(() => chromiumExecutable({ CHROMIUM_PATH: '/nonexistent/chromium' })).toThrow(/CHROMIUM_PATH names \/nonexistent\/chromium, which is not an executable/);
  });

  it('a page of the allowed origin gets the data, and can read the request id', async () => {
    const subject = `test:cors-allowed-${Date.now()}`;
    const { page } = await open(allowedSite);
    try {
      const answer = await fetchFromPage(page, federation.gatewayUrl, await mintToken({ ...PERSONAS.clerk, sub: subject }), `${subject}-1`);
      expect(answer).toEqual({ status: 200, requestId: `${subject}-1`, body: { data: { citizen: { fullName } } } });
      expect(await recordsOf(subject)).toContainEqual(expect.objectContaining({ action: 'READ', persons: [code] }));
    } finally {
      await page.context().close();
    }
  });

  it("another origin's page: the browser refuses the fetch (CORS) and the gateway never runs the operation", async () => {
    const subject = `test:cors-denied-${Date.now()}`;
    const { page, console } = await open(otherSite);
    try {
      let answer!: Awaited<ReturnType<typeof fetchFromPage>>;
      const counts = await federation.countStatements(async () => {
        answer = await fetchFromPage(page, federation.gatewayUrl, await mintToken({ ...PERSONAS.clerk, sub: subject }), `${subject}-1`);
      });
      expect(answer).toEqual({ failed: expect.stringMatching(/TypeError: Failed to fetch/) });
      expect(console.join('\n')).toMatch(/blocked by CORS policy/);
      expect(counts).toEqual(NOTHING);
      // Not even a refusal: the request itself never reached the gateway.
      expect(await recordsOf(subject)).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('a simple POST from the allowed page (no preflight) still meets CSRF prevention', async () => {
    const { page } = await open(allowedSite);
    try {
      const answer = await page.evaluate(
        async ({ url, query }) => {
          const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query }) });
          return { status: response.status, text: await response.text() };
        },
        { url: federation.gatewayUrl, query: '{ __typename }' },
      );
      expect(answer.status).toBe(400);
      expect(answer.text).toMatch(/CSRF/);
    } finally {
      await page.context().close();
    }
  });
});
