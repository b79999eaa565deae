import { parseArgs } from 'node:util';
import { DEV_KEYS_DIR } from '../gateway/config';
import { ensureDevKeys, mintDevToken } from '../tools/dev-keys';
import { POLICY } from '../lib/access/policy';
import { isRole } from '../lib/access/principal';
import { isPersonalCode } from '../lib/personal-code';
import { CASE_REFERENCE_PATTERN } from '../gateway/token-claims';

/**
 * npm run token -- --role CLERK --agency residents --purpose SERVICE_COUNTER [--sub NAME] [--personal-code CODE]
 *                  [--case-ref REF] [--expires-in SECONDS]
 * Prints a demo bearer token signed with the development keys (.data/keys, made by npm start). --purpose may
 * list several, comma-separated: each request then chooses one with the x-purpose header. POLICE_CASE and
 * COURT_ORDER need --case-ref (or the x-case-reference header on each request).
 */
const USAGE =
  'usage: npm run token -- --role CLERK|REGISTRAR|INVESTIGATOR|ANALYST|AUDITOR|CITIZEN [--agency A] [--purpose P[,P2]] [--sub NAME] [--personal-code CODE] [--case-ref REF] [--expires-in S]';

/** The usage, and the purposes each role may act for (from the policy, so it never goes stale). */
function help(): string {
  const purposes = Object.entries(POLICY).map(([role, allowed]) => `  ${role.padEnd(13)}${Object.keys(allowed).join(', ')}`);
  return [
    USAGE,
    '',
    'Prints a development bearer token signed with the keys in .data/keys. --agency is required for CLERK,',
    'REGISTRAR and INVESTIGATOR, --personal-code for CITIZEN; POLICE_CASE and COURT_ORDER take --case-ref.',
    '',
    'Purposes each role may act for:',
    ...purposes,
  ].join('\n');
}

/** Bad arguments: one line on stderr, exit code 2 (the usage is one --help away). */
class UsageError extends Error {}

function readArguments() {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', short: 'h' },
        role: { type: 'string' },
        agency: { type: 'string' },
        purpose: { type: 'string' },
        sub: { type: 'string' },
        'personal-code': { type: 'string' },
        'case-ref': { type: 'string' },
        'expires-in': { type: 'string', default: '3600' },
      },
      strict: true,
    }).values;
  } catch (error) {
    // node:util's parse errors (unknown option, missing value, stray argument) are the user's, not a fault.
    throw new UsageError((error as Error).message);
  }
}

async function main() {
  const values = readArguments();
  if (values.help) {
    console.log(help());
    return;
  }
  const role = values.role?.toUpperCase();
  const fail = (message: string): never => {
    throw new UsageError(message);
  };
  if (!isRole(role)) return fail(`--role must be one of ${Object.keys(POLICY).join(', ')}.`);
  if (['CLERK', 'REGISTRAR', 'INVESTIGATOR'].includes(role) && !values.agency) return fail(`--agency is required for ${role}.`);
  if (role === 'CITIZEN' && !isPersonalCode(values['personal-code'])) return fail('--personal-code (12 digits) is required for CITIZEN.');
  const purposes = values.purpose ? values.purpose.split(',').map((p) => p.trim()) : [];
  const wrong = purposes.find((p) => !Object.hasOwn(POLICY[role], p));
  if (wrong) return fail(`--purpose ${wrong} is not one ${role} may act for: ${Object.keys(POLICY[role]).join(', ')}.`);
  if (values['case-ref'] !== undefined && !CASE_REFERENCE_PATTERN.test(values['case-ref'])) return fail('--case-ref must be 1 to 64 letters, digits, spaces or . _ : / -.');
  const expiresIn = Number(values['expires-in']);
  if (!Number.isInteger(expiresIn) || expiresIn < 1) return fail('--expires-in must be a positive number of seconds.');
  await ensureDevKeys(DEV_KEYS_DIR);
  const token = await mintDevToken(
    DEV_KEYS_DIR,
    {
      sub: values.sub ?? `demo:${role.toLowerCase()}`,
      role,
      ...(values.agency ? { agency: values.agency } : {}),
      ...(values['personal-code'] ? { personal_code: values['personal-code'] } : {}),
      ...(purposes.length > 0 ? { purpose: purposes.length === 1 ? purposes[0] : purposes } : {}),
      ...(values['case-ref'] ? { case_ref: values['case-ref'] } : {}),
    },
    { expiresIn },
  );
  console.log(token);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`token: ${error.message} (npm run token -- --help shows the usage)`);
    process.exit(2);
  }
  console.error(`token: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
