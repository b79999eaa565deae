import { parse, print, separateOperations } from 'graphql';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFederation, type TestFederation } from './support/federation';
import { bearer, mintToken, PERSONAS } from './support/tokens';
import { openFixtures, shownCitizen } from './support/fixtures';
import { BROWSER_TEST_TIMEOUT_MS, BROWSER_WAIT_MS, launchBrowser, newContext } from './support/browser';
import { eventually } from './support/eventually';
import { POLICY } from '../lib/access/policy';
import { ROLES } from '../lib/access/principal';
import type { IdeExample } from '../gateway/ide-examples';

/**
 * The GraphQL IDE (gateway/ide.ts, gateway/ide/) in a real headless Chromium: a developer pastes a token once,
 * the IDE opens with their role's example and its variables, runs it with the token, and the Docs panel and
 * autocomplete work (introspection answers an authenticated caller in development). Everything the page loads
 * comes from the gateway itself.
 */
// What the functions given to page.evaluate see, in the page (the project's TypeScript has no DOM library).
declare const document: { querySelector(selector: string): any };
declare const sessionStorage: Record<string, string>;

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

let federation: TestFederation;
let browser: Browser;
let code: string;
let fullName: string;

beforeAll(async () => {
  federation = await startFederation();
  ({ code, fullName } = await shownCitizen());
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await federation?.stop();
});

interface Opened {
  context: BrowserContext;
  page: Page;
  /** Every request the page made: URL, method, and the headers it carried. */
  requests: { url: string; method: string; headers: Record<string, string> }[];
  /** Console errors and uncaught exceptions, Content-Security-Policy violations among them. */
  problems: string[];
}

/** A fresh browser profile (no storage) with the IDE open. */
async function openIde(query = `?code=${code}`): Promise<Opened> {
  const context = await newContext(browser);
  const page = await context.newPage();
  const opened: Opened = { context, page, requests: [], problems: [] };
  page.on('request', (request) => opened.requests.push({ url: request.url(), method: request.method(), headers: request.headers() }));
  page.on('console', (message) => {
    if (message.type() === 'error') opened.problems.push(message.text());
  });
  page.on('pageerror', (error) => opened.problems.push(String(error)));
  await page.goto(`${federation.gatewayBase}/${query}`);
  return opened;
}

/** Pastes a token into the token field, as a developer would. */
async function pasteToken(page: Page, token: string) {
  await page.fill('#token', token);
  await page.waitForSelector('.graphiql-container');
}

/** The text of one of GraphiQL's CodeMirror editors. */
const editorText = (page: Page, selector: string) =>
  page.evaluate((selector) => {
    const element: { CodeMirror?: { getValue(): string } } | null = document.querySelector(selector);
    return element?.CodeMirror?.getValue() ?? null;
  }, selector);
const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const VARIABLES_EDITOR = 'section.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const RESPONSE = '.graphiql-response .CodeMirror';

/** Waits until the editor's text passes `done` (the IDE fills it asynchronously); returns the text. */
async function editorWhen(page: Page, selector: string, done: (text: string) => boolean): Promise<string> {
  const text = await eventually(() => editorText(page, selector), (value) => value !== null && done(value), { withinMs: BROWSER_WAIT_MS });
  if (text === null || !done(text)) throw new Error(`${selector} never held what was expected; it holds: ${text}`);
  return text;
}

const examples = async (): Promise<Record<string, IdeExample>> =>
  ((await (await fetch(`${federation.gatewayBase}/ide/examples.json`)).json()) as { examples: Record<string, IdeExample> }).examples;

