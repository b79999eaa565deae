import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EnvReader } from '../lib/env';
import { readServiceKey, readTrustFile, SERVICE_ISSUERS } from '../lib/service-keys';

/**
 * `npm run keys` as an operator runs it before a first deployment: the script itself, through tsx. The keys
 * it makes must be ones production accepts; what production refuses, it refuses to make, writing nothing.
 */
const SCRIPT = path.resolve(__dirname, '../scripts/keys.ts');
const REPOSITORY = path.resolve(__dirname, '..');

async function keys(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { status: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const STACK_TRACE = /\n\s+at |node:internal/;
const scratch = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cg-keys-'));

it('makes every service key, the trust file and the checkpoint key, which production accepts', async () => {
  const out = path.join(scratch(), 'installation-keys');
  const run = await keys('--out', out, '--kid-prefix', 'prod-2026-12-');
  expect(run).toMatchObject({ status: 0, stderr: '' });
  for (const issuer of SERVICE_ISSUERS) {
    const file = path.join(out, `${issuer}.private.jwk.json`);
    expect({ issuer, mode: fs.statSync(file).mode & 0o777 }).toEqual({ issuer, mode: 0o600 });
    expect(run.stdout).toContain(file);
    const read = new EnvReader({ NODE_ENV: 'production', SERVICE_KEY_FILE: file, SERVICE_TRUST_FILE: path.join(out, 'trust.json') });
    expect(readServiceKey(read, 'SERVICE_KEY_FILE', issuer)?.kid).toMatch(new RegExp(`^prod-2026-12-${issuer}-`));
    expect(readTrustFile(read)?.issuers[issuer].keys[0].kid).toMatch(new RegExp(`^prod-2026-12-${issuer}-`));
    expect(() => read.done()).not.toThrow();
  }
  expect(fs.statSync(path.join(out, 'audit-checkpoint.private.jwk.json')).mode & 0o777).toBe(0o600);
  const publicKeys = JSON.parse(fs.readFileSync(path.join(out, 'audit-checkpoint.jwks.json'), 'utf8')) as { keys: { d?: string; kid: string }[] };
  expect(publicKeys.keys).toHaveLength(1);
  expect(publicKeys.keys[0].d).toBeUndefined();
});

it.each([
  ['a folder inside the repository', () => ['--out', path.join(REPOSITORY, '.data', `keys-refused-${process.pid}`)], /inside the repository/],
  ['a development kid prefix', () => ['--out', path.join(scratch(), 'k'), '--kid-prefix', 'dev-sneaky-'], /must not start with "dev-"/],
  ['a kid prefix with path or odd characters', () => ['--out', path.join(scratch(), 'k'), '--kid-prefix', '../PROD'], /--kid-prefix must be lower-case/],
  ['no --out', () => [], /--out is required/],
  ['an unknown option', () => ['--out', path.join(scratch(), 'k'), '--force'], /Unknown option '--force'/],
])('refuses %s with one line and exit 2, writing nothing', async (_, args, message) => {
  const argv = args();
  const run = await keys(...argv);
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(STACK_TRACE);
  const out = argv[argv.indexOf('--out') + 1];
  if (argv.includes('--out')) expect(fs.existsSync(out)).toBe(false);
});

it('never overwrites: a folder that already holds keys is refused and left as it was', async () => {
  const out = scratch();
  expect((await keys('--out', out)).status).toBe(0);
  const before = Object.fromEntries(fs.readdirSync(out).map((name) => [name, fs.readFileSync(path.join(out, name), 'utf8')]));
  expect(Object.keys(before)).toEqual(expect.arrayContaining(['trust.json', 'gateway.private.jwk.json']));
  const again = await keys('--out', out);
  expect(again.status).toBe(2);
  expect(again.stderr).toMatch(/is not empty: this command never overwrites keys/);
  const after = Object.fromEntries(fs.readdirSync(out).map((name) => [name, fs.readFileSync(path.join(out, name), 'utf8')]));
  expect(after).toEqual(before);
});
