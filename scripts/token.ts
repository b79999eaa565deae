import { parseArgs } from 'node:util';
import { DEV_KEYS_DIR } from '../gateway/config';
import { ensureDevKeys, mintDevToken } from '../lib/dev-keys';
import { POLICY } from '../lib/access/policy';
import { isRole } from '../lib/access/principal';
import { isPersonalCode } from '../lib/personal-code';

/**
 * npm run token -- --role CLERK --agency residents --purpose SERVICE_COUNTER [--sub NAME] [--personal-code CODE]
 *                  [--expires-in SECONDS]
 * Prints a demo bearer token signed with the development keys (.data/keys, made by npm start). Leave out
 * --purpose to send it per request in the x-purpose header instead.
 */
const USAGE =
  'usage: npm run token -- --role CLERK|REGISTRAR|INVESTIGATOR|ANALYST|AUDITOR|CITIZEN [--agency A] [--purpose P] [--sub NAME] [--personal-code CODE] [--expires-in S]';

async function main() {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      agency: { type: 'string' },
      purpose: { type: 'string' },
      sub: { type: 'string' },
      'personal-code': { type: 'string' },
      'expires-in': { type: 'string', default: '3600' },
    },
    strict: true,
  });
  const role = values.role?.toUpperCase();
  const fail = (message: string) => {
    console.error(`${message}\n${USAGE}`);
    process.exit(2);
  };
  if (!isRole(role)) return fail(`--role must be one of ${Object.keys(POLICY).join(', ')}.`);
  if (['CLERK', 'REGISTRAR', 'INVESTIGATOR'].includes(role) && !values.agency) return fail(`--agency is required for ${role}.`);
  if (role === 'CITIZEN' && !isPersonalCode(values['personal-code'])) return fail('--personal-code (12 digits) is required for CITIZEN.');
  if (values.purpose && !(values.purpose in POLICY[role])) {
    return fail(`--purpose ${values.purpose} is not one ${role} may act for: ${Object.keys(POLICY[role]).join(', ')}.`);
  }
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
      ...(values.purpose ? { purpose: values.purpose } : {}),
    },
    { expiresIn },
  );
  console.log(token);
}

void main();
