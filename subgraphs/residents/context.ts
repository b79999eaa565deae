import type { PrismaClient } from '../../prisma/residents/generated/client';
import type { AgencyContext } from '../../lib/agency-subgraph';
import type { Database } from '../../lib/database';
import type { ResidentsLoaders } from './loaders';

/** The Resident Information Center's database, through Prisma (prisma/residents/schema.prisma). */
export type ResidentsDatabase = Database<PrismaClient>;

/** Per request: the database and this request's own loaders. */
export type Context = AgencyContext<PrismaClient, ResidentsLoaders>;
