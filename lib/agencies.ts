import path from 'node:path';

/**
 * The agencies Citizen Graph federates: one database and one subgraph each. This list is the one place that
 * names them: database roles, service keys, the gateway's subgraph URLs, code generation, npm start, the
 * cluster and the tests all iterate it. `npm run agency:new` (scripts/agency-new.ts) adds an agency here
 * (its id to the union below, its entry to AGENCIES) and to supergraph.yaml; nothing else lists them.
 */
export interface Agency {
  /** Subgraph name, as in supergraph.yaml and folder names. */
  id: 'residents' | 'national-id' | 'birth-registry';
  /** How users know it; used in error messages about missing data. */
  title: string;
  /** What a client misses when it is down, in plain words. */
  holds: string;
  /** The same two in Vietnamese, for clients that ask for it (lib/i18n/messages.ts). */
  vi: { title: string; holds: string };
  /** Database name in the embedded PostgreSQL. */
  database: string;
  /** Prefix of its environment variables: <PREFIX>_DATABASE_URL, <PREFIX>_PORT. */
  envPrefix: string;
  defaultPort: number;
  /** Where its Prometheus metrics are served by default (METRICS_PORT; lib/metrics.ts): never the public port. */
  defaultMetricsPort: number;
  migrationsDir: string;
}

const root = path.resolve(__dirname, '..');

export const AGENCIES: readonly Agency[] = [
  {
    id: 'residents',
    title: 'Resident Information Center',
    holds: 'core records, residence and households',
    vi: { title: 'Trung tâm Thông tin dân cư', holds: 'hồ sơ công dân, nơi cư trú và hộ gia đình' },
    database: 'residents',
    envPrefix: 'RESIDENTS',
    defaultPort: 4001,
    defaultMetricsPort: 9401,
    migrationsDir: path.join(root, 'prisma/residents/migrations'),
  },
  {
    id: 'national-id',
    title: 'National ID Center',
    holds: 'identity cards',
    vi: { title: 'Trung tâm Căn cước quốc gia', holds: 'thẻ căn cước' },
    database: 'national_id',
    envPrefix: 'NATIONAL_ID',
    defaultPort: 4002,
    defaultMetricsPort: 9402,
    migrationsDir: path.join(root, 'prisma/national-id/migrations'),
  },
  {
    id: 'birth-registry',
    title: 'Birth registry',
    holds: 'birth registrations, parents and children',
    vi: { title: 'Cơ quan Đăng ký khai sinh', holds: 'đăng ký khai sinh, cha mẹ và con' },
    database: 'birth_registry',
    envPrefix: 'BIRTH_REGISTRY',
    defaultPort: 4003,
    defaultMetricsPort: 9403,
    migrationsDir: path.join(root, 'prisma/birth-registry/migrations'),
  },
];

/**
 * A database of Citizen Graph's own that is not an agency and has no subgraph: created, migrated and
 * (in development) served by the embedded PostgreSQL exactly like the agency databases.
 */
export interface OwnStore {
  /** Database name in the embedded PostgreSQL. */
  database: string;
  /** Prefix of its environment variable: <PREFIX>_DATABASE_URL. */
  envPrefix: string;
  migrationsDir: string;
}

/**
 * The tamper-evident audit store (lib/audit): who accessed whose data. Its own database, never an agency's,
 * so that no agency's operators can quietly edit the trace of accesses to their own data, and so that it can
 * live on its own server in production (AUDIT_DATABASE_URL).
 */
export const AUDIT_STORE: OwnStore = {
  database: 'audit',
  envPrefix: 'AUDIT',
  migrationsDir: path.join(root, 'prisma/audit/migrations'),
};

/**
 * The statistics read model (subgraphs/statistics): pseudonymised per-person facts refreshed from the agencies'
 * change logs, which analysts' aggregates are computed from. Its own database, never an agency's: it joins the
 * agencies' facts under a pseudonym, and it can move to a distributed analytical engine on its own.
 */
export const STATISTICS_STORE: OwnStore = {
  database: 'statistics',
  envPrefix: 'STATISTICS',
  migrationsDir: path.join(root, 'prisma/statistics/migrations'),
};

/** Where the gateway reaches the statistics subgraph by default (supergraph.yaml). */
export const STATISTICS_DEFAULT_PORT = 4004;
/** Its Prometheus metrics in development (the gateway's 9400, the agencies' 9401-9403). */
export const STATISTICS_DEFAULT_METRICS_PORT = 9404;

/** The agency a subgraph name belongs to, if any (names from a supergraph are plain strings). */
export function findAgency(id: string): Agency | undefined {
  return AGENCIES.find((a) => a.id === id);
}

export function agency(id: Agency['id']): Agency {
  const found = findAgency(id);
  if (!found) throw new Error(`Unknown agency ${id}`);
  return found;
}

/** The embedded PostgreSQL's port in development; production sets each <PREFIX>_DATABASE_URL instead. */
export const LOCAL_POSTGRES_PORT = 54320;

export function localDatabaseUrl(a: Pick<Agency, 'database'>, port = LOCAL_POSTGRES_PORT): string {
  return `postgresql://postgres:postgres@127.0.0.1:${port}/${a.database}`;
}
