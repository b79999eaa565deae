import path from 'node:path';
import { PrismaClient } from '../../prisma/birth-registry/generated/client';
import { createAgencySubgraph, type AgencySubgraph } from '../../lib/agency-subgraph';
import { ResidentsService } from '../../lib/residents-service';
import type { Services } from './context';
import type { BirthRecord } from './models';
import { createLoaders, type BirthRegistryLoaders } from './loaders';
import { resolvers } from './resolvers';
import { startBirthCompletion } from './birth-completion';
import type { BirthRegistryConfig } from './config';

/** The birth-registry subgraph, assembled but not listening (index.ts listens; tests choose how). */
export function createBirthRegistrySubgraph(config: BirthRegistryConfig): Promise<AgencySubgraph<PrismaClient, BirthRegistryLoaders, Services>> {
  return createAgencySubgraph({
    config,
    schemaPath: path.join(__dirname, 'schema.graphql'),
    resolvers,
    createClient: (adapter) => new PrismaClient({ adapter }),
    createLoaders,
    services: { residents: ResidentsService.for('birth-registry', config) },
    // A registration is its child's (the parents' part of it is theirs too, through Parent); a parent's entry is theirs.
    subjects: {
      BirthRegistration: (b: BirthRecord) => [b.childCode],
      Parent: (p: { personalCode: string | null }) => [p.personalCode],
    },
    background: (deps) => startBirthCompletion(deps, config.completionIntervalMs),
  });
}

/** The name every agency's server.ts exports its factory under too: test/support/federation.ts starts each agency of lib/agencies.ts by it. */
export { createBirthRegistrySubgraph as createSubgraph };
