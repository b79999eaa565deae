import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFederation, type TestFederation } from './support/federation';
import { bearer, PERSONAS } from './support/tokens';
import { BROWSER_TEST_TIMEOUT_MS, launchBrowser, newContext } from './support/browser';
import { PAGE_CSP } from '../gateway/ide';

/**
 * The statistics page (gateway/statistics-page.ts, gateway/statistics-page/) in a real headless Chromium: an
 * analyst pastes a token, chooses a province or a year, and the bars drawn (each SVG rect's cell, and its length)
 * are the counts the API answers for that query; errors show the gateway's code; the CSV download is the table;
 * everything the page loads comes from the gateway under its CSP.
 */
// What the functions given to page.evaluate see, in the page (the project's TypeScript has no DOM library).
declare const document: { querySelector(selector: string): any };

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

let federation: TestFederation;
let browser: Browser;
let analyst: Record<string, string>;

beforeAll(async () => {
  federation = await startFederation();
  await federation.statistics.refresh();
  analyst = await bearer(PERSONAS.analyst);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await federation?.stop();
});

interface Cell {
  values: { code: string; label: string | null }[];
  count: number;
}

async function cells(field: string, args: string): Promise<Cell[]> {
  const response = await federation.query<Record<string, { cells: Cell[] }>>(`{ ${field}(${args}) { cells { values { code label } count } } }`, {}, analyst);
  expect(response.errors).toBeUndefined();
  return response.data![field].cells;
}

interface Opened {
  context: BrowserContext;
  page: Page;
  urls: string[];
  problems: string[];
}

async function openPage(): Promise<Opened> {
  const context = await newContext(browser);
  const page = await context.newPage();
  const opened: Opened = { context, page, urls: [], problems: [] };
  page.on('request', (request) => opened.urls.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') opened.problems.push(message.text());
  });
  page.on('pageerror', (error) => opened.problems.push(String(error)));
  const response = await page.goto(`${federation.gatewayBase}/statistics`);
  expect(response!.headers()['content-security-policy']).toBe(PAGE_CSP);
  await page.waitForSelector('body[data-ready="true"]');
  return opened;
}

/** Pastes a token as an analyst would, `Bearer ` and all. */
const pasteToken = (page: Page, headers: Record<string, string>) => page.fill('#token', headers.authorization);

/** Waits for the n-th table the page shows. */
const shown = (page: Page, n: number) => page.waitForSelector(`#results[data-state="shown"][data-shown="${n}"]`, { state: 'attached' });

