import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * `npm run token` as a person types it: --help prints the usage and exits 0; a mistake prints one line
 * naming it and exits 2; never a stack trace. (The script itself, not a copy: node runs it through tsx.)
 */
const SCRIPT = path.resolve(__dirname, '../scripts/token.ts');

function token(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const STACK_TRACE = /\n\s+at |node:internal|Error \[ERR_/;

describe('npm run token', () => {
  it.each([['--help'], ['-h']])('%s prints the usage and every role with its purposes, exit 0', (flag) => {
    const run = token(flag);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run token -- --role /);
    expect(run.stdout).toMatch(/CITIZEN\s+OWN_DATA/);
    expect(run.stderr).toBe('');
  });

  it.each([
    ['an unknown option', ['--nope'], /Unknown option '--nope'/],
    ['an option without its value', ['--role'], /--role/],
    ['a stray argument', ['--role', 'CLERK', 'extra'], /Unexpected argument 'extra'/],
    ['an unknown role', ['--role', 'KING'], /--role must be one of CLERK/],
    ['a clerk without an agency', ['--role', 'CLERK'], /--agency is required for CLERK/],
    ['a purpose the role may not act for', ['--role', 'CLERK', '--agency', 'residents', '--purpose', 'AUDIT'], /--purpose AUDIT is not one CLERK may act for/],
    ['a citizen without a personal code', ['--role', 'CITIZEN'], /--personal-code/],
    ['a lifetime that is not a number', ['--role', 'ANALYST', '--expires-in', 'soon'], /--expires-in/],
  ])('%s: one line naming the mistake, exit 2, no stack trace', (_what, args, message) => {
    const run = token(...args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
