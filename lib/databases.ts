import { Pool } from 'pg';
import { AGENCIES, AUDIT_STORE, type Agency } from './agencies';
import { startLocalPostgres, type LocalPostgres } from './local-postgres';
import { migrate } from './migrate';

/**
 * The three agency databases and the audit store, ready to serve: the embedded PostgreSQL started where
 * no external URL is given, each database created and migrated. Used by `npm start`, `npm run seed`,
 * `npm run migrate`, the bench and the tests.
 */
export interface AgencyDatabases {
  urls: Record<Agency['id'], string>;
  /** The audit store (lib/audit): not an agency, so not in `urls`, which lists the subgraphs' databases. */
  auditUrl: string;
  embedded: LocalPostgres | null;
  stop(): Promise<void>;
}

export async function prepareDatabases(options: {
  dataDir: string;
  postgresPort: number;
  external?: Partial<Record<Agency['id'], string>>;
  /** AUDIT_DATABASE_URL: an external audit store; the embedded database `audit` otherwise. */
  externalAudit?: string;
  log?: (line: string) => void;
}): Promise<AgencyDatabases> {
  const external = options.external ?? {};
  const needsEmbedded = AGENCIES.some((agency) => !external[agency.id]) || !options.externalAudit;
  const embedded = needsEmbedded ? await startLocalPostgres({ dataDir: options.dataDir, port: options.postgresPort }) : null;
  const prepare = async (name: string, database: string, migrationsDir: string, externalUrl: string | undefined) => {
    if (!externalUrl) await embedded!.ensureDatabase(database);
    const url = externalUrl ?? embedded!.urlFor(database);
    const applied = await migrate(url, migrationsDir);
    if (applied.length > 0) options.log?.(`${name}: applied ${applied.join(', ')}`);
    return url;
  };
  try {
    const urls = {} as Record<Agency['id'], string>;
    for (const agency of AGENCIES) {
      urls[agency.id] = await prepare(agency.id, agency.database, agency.migrationsDir, external[agency.id]);
    }
    const auditUrl = await prepare('audit', AUDIT_STORE.database, AUDIT_STORE.migrationsDir, options.externalAudit);
    return { urls, auditUrl, embedded, stop: async () => embedded?.stop() };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/** One short-lived pool per agency database, for seeding and one-off queries. */
export function openPools(urls: Record<Agency['id'], string>) {
  const pools = {
    residents: new Pool({ connectionString: urls.residents, max: 4 }),
    nationalId: new Pool({ connectionString: urls['national-id'], max: 4 }),
    birthRegistry: new Pool({ connectionString: urls['birth-registry'], max: 4 }),
  };
  // pool.end() resolves before its sockets are closed; stopping PostgreSQL right after must not crash the process.
  for (const pool of Object.values(pools)) pool.on('error', () => undefined);
  return { ...pools, end: () => Promise.all(Object.values(pools).map((pool) => pool.end())) };
}
