import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Resolver types from each subgraph's schema.graphql (the one source of the schema), mapped to the
 * shapes the resolvers really return: Prisma rows, or references the subgraph resolves later.
 */
const subgraph = (name: string, mappers: Record<string, string>): CodegenConfig['generates'][string] => ({
  schema: `subgraphs/${name}/schema.graphql`,
  plugins: ['typescript', 'typescript-resolvers'],
  config: {
    federation: true,
    useIndexSignature: true,
    contextType: '../context#Context',
    mappers,
    scalars: { PersonalCode: 'string', Date: 'Date' },
    enumsAsTypes: true,
    avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
  },
});

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  generates: {
    'subgraphs/residents/generated/graphql.ts': subgraph('residents', {
      Citizen: '../models#CitizenRecord',
      Household: '../models#HouseholdRecord',
      HouseholdMembership: '../models#MembershipRecord',
      Residence: '../models#ResidenceRecord',
      Address: '../models#AddressRecord',
      PersonalCodeCheck: '../models#PersonalCodeCheckRecord',
      FormerPersonalCode: '../models#CodeRegistrationRecord',
      CitizenConnection: '../models#CitizenConnectionRecord',
      CitizenEdge: '../models#CitizenEdgeRecord',
    }),
    'subgraphs/national-id/generated/graphql.ts': subgraph('national-id', {
      Citizen: '../models#CitizenReference',
      IdentityCard: '../models#IdentityCardRecord',
    }),
    'subgraphs/birth-registry/generated/graphql.ts': subgraph('birth-registry', {
      Citizen: '../models#CitizenReference',
      BirthRegistration: '../models#BirthRecord',
      Parent: '../models#ParentRecord',
      BirthRegistrationResult: '../models#BirthOutcome',
    }),
  },
};

export default config;
