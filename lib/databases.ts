import { Pool } from 'pg';
import { AGENCIES, type Agency } from './agencies';
import { startLocalPostgres, type LocalPostgres } from './local-postgres';
import { migrate } from './migrate';

/**
 * The three agency databases, ready to serve: the embedded PostgreSQL started where no external URL is
 * given, each database created and migrated. Used by `npm start`, `npm run seed` and the tests.
 */
export interface AgencyDatabases {
  urls: Record<Agency['id'], string>;
  embedded: LocalPostgres | null;
  stop(): Promise<void>;
}

export async function prepareDatabases(options: {
  dataDir: string;
  postgresPort: number;
  external?: Partial<Record<Agency['id'], string>>;
  log?: (line: string) => void;
}): Promise<AgencyDatabases> {
  const external = options.external ?? {};
  const needsEmbedded = AGENCIES.some((agency) => !external[agency.id]);
  const embedded = needsEmbedded ? await startLocalPostgres({ dataDir: options.dataDir, port: options.postgresPort }) : null;
  try {
    const urls = {} as Record<Agency['id'], string>;
    for (const agency of AGENCIES) {
      const externalUrl = external[agency.id];
      if (!externalUrl) await embedded!.ensureDatabase(agency.database);
      urls[agency.id] = externalUrl ?? embedded!.urlFor(agency.database);
      const applied = await migrate(urls[agency.id], agency.migrationsDir);
      if (applied.length > 0) options.log?.(`${agency.id}: applied ${applied.join(', ')}`);
    }
    return { urls, embedded, stop: async () => embedded?.stop() };
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
