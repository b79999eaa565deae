import type { PrismaClient } from '../../prisma/birth-registry/generated/client';
import type { AgencyContext } from '../../lib/agency-subgraph';
import type { Database } from '../../lib/database';
import type { ResidentsService } from '../../lib/residents-service';
import type { BirthRegistryLoaders } from './loaders';

/** The birth registry's database, through Prisma (prisma/birth-registry/schema.prisma). */
export type BirthRegistryDatabase = Database<PrismaClient>;

/** Other agencies' services this subgraph calls. */
export interface Services {
  residents: ResidentsService;
}

/** Per request: the database, this request's own loaders, the caller and the services. */
export type Context = AgencyContext<PrismaClient, BirthRegistryLoaders, Services>;
