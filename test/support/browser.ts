import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/**
 * A real headless Chromium for the tests that need a browser (CORS, the IDE), driven with playwright-core.
 * The browser is Debian's `chromium` package (`.ci/run` installs it when missing), or whatever CHROMIUM_PATH
 * names. Without one the tests fail and say how to get it: a browser test that skips proves nothing.
 */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium', '/usr/bin/google-chrome'];

export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env, candidates: readonly string[] = CANDIDATES): string {
  const given = env.CHROMIUM_PATH?.trim();
  if (given) {
    if (isExecutable(given)) return given;
    throw new Error(`CHROMIUM_PATH names ${given}, which is not an executable file. Point it at a Chromium or Chrome binary, or unset it to use Debian's chromium package.`);
  }
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new Error(
    `No Chromium found (looked for ${candidates.join(', ')}). The browser tests need one: install Debian's package ` +
      '(`apt-get update && apt-get install -y chromium`; .ci/run does this) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  );
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Launches headless Chromium; close it in afterAll. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumExecutable();
  try {
    return await chromium.launch({ executablePath, headless: true });
  } catch (error) {
    throw new Error(`Chromium at ${executablePath} did not start: ${(error as Error).message}`);
  }
}

/**
 * How long a page may take to load or to show what a test waits for. A deadline, not a measure: the IDE's
 * scripts are 4 MB, and a machine shared with other work can be slow to parse them. Tests of these files
 * need a jest timeout above it (BROWSER_TEST_TIMEOUT_MS).
 */
export const BROWSER_WAIT_MS = 90_000;
export const BROWSER_TEST_TIMEOUT_MS = 4 * BROWSER_WAIT_MS;

/** A fresh browser profile (no cookies, no storage) whose waits use BROWSER_WAIT_MS. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  context.setDefaultNavigationTimeout(BROWSER_WAIT_MS);
  return context;
}

/** A plain HTTP server serving one HTML page at /, on a port of its own: a web application of another origin. */
export interface PageServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  close(): Promise<void>;
}

export async function servePage(html: string): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