interface Bar {
  category: string;
  series: string;
  count: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

const drawnBars = (page: Page, chart: string): Promise<Bar[]> =>
  page.$$eval(`#chart svg[data-chart="${chart}"] rect.bar[data-count]`, (rects) =>
    rects.map((rect) => ({
      category: rect.getAttribute('data-category')!,
      series: rect.getAttribute('data-series')!,
      count: Number(rect.getAttribute('data-count')),
      x: Number(rect.getAttribute('x')),
      y: Number(rect.getAttribute('y')),
      width: Number(rect.getAttribute('width')),
      height: Number(rect.getAttribute('height')),
    })),
  );

const key = (category: string, series: string, count: number) => `${category}|${series}|${count}`;

/** Every bar's length is its count times one scale: the chart is drawn from the counts, not only labelled with them. */
function expectProportional(bars: Bar[], length: (bar: Bar) => number) {
  const longest = bars.reduce((a, b) => (b.count > a.count ? b : a));
  const scale = length(longest) / longest.count;
  expect(scale).toBeGreaterThan(0);
  for (const bar of bars) expect(Math.abs(length(bar) - bar.count * scale)).toBeLessThan(0.02);
}

function expectOnlyTheGateway(opened: Opened) {
  expect(opened.problems).toEqual([]);
  expect(opened.urls.filter((url) => !url.startsWith(`${federation.gatewayBase}/`))).toEqual([]);
}

describe('the statistics page', () => {
  it('draws the population pyramid of the chosen province from the numbers the API answers', async () => {
    // The province with the most residents, as an analyst would pick one to look at.
    const provinces = await cells('populationStatistics', 'groupBy: [RESIDENCE_PROVINCE]');
    const province = provinces.filter((c) => c.values[0].code !== 'NONE').reduce((a, b) => (b.count > a.count ? b : a)).values[0].code;
    const expected = await cells('populationStatistics', `groupBy: [AGE_BAND, SEX], filter: [{ dimension: RESIDENCE_PROVINCE, values: ["${province}"] }]`);
    expect(expected.length).toBeGreaterThan(10);

    const opened = await openPage();
    const { page } = opened;
    await pasteToken(page, analyst);
    await page.selectOption('#province', province);
    await page.click('#preset-pyramid');
    await shown(page, 1);

    const bars = await drawnBars(page, 'pyramid');
    expect(bars.map((b) => key(b.category, b.series, b.count)).sort()).toEqual(expected.map((c) => key(c.values[0].code, c.values[1].code, c.count)).sort());
    expectProportional(bars, (bar) => bar.width);
    // Men to the left of the axis, women to the right, every bar touching it; the oldest band on top.
    const axis = bars.find((b) => b.series === 'FEMALE')!.x;
    for (const bar of bars) expect(bar.series === 'MALE' ? bar.x + bar.width : bar.x).toBeCloseTo(axis, 1);
    const yOf = (band: string) => bars.find((b) => b.category === band)!.y;
    expect(yOf('0-4')).toBeGreaterThan(yOf('50-54'));
    // The table holds the same cells, a row each.
    expect(await page.$$eval('#table tr', (rows) => rows.length)).toBe(expected.length + 1);
    expect(await page.textContent('#about')).toMatch(/CELL_KEY_PERTURBATION: counts 1–4 never shown/);
    expectOnlyTheGateway(opened);
    await opened.context.close();
  });

  it('draws births per month of the chosen year from the numbers the API answers, and a later choice replaces it', async () => {
    const years = await cells('birthStatistics', 'groupBy: [BIRTH_YEAR]');
    const year = years.reduce((a, b) => (b.count > a.count ? b : a)).values[0].code;
    const expected = await cells('birthStatistics', `groupBy: [BIRTH_MONTH], filter: [{ dimension: BIRTH_YEAR, values: ["${year}"] }]`);
    expect(expected.length).toBeGreaterThan(3);

    const opened = await openPage();
    const { page } = opened;
    await pasteToken(page, analyst);
    await page.click('#preset-pyramid'); // first something else: the births must replace it
    await shown(page, 1);
    await page.selectOption('#province', '');
    await page.click('#preset-births'); // last year's, then the year chosen
    await shown(page, 2);
    await page.fill('#year', year);
    await page.click('#show');
    await shown(page, 3);

    expect(await page.$$eval('#chart svg[data-chart="pyramid"]', (charts) => charts.length)).toBe(0);
    const bars = await drawnBars(page, 'bars');
    expect(bars.map((b) => key(b.category, b.series, b.count)).sort()).toEqual(expected.map((c) => key(c.values[0].code, '', c.count)).sort());
    expect(bars.every((b) => b.category.startsWith(`${year}-`))).toBe(true);
    expectProportional(bars, (bar) => bar.height);
    // Months left to right, every bar standing on the same baseline.
    const ordered = [...bars].sort((a, b) => a.x - b.x).map((b) => b.category);
    expect(ordered).toEqual([...ordered].sort());
    const baselines = new Set(bars.map((b) => (b.y + b.height).toFixed(1)));
    expect(baselines.size).toBe(1);
    // Every month of the year is on the axis, those published as 0 (no cell, no bar) included.
    const axis = await page.$$eval('#chart svg[data-chart="bars"] text', (texts) => texts.map((t) => t.textContent));
    expect(axis.filter((t) => t!.startsWith(`${year}-`))).toEqual(Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, '0')}`));
    expectOnlyTheGateway(opened);
    await opened.context.close();
  });

  it("shows the gateway's refusal with its code, and draws nothing: a clerk's token, a dimension chosen twice", async () => {
    const opened = await openPage();
    const { page } = opened;
    await pasteToken(page, await bearer(PERSONAS.clerk));
    expect(await page.textContent('#caller')).toMatch(/CLERK .*statistics are for analysts/);
    await page.click('#preset-pyramid');
    await page.waitForSelector('#results[data-state="error"]', { state: 'attached' });
    expect(await page.textContent('#about')).toMatch(/\(FORBIDDEN/);
    expect(await page.$$eval('#chart svg', (charts) => charts.length)).toBe(0);

    await pasteToken(page, analyst);
    await page.selectOption('#measure', 'populationStatistics');
    await page.selectOption('#dimension-1', 'SEX');
    await page.selectOption('#dimension-2', 'SEX');
    await page.click('#show');
    await page.waitForFunction(() => /STATISTICS_REPEATED_DIMENSION/.test(document.querySelector('#about').textContent));
    expect(await page.textContent('#about')).toMatch(/\(BAD_USER_INPUT \/ STATISTICS_REPEATED_DIMENSION\)/);
    await opened.context.close();
  });

  it('downloads the table shown as CSV, the perturbation noted', async () => {
    const opened = await openPage();
    const { page } = opened;
    await pasteToken(page, analyst);
    await page.selectOption('#province', '001');
    await page.click('#preset-pyramid');
    await shown(page, 1);
    const rows = await page.$$eval('#table tr', (trs) => trs.length);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(download.suggestedFilename()).toMatch(/^populationStatistics-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines.filter((l) => l.startsWith('# perturbation: CELL_KEY_PERTURBATION, threshold 4'))).toHaveLength(1);
    const data = lines.filter((l) => !l.startsWith('#'));
    expect(data[0]).toBe('AGE_BAND,AGE_BAND_label,SEX,SEX_label,count');
    expect(data).toHaveLength(rows);
    expectOnlyTheGateway(opened);
    await opened.context.close();
  });
});
