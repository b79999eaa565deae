import path from 'node:path';
import { PrismaClient } from '../../prisma/national-id/generated/client';
import { createAgencySubgraph, type AgencySubgraph } from '../../lib/agency-subgraph';
import type { SubgraphConfig } from '../../lib/subgraph-config';
import { ResidentsService } from '../../lib/residents-service';
import type { Services } from './context';
import type { IdentityCardRecord } from './models';
import { createLoaders, type NationalIdLoaders } from './loaders';
import { resolvers } from './resolvers';

/** The national-id subgraph, assembled but not listening (index.ts listens; tests choose how). */
export function createNationalIdSubgraph(config: SubgraphConfig): Promise<AgencySubgraph<PrismaClient, NationalIdLoaders, Services>> {
  return createAgencySubgraph({
    config,
    schemaPath: path.join(__dirname, 'schema.graphql'),
    resolvers,
    createClient: (adapter) => new PrismaClient({ adapter }),
    createLoaders,
    services: { residents: ResidentsService.for('national-id', config) },
    subjects: { IdentityCard: (card: IdentityCardRecord) => [card.personalCode] },
  });
}

/** The name every agency's server.ts exports its factory under too: test/support/federation.ts starts each agency of lib/agencies.ts by it. */
export { createNationalIdSubgraph as createSubgraph };
