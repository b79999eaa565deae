import path from 'node:path';
import { PrismaClient } from '../../prisma/residents/generated/client';
import { createAgencySubgraph, type AgencySubgraph } from '../../lib/agency-subgraph';
import type { SubgraphConfig } from '../../lib/subgraph-config';
import { createLoaders, type ResidentsLoaders } from './loaders';
import { resolvers } from './resolvers';
import { openAuditPool } from '../../lib/audit/pool';
import type { Services } from './context';

/** The residents subgraph, assembled but not listening (index.ts listens; tests choose how). */
export function createResidentsSubgraph(config: SubgraphConfig): Promise<AgencySubgraph<PrismaClient, ResidentsLoaders, Services>> {
  const auditStore = config.auditDatabaseUrl ? openAuditPool(config.auditDatabaseUrl, 4, { statementTimeoutMs: config.statementTimeoutMs }) : null;
  return createAgencySubgraph({
    config,
    schemaPath: path.join(__dirname, 'schema.graphql'),
    resolvers,
    createClient: (adapter) => new PrismaClient({ adapter }),
    createLoaders,
    serviceOnly: ['createCitizenAtBirth'],
    services: { auditStore },
    release: async () => void (await auditStore?.end()),
  });
}
