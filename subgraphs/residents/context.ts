import type { PrismaClient } from '../../prisma/residents/generated/client';
import type { AgencyContext } from '../../lib/agency-subgraph';
import type { Database } from '../../lib/database';
import type { Pool } from 'pg';
import type { ResidentsLoaders } from './loaders';

/** The Resident Information Center's database, through Prisma (prisma/residents/schema.prisma). */
export type ResidentsDatabase = Database<PrismaClient>;

/** Stores besides the agency's database: the audit store, read for the access log (null: auditing off). */
export interface Services {
  auditStore: Pool | null;
}

/** Per request: the database, this request's own loaders, the caller and the audit store. */
export type Context = AgencyContext<PrismaClient, ResidentsLoaders, Services>;
