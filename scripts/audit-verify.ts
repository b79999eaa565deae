import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIT_VERIFIER_ROLE, rolePasswordsFile, urlWithRole } from '../lib/database-roles';
import { AGENCIES, AUDIT_STORE, LOCAL_POSTGRES_PORT, localDatabaseUrl } from '../lib/agencies';
import { Pool } from 'pg';
import { findUnrecordedWrites, verifyAuditChain, type ChainProblem } from '../tools/audit/verify';
import { DEV_CHECKPOINT_FILE, DEV_CHECKPOINT_KEY_FILE, publicKeysFileFor, readPublicKeys, verifyCheckpointFile, type Checkpoint } from '../lib/audit/checkpoint';
import { openAuditPool } from '../lib/audit/pool';
import { EnvReader, redactUrl } from '../lib/env';

/**
 * npm run audit:verify [-- --anchor <seq>:<hash>] [--checkpoints <file>... --key <jwks>]: walks the audit store's
 * hash chain (lib/audit/chain.ts) and checks it against the signed checkpoints of its head
 * (lib/audit/checkpoint.ts), which a superuser of the database cannot rewrite.
 *   exit 0  intact; one line: how many records, and the last record's seq and hash
 *   exit 1  not intact; stdout has one line per problem, naming the record (or checkpoint line) and what is wrong
 *   exit 2  could not verify (database unreachable, bad arguments, a checkpoint file or key named but unreadable)
 * --agency-databases: also checks that every entry of each agency's change log (RESIDENTS_DATABASE_URL,
 * NATIONAL_ID_DATABASE_URL, BIRTH_REGISTRY_DATABASE_URL; the embedded databases by default) older than
 * --change-grace-seconds (60: the outbox ships within seconds) has its WRITE record (lib/audit/outbox.ts).
 * AUDIT_DATABASE_URL names the store (it only needs to read: the cg_audit_verifier role); by default the
 * development store in the embedded PostgreSQL (POSTGRES_PORT, 54320; DATA_DIR), as cg_audit_verifier, which
 * must be running (npm start). The agency databases are read as the superuser's URLs by default (their change
 * logs); give *_DATABASE_URL of a role that may read them in production.
 * Checkpoints: --checkpoints (AUDIT_CHECKPOINT_FILE; .data/audit-checkpoints/checkpoints.jsonl in development)
 * and --key, the public JWKS (AUDIT_CHECKPOINT_JWKS_FILE; the one next to the development key). --checkpoints may be
 * given several times: several gateway replicas write one chain, each its own checkpoint file (tools/cluster.ts); each
 * file is verified on its own (signatures, only forward), and the chain against all of them. Without
 * either named, the development files are used when they exist; when they do not, the chain is verified
 * without checkpoints, and a line on stderr says so (as with --no-checkpoints).
 */
async function main(): Promise<number> {
  const read = new EnvReader(process.env);
  const port = read.integer('POSTGRES_PORT', LOCAL_POSTGRES_PORT, { min: 1024, max: 65535 });
  const url = read.url(`${AUDIT_STORE.envPrefix}_DATABASE_URL`, developmentVerifierUrl(port, read.optionalString('DATA_DIR')));
  const envCheckpoints = read.optionalString('AUDIT_CHECKPOINT_FILE');
  const envKeys = read.optionalString('AUDIT_CHECKPOINT_JWKS_FILE');
  const agencyUrls = AGENCIES.map((a) => ({ agency: a.id, url: read.url(`${a.envPrefix}_DATABASE_URL`, localDatabaseUrl(a, port)) }));
  read.done();
  const { values } = parseArgs({
    options: {
      anchor: { type: 'string' },
      checkpoints: { type: 'string', multiple: true },
      key: { type: 'string' },
      'no-checkpoints': { type: 'boolean' },
      'agency-databases': { type: 'boolean' },
      'change-grace-seconds': { type: 'string' },
    },
  });
  const graceSeconds = Number(values['change-grace-seconds'] ?? 60);
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) throw new Error(`--change-grace-seconds must be a number >= 0; got ${values['change-grace-seconds']}`);
  let anchor: { seq: number; hash: string } | undefined;
  if (values.anchor !== undefined) {
    const match = /^(\d+):([0-9a-f]{64})$/.exec(values.anchor);
    if (!match) throw new Error(`--anchor must be <seq>:<64 lowercase hex>; got ${values.anchor}`);
    anchor = { seq: Number(match[1]), hash: match[2] };
  }

  const named = values.checkpoints ?? (envCheckpoints !== undefined ? [envCheckpoints] : undefined);
  const namedKeys = values.key ?? envKeys;
  const checkpointFiles = (named ?? [DEV_CHECKPOINT_FILE]).map((file) => path.resolve(file));
  const keysFile = path.resolve(namedKeys ?? publicKeysFileFor(DEV_CHECKPOINT_KEY_FILE));
  const problems: ChainProblem[] = [];
  let checkpoints: Checkpoint[] | undefined;
  if (values['no-checkpoints']) {
    console.error('[audit:verify] --no-checkpoints: the chain is verified without checkpoints');
  } else if (named !== undefined || namedKeys !== undefined || fs.existsSync(checkpointFiles[0])) {
    checkpoints = [];
    for (const checkpointFile of checkpointFiles) {
      if (!fs.existsSync(checkpointFile)) throw new Error(`the checkpoint file ${checkpointFile} does not exist`);
      const verified = await verifyCheckpointFile(checkpointFile, readPublicKeys(keysFile));
      checkpoints.push(...verified.checkpoints);
      const where = checkpointFiles.length > 1 ? `${checkpointFile}: ` : '';
      for (const p of verified.problems) problems.push({ seq: 0, kind: 'FORGED_CHECKPOINT', message: `${where}${p.message}` });
    }
  } else {
    console.error(`[audit:verify] no checkpoint file (${checkpointFiles[0]}): the chain is verified without checkpoints`);
  }

  const pool = openAuditPool(url, 2);
  try {
    const report = await verifyAuditChain(pool, { anchor, checkpoints });
    problems.push(...report.problems);
    if (values['agency-databases']) {
      const agencies = agencyUrls.map(({ agency, url: agencyUrl }) => ({ agency, pool: new Pool({ connectionString: agencyUrl, max: 1 }) }));
      try {
        problems.push(...(await findUnrecordedWrites(pool, agencies, { graceMs: graceSeconds * 1000 })));
      } finally {
        await Promise.all(agencies.map((a) => a.pool.end()));
      }
    }
    if (problems.length === 0) {
      const last = report.last ? `; last #${report.last.seq} ${report.last.hash}` : '';
      const against = checkpoints ? `; ${checkpoints.length} checkpoint(s) verified` : '';
      console.log(`audit chain intact: ${report.records} records${last}${against}`);
      return 0;
    }
    for (const problem of problems) console.log(problem.message);
    console.error(`audit chain NOT intact: ${problems.length} problem(s) in ${report.records} records (${redactUrl(url)})`);
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
