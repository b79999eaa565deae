import type { TypePolicies } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

/**
 * How a frontend's normalised cache knows Citizen Graph's entities: each by its own key, and a search's pages
 * (fetched with fetchMore({ variables: { after } })) appended to one list per set of filters.
 */
export const citizenGraphTypePolicies: TypePolicies = {
  Citizen: { keyFields: ['personalCode'] },
  Household: { keyFields: ['number'] },
  BirthRegistration: { keyFields: ['registrationNumber'] },
  Query: { fields: { searchCitizens: relayStylePagination(['name', 'dateOfBirth', 'birthProvince', 'residenceProvince']) } },
};
