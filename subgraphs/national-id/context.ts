import type { PrismaClient } from '../../prisma/national-id/generated/client';
import type { AgencyContext } from '../../lib/agency-subgraph';
import type { Database } from '../../lib/database';
import type { NationalIdLoaders } from './loaders';

/** The National ID Center's database, through Prisma (prisma/national-id/schema.prisma). */
export type NationalIdDatabase = Database<PrismaClient>;

/** Per request: the database and this request's own loaders. */
export type Context = AgencyContext<PrismaClient, NationalIdLoaders>;
