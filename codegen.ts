import type { CodegenConfig } from '@graphql-codegen/cli';
import fs from 'node:fs';
import path from 'node:path';
import { AGENCIES } from './lib/agencies';

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

/** The three first agencies name their mappers here (their record types predate the convention below). */
const MAPPERS: Record<string, Record<string, string>> = {
  residents: {
    Citizen: '../models#CitizenRecord',
    Household: '../models#HouseholdRecord',
    HouseholdMembership: '../models#MembershipRecord',
    Residence: '../models#ResidenceRecord',
    Address: '../models#AddressRecord',
    PersonalCodeCheck: '../models#PersonalCodeCheckRecord',
    FormerPersonalCode: '../models#CodeRegistrationRecord',
    CitizenConnection: '../models#CitizenConnectionRecord',
    CitizenEdge: '../models#CitizenEdgeRecord',
  },
  'national-id': {
    Citizen: '../models#CitizenReference',
    IdentityCard: '../models#IdentityCardRecord',
  },
  'birth-registry': {
    Citizen: '../models#CitizenReference',
    BirthRegistration: '../models#BirthRecord',
    Parent: '../models#ParentRecord',
    BirthRegistrationResult: '../models#BirthOutcome',
  },
};

/**
 * Any other agency (npm run agency:new) by convention: its Citizen is the reference the gateway sends
 * (lib/citizen-reference.ts), and a schema type X is the type XRecord when models.ts exports one.
 */
function conventionalMappers(id: string): Record<string, string> {
  const models = fs.readFileSync(path.join(__dirname, 'subgraphs', id, 'models.ts'), 'utf8');
  const schema = fs.readFileSync(path.join(__dirname, 'subgraphs', id, 'schema.graphql'), 'utf8');
  const mappers: Record<string, string> = { Citizen: '../models#CitizenReference' };
  for (const [, record, type] of models.matchAll(/export (?:type|interface) ((\w+)Record)\b/g)) {
    if (new RegExp(`\\btype ${type}\\b`).test(schema)) mappers[type] = `../models#${record}`;
  }
  return mappers;
}

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  generates: Object.fromEntries(
    AGENCIES.map((a) => [`subgraphs/${a.id}/generated/graphql.ts`, subgraph(a.id, MAPPERS[a.id] ?? conventionalMappers(a.id))]),
  ),
};

export default config;
