import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import frontendCodegen from '../examples/frontend/codegen';
import { ROOT } from '../tools/compose';
import { OPERATIONS_MANIFEST, readManifest } from '../lib/trusted-documents';
import { BROWSER_TEST_TIMEOUT_MS, BROWSER_WAIT_MS, launchBrowser } from './support/browser';
import { startFederation, type TestFederation } from './support/federation';
import { citizenWithParentsAndChildren, householdOfSize, one, openFixtures, type Fixtures } from './support/fixtures';
import { productionGateway } from './support/service-credentials';
import { mintToken, PERSONAS } from './support/tokens';

/**
 * Issue 12's proof: a browser app on another origin (examples/frontend/src/app.ts), built with Apollo Client 4 and
 * graphql-codegen from the published schema, bundled with esbuild, runs every screen in headless Chromium against
 * the gateway in production mode (trusted documents required, CORS_ORIGINS naming the app's https origin), sending
 * persisted-query ids only. That any other origin is refused is test/cors.test.ts's.
 */
jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

const EXAMPLE = path.join(ROOT, 'examples', 'frontend');
const manifest = readManifest(OPERATIONS_MANIFEST);
const idOf = (name: string) => manifest.operations.find((o) => o.name === name)!.id;

let browser: Browser;
let site: { origin: string; close(): Promise<void> };
let federation: TestFederation;
let f: Fixtures;
let me: { code: string; parents: string[]; children: string[] };
const nameOf = async (code: string) => (await one<{ name: string }>(f.residents, 'SELECT ho_ten AS name FROM cong_dan WHERE so_dinh_danh = $1', [code])).name;

/**
 * The example's codegen (examples/frontend/codegen.ts, the README's command) into a folder of this test's own:
 * test/frontend-codegen.test.ts deletes and rewrites examples/frontend/src/gql/ while other test files run.
 */
async function generateTypedDocuments(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontend-app-gql-'));
  const config = { ...frontendCodegen, generates: { [path.join(dir, 'gql/')]: Object.values(frontendCodegen.generates)[0] } };
  fs.writeFileSync(path.join(dir, 'codegen.json'), JSON.stringify(config));
  // As a developer runs it: without jest's NODE_ENV=test, under which it prints no errors.
  const { NODE_ENV: _jest, ...env } = process.env;
  await promisify(execFile)(path.join(ROOT, 'node_modules', '.bin', 'graphql-codegen'), ['--config', path.join(dir, 'codegen.json')], { cwd: ROOT, env });
  return path.join(dir, 'gql', 'graphql.ts');
}

/**
 * The app's origin: https (production's CORS_ORIGINS takes https origins only), with a certificate made here with
 * openssl that the test's browser profile accepts. It serves index.html and the bundle.
 */
