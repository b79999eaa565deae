/**
 * A service-counter screen's data with Apollo Client 4, typed by graphql-codegen from the published schema:
 * `UnifiedCitizenDocument` (generated into ./gql from operations/UnifiedCitizen.graphql) carries the types of
 * its result and variables, so `client.query` knows both without a single annotation.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { UnifiedCitizenDocument, type UnifiedCitizenQuery } from './gql/graphql';

export function citizenGraphClient(uri: string, token: string): ApolloClient {
  return new ApolloClient({ link: new HttpLink({ uri, headers: { authorization: `Bearer ${token}` } }), cache: new InMemoryCache() });
}

/** A part of the unified view, named through the generated result type. */
export type PermanentResidence = NonNullable<NonNullable<UnifiedCitizenQuery['citizen']>['permanentResidence']>;

export const addressLine = (residence: PermanentResidence): string =>
  [residence.address.street, residence.address.ward, residence.address.district, residence.address.provinceName ?? residence.address.provinceCode].join(', ');

/** The heading of the unified view; null when no citizen has the code. */
export async function citizenHeading(client: ApolloClient, code: string): Promise<string | null> {
  const { data } = await client.query({ query: UnifiedCitizenDocument, variables: { code } });
  const citizen = data?.citizen;
  if (!citizen) return null;
  // Fields of other agencies are nullable: null when that agency could not answer (AGENCY_UNAVAILABLE).
  const card = citizen.identityCard ? `${citizen.identityCard.kind} ${citizen.identityCard.number}` : 'no valid card';
  const home = citizen.permanentResidence ? addressLine(citizen.permanentResidence) : 'no permanent residence';
  return `${citizen.fullName} (${citizen.sex === 'FEMALE' ? 'F' : 'M'}, born ${citizen.dateOfBirth}), ${card}; ${home}`;
}
