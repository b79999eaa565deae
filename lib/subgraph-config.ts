import { agency, localDatabaseUrl, type Agency } from './agencies';
import { EnvReader, type Env } from './env';

/**
 * The settings every agency subgraph reads, with the variable names prefixed by the agency
 * (RESIDENTS_DATABASE_URL, NATIONAL_ID_PORT, ...). DATABASE_URL and PORT alone also work, for a
 * deployment that runs one subgraph per container. Development defaults point at the embedded PostgreSQL.
 */
export interface SubgraphConfig {
  agency: Agency;
  production: boolean;
  databaseUrl: string;
  port: number;
  host: string;
  poolSize: number;
}

export function readSubgraphConfig(id: Agency['id'], env: Env): SubgraphConfig {
  const a = agency(id);
  const read = new EnvReader(env);
  const prefixed = (name: string) => (env[`${a.envPrefix}_${name}`] !== undefined ? `${a.envPrefix}_${name}` : name);
  const config: SubgraphConfig = {
    agency: a,
    production: read.production,
    databaseUrl: read.url(prefixed('DATABASE_URL'), localDatabaseUrl(a)),
    port: read.integer(prefixed('PORT'), a.defaultPort, { min: 0, max: 65535 }),
    host: read.string(prefixed('HOST'), '127.0.0.1') || '127.0.0.1',
    poolSize: read.integer(prefixed('DB_POOL_SIZE'), 10, { min: 1, max: 200 }),
  };
  read.done();
  return Object.freeze(config);
}