async function serveApp(bundle: string): Promise<{ origin: string; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontend-app-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'app.key', '-out', 'app.crt', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
  const files: Record<string, [string, string]> = {
    '/': ['text/html; charset=utf-8', fs.readFileSync(path.join(EXAMPLE, 'index.html'), 'utf8')],
    '/app.js': ['text/javascript; charset=utf-8', bundle],
  };
  const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'app.key')), cert: fs.readFileSync(path.join(dir, 'app.crt')) }, (req, res) => {
    const file = files[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  const generated = await generateTypedDocuments();
  const built = await esbuild.build({
    entryPoints: [path.join(EXAMPLE, 'src', 'app.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    // The app's `./gql/graphql` is the typed documents generated above.
    plugins: [{ name: 'generated-documents', setup: (build) => build.onResolve({ filter: /^\.\/gql\/graphql$/ }, () => ({ path: generated })) }],
  });
  site = await serveApp(built.outputFiles[0].text);
  const production = await productionGateway();
  federation = await startFederation({
    serviceKeys: production.serviceKeys,
    // Production's defaults (trusted documents required); a generous subgraph timeout so that a busy machine does
    // not turn an answer into AGENCY_UNAVAILABLE.
    gatewayEnv: { ...production.env, CORS_ORIGINS: site.origin, SUBGRAPH_TIMEOUT_MS: '30000' },
  });
  f = openFixtures();
  me = await citizenWithParentsAndChildren(f, 'frontend-app');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await federation?.stop();
  await Promise.all([site?.close(), f?.end()]);
});

interface Screen {
  page: Page;
  /** The bodies of the requests the page sent to the gateway. */
  sent: Record<string, any>[];
  /** Errors the page's scripts threw. */
  pageErrors: string[];
}

/** Opens the app on a screen, as the holder of a token of `persona`. */
async function openScreen(persona: Parameters<typeof mintToken>[0], screen: string, variables: Record<string, string> = {}): Promise<Screen> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  context.setDefaultNavigationTimeout(BROWSER_WAIT_MS);
  const page = await context.newPage();
  const sent: Record<string, any>[] = [];
  const pageErrors: string[] = [];
  page.on('request', (request) => {
    if (request.url() === federation.gatewayUrl && request.method() === 'POST') sent.push(request.postDataJSON());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const hash = new URLSearchParams({ gateway: federation.gatewayUrl, token: await mintToken(persona), screen, ...variables });
  await page.goto(`${site.origin}/#${hash}`);
  await page.waitForSelector('#app[data-screen]');
  return { page, sent, pageErrors };
}

const close = (screen: Screen) => screen.page.context().close();
const texts = (screen: Screen, selector: string) => screen.page.locator(selector).allInnerTexts();

/** What the gateway got from the page: each operation by its manifest id, never a query text. */
function expectPersistedIdsOnly(sent: Record<string, any>[], operations: string[]): void {
  expect(sent.map((body) => body.operationName).sort()).toEqual([...operations].sort());
  for (const body of sent) {
    expect(body).not.toHaveProperty('query');
    // Beside the id, Apollo Client names itself (extensions.clientLibrary).
    expect(body.extensions.persistedQuery).toEqual({ version: 1, sha256Hash: idOf(body.operationName) });
  }
}

describe('the example frontend in headless Chromium, against the gateway in production mode', () => {
  it('the unified citizen view (an investigator): the citizen, their card, residence and parents', async () => {
    const screen = await openScreen(PERSONAS.investigator, 'citizen', { code: me.code });
    try {
      expect(await texts(screen, 'h2.name')).toEqual([await nameOf(me.code)]);
      const text = await screen.page.locator('#app').innerText();
      expect(text).toContain(`Personal code: ${me.code}`);
      expect(text).toContain(`Parents: ${me.parents.join(', ')}`);
      expectPersistedIdsOnly(screen.sent, ['UnifiedCitizen']);
      expect(screen.pageErrors).toEqual([]);
    } finally {
      await close(screen);
    }
  });

  it('clerk search, then its second page (fetchMore with the end cursor): other citizens, appended', async () => {
    const screen = await openScreen(PERSONAS.clerk, 'search', { birthProvince: me.code.slice(0, 3), first: '4' });
    try {
      const rows = screen.page.locator('tr.citizen');
      await rows.nth(3).waitFor();
      const firstPage = await rows.allInnerTexts();
      expect(firstPage).toHaveLength(4);
      await screen.page.click('#next-page');
      await rows.nth(7).waitFor();
      const both = await rows.allInnerTexts();
      expect(both.slice(0, 4)).toEqual(firstPage);
      const codesOf = (lines: string[]) => lines.map((line) => line.split(/\s/)[0]);
      const secondCodes = codesOf(both.slice(4));
      expect(new Set([...codesOf(firstPage), ...secondCodes]).size).toBe(8);
      // Each row shows that citizen's name, as the residents' register has it.
      for (const [i, code] of secondCodes.entries()) expect(both[4 + i]).toContain(await nameOf(code));
      expectPersistedIdsOnly(screen.sent, ['SearchCitizens', 'SearchCitizens']);
      expect(screen.sent[1].variables).toMatchObject({ after: expect.any(String), first: 4 });
    } finally {
      await close(screen);
    }
  });

  it("the household screen (a clerk): every member by name", async () => {
    const household = await householdOfSize(f, 3);
    const { rows } = await f.residents.query<{ name: string }>(
      `SELECT c.ho_ten AS name FROM thanh_vien_ho m JOIN cong_dan c USING (so_dinh_danh) WHERE m.so_ho = $1 AND m.den_ngay IS NULL ORDER BY c.ho_ten`,
      [household.number],
    );
    const screen = await openScreen(PERSONAS.clerk, 'household', { number: household.number });
    try {
      expect(await screen.page.locator('h2').innerText()).toBe(`Household ${household.number}`);
      const members = await texts(screen, '.member');
      expect(members).toHaveLength(3);
      expect(members.map((m) => m.replace(/ \(.*$/, '')).sort()).toEqual(rows.map((r) => r.name).sort());
      expectPersistedIdsOnly(screen.sent, ['Household']);
    } finally {
      await close(screen);
    }
  });

  it('the birth registration lookup (a clerk): the registration number, the child and the parents as registered', async () => {
    const birth = await one<{ number: string; child: string; father: string }>(
      f.birthRegistry,
      'SELECT so_dang_ky AS number, ho_ten_tre AS child, ho_ten_cha AS father FROM dang_ky_khai_sinh WHERE so_dinh_danh_tre = $1',
      [me.code],
    );
    const screen = await openScreen(PERSONAS.clerk, 'birth', { registrationNumber: birth.number });
    try {
      expect(await screen.page.locator('h2').innerText()).toBe(`Birth registration ${birth.number}`);
      const text = await screen.page.locator('#app').innerText();
      expect(text).toContain(`Child: ${birth.child}`);
      expect(text).toContain(`(${me.code})`);
      expect(text).toContain(`Father: ${birth.father}`);
      expectPersistedIdsOnly(screen.sent, ['BirthRegistration']);
    } finally {
      await close(screen);
    }
  });

  /** A read of the citizen by a caller of its own, through the gateway (by persisted id): something for the logs to show. */
  async function readByInvestigator(sub: string): Promise<void> {
    const response = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await mintToken({ ...PERSONAS.investigator, sub })}` },
      body: JSON.stringify({ operationName: 'UnifiedCitizen', variables: { code: me.code }, extensions: { persistedQuery: { version: 1, sha256Hash: idOf('UnifiedCitizen') } } }),
    });
    expect(response.status).toBe(200);
  }

  it("the auditor's log search: the citizen's audit entries, the investigator's read among them", async () => {
    const investigator = `test:frontend-app-investigator-${Date.now()}`;
    await readByInvestigator(investigator);
    const screen = await openScreen(PERSONAS.auditor, 'audit', { personalCode: me.code });
    try {
      const entries = await texts(screen, '.audit-entry');
      expect(entries).toContainEqual(expect.stringMatching(new RegExp(`${investigator} \\(INVESTIGATOR, COURT_ORDER\\) READ citizen OK: ${me.code}$`)));
      expectPersistedIdsOnly(screen.sent, ['AuditLog']);
    } finally {
      await close(screen);
    }
  });

  it("citizen self-service: their own record with their parents' and children's names, and their access log", async () => {
    await readByInvestigator(`test:frontend-app-reader-${Date.now()}`);
    const screen = await openScreen(PERSONAS.citizen(me.code), 'me');
    try {
      expect(await texts(screen, 'h2.name')).toEqual([await nameOf(me.code)]);
      expect((await texts(screen, '.parent')).sort()).toEqual((await Promise.all(me.parents.map(async (p) => `${await nameOf(p)} (${p})`))).sort());
      expect((await texts(screen, '.child')).sort()).toEqual((await Promise.all(me.children.map(async (c) => `${await nameOf(c)} (${c})`))).sort());
      // The court's read shows in the citizen's log: by the agency holding the data and the purpose, never the caller's identity.
      expect(await texts(screen, '.access')).toContainEqual(expect.stringMatching(/ residents READ COURT_ORDER: .*SENSITIVE/));
      expectPersistedIdsOnly(screen.sent, ['MyRecord', 'MyAccessLog']);
    } finally {
      await close(screen);
    }
  });

  it.each([
    ['a clerk on the auditor screen', () => PERSONAS.clerk, 'audit', () => ({ personalCode: me.code }), 'FORBIDDEN', 'AuditLog'],
    ['a clerk on the unified view (sensitive fields)', () => PERSONAS.clerk, 'citizen', () => ({ code: me.code }), 'FORBIDDEN', 'UnifiedCitizen'],
    ['a citizen on clerk search', () => PERSONAS.citizen(me.code), 'search', () => ({ name: 'Nguyễn' }), 'FORBIDDEN', 'SearchCitizens'],
  ])("%s: the screen renders the gateway's refusal", async (_, persona, name, variables, code, operation) => {
    const screen = await openScreen(persona(), name, variables());
    try {
      const error = screen.page.locator('.error');
      await error.waitFor();
      expect(await error.getAttribute('data-code')).toBe(code);
      expect(screen.sent.map((body) => body.operationName)).toEqual([operation]);
      expect(screen.sent[0].query).toBeUndefined();
    } finally {
      await close(screen);
    }
  });
});