describe('the IDE in headless Chromium', () => {
  it('without a token, asks for one and sends nothing (no UNAUTHENTICATED error to open on)', async () => {
    const { context, page, requests, problems } = await openIde();
    try {
      await page.waitForSelector('.cg-welcome');
      expect(await page.textContent('#caller')).toMatch(/No token/);
      expect(await page.$('.graphiql-container')).toBeNull();
      expect(requests.filter((r) => new URL(r.url).pathname === '/graphql')).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('with a pasted token: the example of the role with its variables, run with the token, shows the citizen; the Docs panel lists Query fields; nothing loads from elsewhere', async () => {
    const { context, page, requests, problems } = await openIde();
    try {
      const token = await mintToken(PERSONAS.clerk);
      await pasteToken(page, token);
      expect(await page.textContent('#caller')).toMatch(/CLERK of residents/);
      expect(await page.isVisible('#purpose')).toBe(false); // one purpose: nothing to choose

      // A clerk at a service counter: the unified view without the sensitive fields, and the page's code in the variables.
      expect(await editorWhen(page, QUERY_EDITOR, (text) => text.includes('query CounterCitizen'))).toMatch(/citizen\(personalCode: \$code\)/);
      expect(await page.isVisible(VARIABLES_EDITOR)).toBe(true);
      expect(JSON.parse((await editorText(page, VARIABLES_EDITOR))!)).toEqual({ code });

      await page.click('.graphiql-execute-button');
      const response = JSON.parse(await editorWhen(page, RESPONSE, (text) => text.includes('"data"') || text.includes('"errors"')));
      expect(response.errors).toBeUndefined();
      expect(response.data.citizen).toMatchObject({ personalCode: code, fullName });

      // Every request to the gateway carried the token (the schema's introspection too), and none ran without it.
      const graphql = requests.filter((r) => new URL(r.url).pathname === '/graphql');
      expect(graphql.length).toBeGreaterThanOrEqual(2);
      for (const request of graphql) expect(request.headers.authorization).toBe(`Bearer ${token}`);
      expect(graphql.some((r) => r.method === 'POST')).toBe(true);

      // The Docs panel, from introspection.
      await page.click('button[aria-label="Show Documentation Explorer"]');
      await page.waitForSelector('.graphiql-doc-explorer');
      await page.click('.graphiql-doc-explorer a:text-is("Query")');
      await page.waitForSelector('.graphiql-doc-explorer-title:text-is("Query")');
      const docs = await page.textContent('.graphiql-doc-explorer');
      for (const field of ['citizen', 'citizens', 'searchCitizens', 'household', 'citizenStatistics']) expect(docs).toContain(field);

      // Autocomplete, from the same schema.
      await page.evaluate((selector) => {
        const editor = document.querySelector(selector).CodeMirror;
        editor.setValue('{ citizen(personalCode: "001200342514") { \n}');
        editor.setCursor({ line: 0, ch: 42 });
        editor.focus();
      }, QUERY_EDITOR);
      await page.keyboard.type('fullN');
      await page.waitForSelector('.CodeMirror-hints');
      expect(await page.textContent('.CodeMirror-hints')).toContain('fullName');

      // Nothing from outside the gateway: every request went to its origin, and nothing was blocked by the page's CSP.
      const origin = new URL(federation.gatewayBase).origin;
      expect(requests.filter((r) => !r.url.startsWith('data:') && new URL(r.url).origin !== origin)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a citizen's token opens their own example with their own code (not the page's), which the gateway runs for them", async () => {
    const f = openFixtures();
    const own = (await f.residents.query<{ code: string }>(`SELECT so_dinh_danh AS code FROM cong_dan WHERE so_dinh_danh <> $1 AND ngay_mat IS NULL ORDER BY so_dinh_danh LIMIT 1`, [code])).rows[0].code;
    await f.end();
    const { context, page, problems } = await openIde();
    try {
      await pasteToken(page, await mintToken(PERSONAS.citizen(own)));
      const example = (await examples())['CITIZEN:OWN_DATA'];
      await editorWhen(page, QUERY_EDITOR, (text) => text.startsWith('#') || text.includes('query'));
      expect(await editorText(page, QUERY_EDITOR)).toBe(example.query);
      const variables = JSON.parse((await editorText(page, VARIABLES_EDITOR)) ?? '{}');
      for (const v of example.personalCodeVariables) expect(variables[v.name]).toEqual(v.list ? [own] : own);
      expect(JSON.stringify(variables)).not.toContain(code);
      await page.click('.graphiql-execute-button');
      const response = JSON.parse(await editorWhen(page, RESPONSE, (text) => text.includes('"data"') || text.includes('"errors"')));
      expect(response.errors).toBeUndefined();
      expect(response.data.citizen.personalCode).toBe(own);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps the token for the tab (a reload) but not for another tab, and forgets it on request', async () => {
    const { context, page } = await openIde();
    try {
      await pasteToken(page, await mintToken(PERSONAS.analyst));
      await editorWhen(page, QUERY_EDITOR, (text) => text.includes('query PopulationPyramid'));
      await page.reload();
      await page.waitForSelector('.graphiql-container');
      expect(await page.textContent('#caller')).toMatch(/ANALYST/);
      const other = await context.newPage();
      await other.goto(`${federation.gatewayBase}/`);
      await other.waitForSelector('.cg-welcome');
      await page.click('#forget');
      await page.waitForSelector('.cg-welcome');
      expect(await page.evaluate(() => Object.keys(sessionStorage).filter((key) => key.startsWith('citizen-graph:')))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a token with several purposes gets a choice, sent as x-purpose, and the example follows it', async () => {
    const { context, page, requests } = await openIde();
    try {
      await pasteToken(page, await mintToken({ ...PERSONAS.registrar('residents'), purpose: ['SERVICE_COUNTER', 'CIVIL_REGISTRATION'] }));
      expect(await page.isVisible('#purpose')).toBe(true);
      await editorWhen(page, QUERY_EDITOR, (text) => text.includes('query CounterCitizen'));
      await page.selectOption('#purpose', 'CIVIL_REGISTRATION');
      await editorWhen(page, QUERY_EDITOR, (text) => text.includes('query UnifiedCitizen'));
      await page.click('.graphiql-execute-button');
      const response = JSON.parse(await editorWhen(page, RESPONSE, (text) => text.includes('"data"') || text.includes('"errors"')));
      expect(response.errors).toBeUndefined();
      expect(response.data.citizen.fullName).toBe(fullName);
      expect(requests.filter((r) => new URL(r.url).pathname === '/graphql').at(-1)!.headers['x-purpose']).toBe('CIVIL_REGISTRATION');
    } finally {
      await context.close();
    }
  });
});

describe("the IDE's default documents (plain HTTP)", () => {
  it('has one for every role and purpose of the policy, and the gateway runs each for a token of that role without refusal', async () => {
    const all = await examples();
    const pairs = ROLES.flatMap((role) => Object.keys(POLICY[role]).map((purpose) => `${role}:${purpose}`));
    expect(Object.keys(all).sort()).toEqual(pairs.sort());
    const tokens: Record<string, () => Record<string, unknown>> = {
      CLERK: () => PERSONAS.clerk,
      REGISTRAR: () => PERSONAS.registrar('residents'),
      INVESTIGATOR: () => PERSONAS.investigator,
      ANALYST: () => PERSONAS.analyst,
      AUDITOR: () => PERSONAS.auditor,
      CITIZEN: () => PERSONAS.citizen(code),
    };
    for (const pair of pairs) {
      const [role, purpose] = pair.split(':');
      const example = all[pair];
      const variables = JSON.parse(example.variables);
      for (const v of example.personalCodeVariables) variables[v.name] = v.list ? [code] : code;
      // A document of saved examples has several operations (the run button lists them): each must run.
      const documents = example.operations.length > 1 ? Object.values(separateOperations(parse(example.query))).map((d) => print(d)) : [example.query];
      for (const document of documents) {
        const response = await federation.query(document, variables, await bearer({ ...tokens[role](), purpose } as never));
        expect({ pair, document, status: response.status, errors: response.errors }).toEqual({ pair, document, status: 200, errors: undefined });
      }
    }
  });

  it('gives staff the unified view they may see, a citizen their own record, an auditor the audit log, an analyst statistics', async () => {
    const all = await examples();
    expect(all['CITIZEN:OWN_DATA'].name).toBe('MyRecord');
    expect(all['AUDITOR:AUDIT'].name).toBe('AuditLog');
    expect(all['CLERK:SERVICE_COUNTER'].name).toBe('CounterCitizen');
    expect(all['REGISTRAR:CIVIL_REGISTRATION'].name).toBe('UnifiedCitizen');
    expect(all['INVESTIGATOR:COURT_ORDER'].name).toBe('UnifiedCitizen');
    expect(all['ANALYST:STATISTICS'].name).toBe('StatisticsExamples');
    expect(all['ANALYST:STATISTICS'].operations).toEqual(
      expect.arrayContaining(['PopulationPyramid', 'BirthsPerMonth', 'SexRatioAtBirth', 'LateRegistrations', 'DeathsByAgeAndSex']),
    );
    expect(all['CLERK:SERVICE_COUNTER'].personalCodeVariables).toEqual([{ name: 'code', list: false }]);
  });
});
