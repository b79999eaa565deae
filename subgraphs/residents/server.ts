import path from 'node:path';
import { PrismaClient } from '../../prisma/residents/generated/client';
import { createAgencySubgraph, type AgencySubgraph } from '../../lib/agency-subgraph';
import type { SubgraphConfig } from '../../lib/subgraph-config';
import { createLoaders, type ResidentsLoaders } from './loaders';
import { resolvers } from './resolvers';
import { openAuditPool } from '../../lib/audit/pool';
import type { Services } from './context';
import type { DataSubjects } from '../../lib/access/subgraph-access';
import type { CitizenEdgeRecord, HouseholdRecord, MembershipRecord, ResidenceRecord } from './models';

/**
 * Whose data the residents types carry beyond a citizen's own record (lib/access/subgraph-access.ts): a
 * household is every member's, a membership its member's, a search's edge and page its citizens', an audit
 * record the persons it is about, an access-log entry the citizen whose log it is.
 */
const DATA_SUBJECTS: DataSubjects = {
  Household: (h: HouseholdRecord) => [h.headCode, ...(h.members ?? []).map((m) => m.personalCode)],
  HouseholdMembership: (m: MembershipRecord) => [m.personalCode],
  Residence: (r: ResidenceRecord) => [r.personalCode],
  CitizenEdge: (e: CitizenEdgeRecord) => [e.node.personalCode],
  PageInfo: (p: { persons?: string[] }) => p.persons ?? [],
  AccessLogEntry: (e: { personalCode?: string }) => [e.personalCode],
  AuditRecord: (r: { personalCode?: string | null; persons?: readonly string[] }) => [...(r.persons ?? []), r.personalCode],
};

/** The residents subgraph, assembled but not listening (index.ts listens; tests choose how). */
export function createResidentsSubgraph(config: SubgraphConfig): Promise<AgencySubgraph<PrismaClient, ResidentsLoaders, Services>> {
  const auditStore = config.auditDatabaseUrl ? openAuditPool(config.auditDatabaseUrl, 4, { statementTimeoutMs: config.statementTimeoutMs }) : null;
  return createAgencySubgraph({
    config,
    schemaPath: path.join(__dirname, 'schema.graphql'),
    resolvers,
    // The folded name is for the search's indexes only: no read needs it back.
    createClient: (adapter) => new PrismaClient({ adapter, omit: { citizen: { searchName: true } } }),
    createLoaders,
    serviceOnly: ['createCitizenAtBirth'],
    subjects: DATA_SUBJECTS,
    services: { auditStore },
    pools: { 'audit-search': auditStore },
    release: async () => void (await auditStore?.end()),
  });
}

/** The name every agency's server.ts exports its factory under too: test/support/federation.ts starts each agency of lib/agencies.ts by it. */
export { createResidentsSubgraph as createSubgraph };
