import fs from 'node:fs';
import { AGENCIES, AUDIT_STORE, STATISTICS_STORE } from '../lib/agencies';
import { composeSupergraph, SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { openPools, prepareDatabases, type AgencyDatabases } from '../tools/databases';
import { ensureSeeded, exampleCitizen } from './seeding';
import type { ScriptsConfig } from './config';
import { ensureDevKeys, mintDevToken } from '../tools/dev-keys';
import { DEV_KEYS_DIR } from '../gateway/config';
import { AUDIT_VERIFIER_ROLE, SERVICE_ROLES, STATISTICS_ROLE, type ServiceId } from '../lib/database-roles';
import { ensureSecret } from '../subgraphs/statistics/pseudonyms';
import { DEV_STATISTICS_SECRET_FILE } from '../subgraphs/statistics/config';
import { DEV_SERVICE_KEYS_DIR } from '../lib/service-keys';
import { ensureServiceKeys } from '../tools/service-keys';
import { DEV_CHECKPOINT_KEY_FILE, ensureCheckpointKey } from '../lib/audit/checkpoint';

/**
 * What `npm start` and `npm run cluster` both do before any service runs: the embedded PostgreSQL (data kept in
 * .data/), the databases created and migrated, demo citizens seeded when empty, the supergraph composed, this
 * installation's keys made once; and each service's environment, in which it connects as its own database role.
 */
export interface Installation {
  databases: AgencyDatabases;
  /** The settings a service's processes get: its key, the trust file, its own role's URLs (no other role's). */
  serviceEnv(service: ServiceId): NodeJS.ProcessEnv;
  /** The statistics subgraph's settings: its store and the agencies read as its own role, its pseudonym secret. */
  statisticsEnv(): NodeJS.ProcessEnv;
  /** A seeded citizen to show, and a demo clerk's token (12 hours) to try it with. */
  welcome(): Promise<{ code: string | null; token: string }>;
}

export async function prepareInstallation(config: ScriptsConfig, say: (line: string) => void, databasesReady: (databases: AgencyDatabases) => void): Promise<Installation> {
  say('starting PostgreSQL and migrating the agency databases, the audit store and the statistics store…');
  const databases = await prepareDatabases({
    dataDir: config.dataDir,
    postgresPort: config.postgresPort,
    external: config.externalDatabases,
    externalAudit: config.externalAuditDatabase,
    externalStatistics: config.externalStatisticsDatabase,
    log: say,
  });
  // From here on the caller can stop PostgreSQL, whatever fails next; and it does, on a signal, after its services.
  databasesReady(databases);
  if (databases.embedded) {
    // Loaded only with the embedded PostgreSQL (a development dependency), as lib/databases.ts loads it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('../tools/local-postgres') as typeof import('../tools/local-postgres')).leaveSignalsToCaller();
  }

  const pools = openPools(databases.urls);
  try {
    await ensureSeeded(pools, { citizens: config.seedCitizens, seed: config.seed, log: say });
  } finally {
    await pools.end();
  }

  const sdl = composeSupergraph();
  if (!fs.existsSync(SUPERGRAPH_GRAPHQL) || fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8') !== sdl) {
    fs.writeFileSync(SUPERGRAPH_GRAPHQL, sdl);
    say('supergraph.graphql recomposed from the subgraph schemas');
  }

  // Development token signing keys (kept in .data/keys): the gateway verifies with the public half.
  await ensureDevKeys(DEV_KEYS_DIR);
  // The key that signs checkpoints of the audit chain head (made once; verifiers get its public half).
  if (!config.externalAuditDatabase) await ensureCheckpointKey(DEV_CHECKPOINT_KEY_FILE);
  // Service credential keys of this installation (kept in .data/service-keys): one private key per
  // service, the trust file every subgraph reads. Each child is told its own key file.
  const serviceKeys = await ensureServiceKeys(DEV_SERVICE_KEYS_DIR);
  // Each child connects as its own role (lib/database-roles.ts), never as the superuser that migrated and seeded.
  const serviceEnv = (service: ServiceId): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    env.SERVICE_TRUST_FILE ??= serviceKeys.trustFile;
    env.GATEWAY_SERVICE_KEY_FILE ??= serviceKeys.keyFiles.gateway;
    for (const agency of AGENCIES) env[`${agency.envPrefix}_SERVICE_KEY_FILE`] ??= serviceKeys.keyFiles[agency.id];
    const own = databases.serviceUrls[service];
    for (const agency of AGENCIES) {
      if (agency.id === service && own.database) env[`${agency.envPrefix}_DATABASE_URL`] = own.database;
      else delete env[`${agency.envPrefix}_DATABASE_URL`];
    }
    env[`${AUDIT_STORE.envPrefix}_DATABASE_URL`] = own.audit;
    for (const role of [...Object.values(SERVICE_ROLES), AUDIT_VERIFIER_ROLE]) delete env[role.passwordEnv];
    return env;
  };
  const statisticsEnv = (): NodeJS.ProcessEnv => {
    const env = serviceEnv('gateway');
    delete env.GATEWAY_SERVICE_KEY_FILE;
    const urls = databases.statisticsServiceUrls;
    env[`${STATISTICS_STORE.envPrefix}_DATABASE_URL`] = urls.database;
    env[`${AUDIT_STORE.envPrefix}_DATABASE_URL`] = urls.audit;
    for (const agency of AGENCIES) env[`STATISTICS_SOURCE_${agency.envPrefix}_URL`] ??= urls.sources[agency.id];
    env.STATISTICS_SECRET_FILE ??= ensureSecret(DEV_STATISTICS_SECRET_FILE);
    delete env[STATISTICS_ROLE.passwordEnv];
    return env;
  };
  return {
    databases,
    serviceEnv,
    statisticsEnv,
    async welcome() {
      const check = openPools(databases.urls);
      const code = await exampleCitizen(check).finally(() => check.end());
      const token = await mintDevToken(DEV_KEYS_DIR, { sub: 'demo:clerk-01', role: 'CLERK', agency: 'residents', purpose: 'SERVICE_COUNTER' }, { expiresIn: 12 * 3600 });
      return { code, token };
    },
  };
}

/** How to try the gateway at `base` with a seeded citizen, as printed by npm start and npm run cluster. */
export function tryItLines(base: string, code: string | null, token: string): string[] {
  if (!code) return [];
  const query = `query { citizen(personalCode: \\"${code}\\") { fullName dateOfBirth permanentResidence { address { provinceName } } identityCard { number status } birthRegistration { registrationNumber } parents { fullName } } }`;
  return [
    `Try it with a seeded citizen (${code}), as a service-counter clerk (a demo token valid 12 hours):`,
    '',
    `  TOKEN=${token}`,
    `  curl -s ${base}/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
    `    -d '{"query":"${query}"}'`,
    '',
    'Tokens for other roles: npm run token -- --role INVESTIGATOR|REGISTRAR|ANALYST|AUDITOR|CITIZEN … (see the README).',
    '',
  ];
}

/** Ctrl-C, SIGTERM, and the terminal going away (SIGHUP): each stops everything, rather than leave services and PostgreSQL running. */
export function stopOnSignals(stop: () => void): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
}
