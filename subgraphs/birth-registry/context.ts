import type { PrismaClient } from '../../prisma/birth-registry/generated/client';
import type { AgencyContext } from '../../lib/agency-subgraph';
import type { Database } from '../../lib/database';
import type { BirthRegistryLoaders } from './loaders';

/** The birth registry's database, through Prisma (prisma/birth-registry/schema.prisma). */
export type BirthRegistryDatabase = Database<PrismaClient>;

/** Per request: the database and this request's own loaders. */
export type Context = AgencyContext<PrismaClient, BirthRegistryLoaders>;
