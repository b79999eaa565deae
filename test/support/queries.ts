import { operationBody } from '../../lib/trusted-documents';

/**
 * The operations the tests (and the bench harness) send: what a service-counter frontend asks. Each is
 * the body of a trusted document exactly as the manifest of operations/ (gateway/trusted-documents/operations.json)
 * holds it: the text Apollo Client sends for operations/<Name>.graphql, `__typename` included, so what the
 * tests check is what the frontends send.
 */
export const UNIFIED_CITIZEN = operationBody('UnifiedCitizen');
export const CITIZEN_LIST = operationBody('CitizenList');
export const HOUSEHOLD = operationBody('Household');
export const BY_IDENTITY_CARD = operationBody('ByIdentityCard');
export const CITIZEN_STATISTICS = operationBody('CitizenStatistics');
export const REGISTER_BIRTH = operationBody('RegisterBirth');
export const COUNTER_CITIZEN = operationBody('CounterCitizen');
export const SEARCH_CITIZENS = operationBody('SearchCitizens');
