import type { PrismaClient } from '../../prisma/national-id/generated/client';
import type { AgencyContext } from '../../lib/agency-subgraph';
import type { Database } from '../../lib/database';
import type { ResidentsService } from '../../lib/residents-service';
import type { NationalIdLoaders } from './loaders';

/** The National ID Center's database, through Prisma (prisma/national-id/schema.prisma). */
export type NationalIdDatabase = Database<PrismaClient>;

/** Other agencies' services this subgraph calls. */
export interface Services {
  residents: ResidentsService;
}

/** Per request: the database, this request's own loaders, the caller and the services. */
export type Context = AgencyContext<PrismaClient, NationalIdLoaders, Services>;
