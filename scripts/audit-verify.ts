import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIT_VERIFIER_ROLE, rolePasswordsFile, urlWithRole } from '../lib/database-roles';
import { AUDIT_STORE, LOCAL_POSTGRES_PORT, localDatabaseUrl } from '../lib/agencies';
import { verifyAuditChain } from '../lib/audit/verify';
import { openAuditPool } from '../lib/audit/pool';
import { EnvReader, redactUrl } from '../lib/env';

/**
 * npm run audit:verify [-- --anchor <seq>:<hash>]: walks the audit store's hash chain (lib/audit/chain.ts).
 *   exit 0  intact; one line: how many records, and the last record's seq and hash (keep it elsewhere and
 *           pass it as --anchor next time, to detect a rewrite of the chain up to it)
 *   exit 1  not intact; stdout has one line per problem, naming the record and what is wrong with it
 *   exit 2  could not verify (database unreachable, bad arguments)
 * AUDIT_DATABASE_URL names the store (it only needs to read: the cg_audit_verifier role); by default the
 * development store in the embedded PostgreSQL (POSTGRES_PORT, 54320; DATA_DIR), as cg_audit_verifier, which
 * must be running (npm start).
 */
async function main(): Promise<number> {
  const read = new EnvReader(process.env);
  const port = read.integer('POSTGRES_PORT', LOCAL_POSTGRES_PORT, { min: 1024, max: 65535 });
  const url = read.url(`${AUDIT_STORE.envPrefix}_DATABASE_URL`, developmentVerifierUrl(port, read.optionalString('DATA_DIR')));
  read.done();
  const { values } = parseArgs({ options: { anchor: { type: 'string' } } });
  let anchor: { seq: number; hash: string } | undefined;
  if (values.anchor !== undefined) {
    const match = /^(\d+):([0-9a-f]{64})$/.exec(values.anchor);
    if (!match) throw new Error(`--anchor must be <seq>:<64 lowercase hex>; got ${values.anchor}`);
    anchor = { seq: Number(match[1]), hash: match[2] };
  }

  const pool = openAuditPool(url, 2);
  try {
    const report = await verifyAuditChain(pool, { anchor });
    if (report.intact) {
      const last = report.last ? `; last #${report.last.seq} ${report.last.hash}` : '';
      console.log(`audit chain intact: ${report.records} records${last}`);
      return 0;
    }
    for (const problem of report.problems) console.log(problem.message);
    console.error(`audit chain NOT intact: ${report.problems.length} problem(s) in ${report.records} records (${redactUrl(url)})`);
    return 1;
  } finally {
    await pool.end();
  }
}

/**
 * In development, the store of `npm start` as the read-only verifier role (lib/database-roles.ts), with the
 * password generated for this installation; as the superuser if that was never generated.
 */
function developmentVerifierUrl(port: number, dataDir: string | undefined): string {
  const superuser = localDatabaseUrl(AUDIT_STORE, port);
  const file = rolePasswordsFile(path.resolve(__dirname, '..', dataDir ?? '.data/postgres'));
  if (!fs.existsSync(file)) return superuser;
  const password = (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>)[AUDIT_VERIFIER_ROLE.name];
  return password ? urlWithRole(superuser, AUDIT_VERIFIER_ROLE.name, password) : superuser;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error('[audit:verify] could not verify:', error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
