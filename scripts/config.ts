import path from 'node:path';
import { AGENCIES, AUDIT_STORE, STATISTICS_STORE, LOCAL_POSTGRES_PORT, type Agency } from '../lib/agencies';
import { EnvReader, REPOSITORY_ROOT, type Env } from '../lib/env';
import type { RestartPolicy } from '../tools/supervisor';

/**
 * Configuration of the orchestration scripts (npm start, npm run seed, npm run migrate), read once.
 *   DATA_DIR                  where the embedded PostgreSQL keeps its data (.data/postgres)
 *   POSTGRES_PORT             the embedded PostgreSQL's port (54320)
 *   <AGENCY>_DATABASE_URL     an external database for that agency
 *   AUDIT_DATABASE_URL        an external audit store (lib/audit)
 *   STATISTICS_DATABASE_URL   an external statistics read model (subgraphs/statistics); when it, the audit store and all
 *                             three agencies are set, no embedded PostgreSQL starts (production requires all five: it
 *                             never starts the embedded PostgreSQL)
 *   SEED_CITIZENS, SEED       size and seed of the demo population seeded into empty databases (10000, "citizen-graph")
 *   CG_<SERVICE>_DB_PASSWORD  the password of each service's database role (lib/database-roles.ts: CG_GATEWAY_, CG_RESIDENTS_,
 *                             CG_NATIONAL_ID_, CG_BIRTH_REGISTRY_, CG_AUDIT_VERIFIER_DB_PASSWORD); read by prepareDatabases
 *                             itself. Required to create a role in an external database; generated for the embedded one.
 *   RESTART_BACKOFF_MS, RESTART_BACKOFF_MAX_MS  npm start's pause before restarting a crashed service (500, doubling up to 30000)
 *   RESTART_STABLE_AFTER_MS   up this long, a service's crashes count from zero again (60000)
 *   RESTART_GIVE_UP_AFTER     failures in a row after which npm start gives up on a service, the rest running on (5)
 *   READY_TIMEOUT_MS          how long npm start waits for a service's GET /health/ready after starting it (120000)
 * The *_DATABASE_URL here are the migrating user's (it migrates, seeds, and creates the roles); npm start gives each
 * service its own role's URLs instead.
 */
export interface ScriptsConfig {
  dataDir: string;
  postgresPort: number;
  externalDatabases: Partial<Record<Agency['id'], string>>;
  externalAuditDatabase: string | undefined;
  externalStatisticsDatabase: string | undefined;
  seedCitizens: number;
  seed: string;
  /** How npm start restarts a service that dies (tools/supervisor.ts). */
  restart: RestartPolicy;
}

export function readConfig(env: Env = process.env): ScriptsConfig {
  const read = new EnvReader(env);
  const externalDatabases: ScriptsConfig['externalDatabases'] = {};
  for (const agency of AGENCIES) {
    const name = `${agency.envPrefix}_DATABASE_URL`;
    // Production migrates external databases only: the embedded PostgreSQL is a development tool.
    if (read.optionalString(name) || read.production) externalDatabases[agency.id] = read.url(name);
  }
  const auditName = `${AUDIT_STORE.envPrefix}_DATABASE_URL`;
  const statisticsName = `${STATISTICS_STORE.envPrefix}_DATABASE_URL`;
  const config: ScriptsConfig = {
    dataDir: path.resolve(REPOSITORY_ROOT, read.optionalString('DATA_DIR') ?? '.data/postgres'),
    postgresPort: read.integer('POSTGRES_PORT', LOCAL_POSTGRES_PORT, { min: 1024, max: 65535 }),
    externalDatabases,
    externalAuditDatabase: read.optionalString(auditName) || read.production ? read.url(auditName) : undefined,
    externalStatisticsDatabase: read.optionalString(statisticsName) || read.production ? read.url(statisticsName) : undefined,
    seedCitizens: read.integer('SEED_CITIZENS', 10_000, { min: 0, max: 100_000_000 }),
    seed: read.optionalString('SEED') ?? 'citizen-graph',
    restart: Object.freeze({
      initialBackoffMs: read.integer('RESTART_BACKOFF_MS', 500, { min: 10, max: 600_000 }),
      maxBackoffMs: read.integer('RESTART_BACKOFF_MAX_MS', 30_000, { min: 10, max: 3_600_000 }),
      stableAfterMs: read.integer('RESTART_STABLE_AFTER_MS', 60_000, { min: 0, max: 86_400_000 }),
      giveUpAfter: read.integer('RESTART_GIVE_UP_AFTER', 5, { min: 1, max: 1000 }),
      readyTimeoutMs: read.integer('READY_TIMEOUT_MS', 120_000, { min: 1000, max: 3_600_000 }),
    }),
  };
  if (config.restart.maxBackoffMs < config.restart.initialBackoffMs) read.problem(`RESTART_BACKOFF_MAX_MS (${config.restart.maxBackoffMs}) must not be below RESTART_BACKOFF_MS (${config.restart.initialBackoffMs}).`);
  read.done();
  return Object.freeze(config);
}
