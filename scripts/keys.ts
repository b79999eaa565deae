import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isInside, REPOSITORY_ROOT } from '../lib/env';
import { DEV_KEY_PREFIX, SERVICE_ISSUERS } from '../lib/service-keys';
import { ensureCheckpointKey } from '../lib/audit/checkpoint';
import { ensureServiceKeys } from '../tools/service-keys';

/**
 * npm run keys -- --out DIR [--kid-prefix prod-2026-12-]
 * Makes an installation's own keys for production, in a new folder outside the repository: an Ed25519 key
 * pair per service (its private half `<service>.private.jwk.json`, mode 0600; the trust file `trust.json`
 * every subgraph reads) and the key that signs audit-chain checkpoints (with its public `.jwks.json` for
 * auditors). Production refuses keys kept inside the repository and development keys (kid "dev-…"), so this
 * command refuses to make either. It never overwrites: a folder that already holds anything is refused, so a
 * mistyped path cannot replace a running installation's keys (rotation adds a new folder and new kids).
 * Tokens are signed by the ministry's identity provider, not here.
 */
const USAGE = 'usage: npm run keys -- --out DIR [--kid-prefix PREFIX]';

class UsageError extends Error {}

function readArguments(argv: string[]): { out: string; kidPrefix: string } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { out: { type: 'string' }, 'kid-prefix': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.out) throw new UsageError(`--out is required: the new folder for the keys, outside the repository\n${USAGE}`);
  const out = path.resolve(values.out);
  if (isInside(out, REPOSITORY_ROOT)) throw new UsageError(`--out ${out} is inside the repository: production refuses keys kept there`);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) throw new UsageError(`--out ${out} is not empty: this command never overwrites keys`);
  const kidPrefix = values['kid-prefix'] ?? `prod-${new Date().toISOString().slice(0, 10)}-`;
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(kidPrefix)) throw new UsageError(`--kid-prefix must be lower-case letters, digits and dashes (at most 41), got "${kidPrefix.slice(0, 60)}"`);
  if (kidPrefix.startsWith(DEV_KEY_PREFIX)) throw new UsageError(`--kid-prefix must not start with "${DEV_KEY_PREFIX}": production refuses development keys`);
  return { out, kidPrefix };
}

async function main() {
  const { out, kidPrefix } = readArguments(process.argv.slice(2));
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const service = await ensureServiceKeys(out, { kidPrefix });
  const checkpoint = await ensureCheckpointKey(path.join(out, 'audit-checkpoint.private.jwk.json'));
  fs.chmodSync(checkpoint.keyFile, 0o600);
  console.log(`Keys made in ${out} (kids ${kidPrefix}<service>-…):`);
  for (const issuer of SERVICE_ISSUERS) console.log(`  ${issuer.padEnd(16)} ${service.keyFiles[issuer]}`);
  console.log(`  trust file       ${service.trustFile}  (every subgraph: SERVICE_TRUST_FILE)`);
  console.log(`  audit checkpoint ${checkpoint.keyFile}  (gateway: AUDIT_CHECKPOINT_KEY_FILE; auditors: ${checkpoint.jwksFile})`);
  console.log('Give each service only its own private key (README: Deployment, Installing).');
}

main().catch((error) => {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
