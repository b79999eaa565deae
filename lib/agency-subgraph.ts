import type { PrismaPg } from '@prisma/adapter-pg';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { openDatabase, type Database } from './database';
import { createSubgraphServer, type SubgraphServer } from './subgraph-server';
import type { SubgraphConfig } from './subgraph-config';

/**
 * An agency subgraph = its database (one Prisma client over one pool) + its schema and resolvers +
 * per-request loaders. Each subgraph's server.ts fills in those three; this assembles and runs them.
 */
export interface AgencyContext<Client, Loaders> {
  db: Database<Client>;
  loaders: Loaders;
}

export interface AgencySubgraphSpec<Client extends { $disconnect(): Promise<void> }, Loaders> {
  config: SubgraphConfig;
  schemaPath: string;
  resolvers: unknown;
  createClient(adapter: PrismaPg): Client;
  createLoaders(db: Database<Client>): Loaders;
}

export interface AgencySubgraph<Client, Loaders> {
  server: SubgraphServer<AgencyContext<Client, Loaders>>;
  db: Database<Client>;
}

export async function createAgencySubgraph<Client extends { $disconnect(): Promise<void> }, Loaders>(
  spec: AgencySubgraphSpec<Client, Loaders>,
): Promise<AgencySubgraph<Client, Loaders>> {
  const { config } = spec;
  const db = openDatabase(
    { url: config.databaseUrl, poolSize: config.poolSize, applicationName: `citizen-graph-${config.agency.id}` },
    spec.createClient,
  );
  const server = await createSubgraphServer<AgencyContext<Client, Loaders>>({
    name: config.agency.id,
    schemaPath: spec.schemaPath,
    resolvers: spec.resolvers as GraphQLResolverMap<AgencyContext<Client, Loaders>>,
    createContext: () => ({ db, loaders: spec.createLoaders(db) }),
    ping: () => db.ping(),
    metrics: () => ({ sqlStatements: db.statements.total }),
  });
  return { server, db };
}
