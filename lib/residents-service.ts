import type { Caller } from './caller';
import { ServiceClient } from './service-client';
import { createCredentialSigner } from './service-auth';
import type { Agency } from './agencies';
import type { SubgraphConfig } from './subgraph-config';

/**
 * What other agencies ask the Resident Information Center, over a service call (lib/service-client.ts):
 * the facts about a person that their own writes depend on (does the holder exist, are they alive, is
 * the code they quote still the person's code).
 */
export interface ResidentSummary {
  /** The person's code in force: differs from the code asked for when that one was cancelled and re-issued. */
  personalCode: string;
  fullName: string;
  dateOfBirth: string;
  sex: 'MALE' | 'FEMALE';
  dateOfDeath: string | null;
}

const CITIZENS = /* GraphQL */ `
  query ResidentSummaries($codes: [PersonalCode!]!) {
    citizens(personalCodes: $codes) { personalCode fullName dateOfBirth sex dateOfDeath }
  }
`;

const CREATE_CITIZEN_AT_BIRTH = /* GraphQL */ `
  mutation CreateCitizenAtBirth($input: CitizenAtBirthInput!) {
    createCitizenAtBirth(input: $input) { personalCode }
  }
`;

/** What the birth registry sends for a newborn (the residents schema's CitizenAtBirthInput). */
export interface CitizenAtBirth {
  birthRegistrationNumber: string;
  provinceCode: string;
  fullName: string;
  sex: 'MALE' | 'FEMALE';
  dateOfBirth: string;
  ethnicity: string;
  nationality: string;
}

export class ResidentsService {
  constructor(readonly client: ServiceClient) {}

  static for(from: Agency['id'], config: SubgraphConfig): ResidentsService {
    return new ResidentsService(
      new ServiceClient({
        from,
        to: 'residents',
        url: config.residentsServiceUrl,
        signer: config.serviceKey ? createCredentialSigner(from, config.serviceKey, { ttlSeconds: config.credentialTtlSeconds }) : null,
        timeoutMs: config.serviceTimeoutMs,
        tls: config.serviceTls,
      }),
    );
  }

  /** Each code asked for (at most 100) with the person it belongs to, or null where no one has it. */
  async lookup(codes: readonly string[], caller: Caller): Promise<Map<string, ResidentSummary | null>> {
    const unique = [...new Set(codes)];
    if (unique.length === 0) return new Map();
    const data = await this.client.request<{ citizens: (ResidentSummary | null)[] }>(CITIZENS, { codes: unique }, caller);
    return new Map(unique.map((code, i) => [code, data.citizens[i] ?? null]));
  }

  /**
   * The newborn's personal code and core record, created once per birth registration: asked again for the
   * same registration number, residents answers with the same code (so a retry after a lost answer is safe).
   */
  async createCitizenAtBirth(input: CitizenAtBirth, caller: Caller): Promise<string> {
    const data = await this.client.request<{ createCitizenAtBirth: { personalCode: string } }>(CREATE_CITIZEN_AT_BIRTH, { input }, caller);
    return data.createCitizenAtBirth.personalCode;
  }
}
