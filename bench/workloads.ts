import type { Agency } from '../lib/agencies';
import { BY_IDENTITY_CARD, CITIZEN_LIST, SEARCH_CITIZENS, CITIZEN_STATISTICS, HOUSEHOLD, REGISTER_BIRTH, UNIFIED_CITIZEN } from '../test/support/queries';
import { foldName } from '../subgraphs/residents/name-search';
import type { WorkloadId } from './options';
import { randomCodeList, type Samples } from './samples';
import { subgraphPart } from './subgraph-query';

/**
 * What the bench asks, in the words of the frontends it stands for. W1–W4 are the test suite's own
 * operations (test/support/queries.ts), so the bench measures exactly what the tests check; variables are
 * drawn per request from the sampled data, so caches and plans see realistic variety.
 */
export interface Workload {
  id: WorkloadId;
  title: string;
  /** The operation sent to the gateways. */
  query: string;
  /** One request's variables, drawn afresh for each request. */
  variables(): Record<string, unknown>;
  /** The owning subgraph and the part of the operation it answers alone, measured directly for the overhead ratio. */
  subgraph: { id: Agency['id']; query: string };
  /** Headers of the requests to the gateways, and to the owning subgraph alone (credentials: bench/credentials.ts). */
  headers?: Record<string, string>;
  subgraphHeaders?: (body: string) => Record<string, string>;
}

export type MeasuredWorkloadId = Exclude<WorkloadId, 'W6'>;

export { CITIZEN_STATISTICS, REGISTER_BIRTH };

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)];

function workload(id: MeasuredWorkloadId, title: string, query: string, variables: () => Record<string, unknown>, owner: Agency['id']): Workload {
  return { id, title, query, variables, subgraph: { id: owner, query: subgraphPart(query, owner) } };
}

export function defineWorkloads(samples: Samples): Record<MeasuredWorkloadId, Workload> {
  return {
    W1: workload('W1', 'Unified view of one citizen', UNIFIED_CITIZEN, () => ({ code: pick(samples.livingCodes) }), 'residents'),
    W2: workload('W2', 'Household with members, their cards and births', HOUSEHOLD, () => ({ number: pick(samples.households) }), 'residents'),
    W3: workload('W3', 'List of 100 citizens', CITIZEN_LIST, () => ({ codes: randomCodeList(samples.livingCodes) }), 'residents'),
    W4: workload('W4', 'Lookup by legacy 9-digit ID number', BY_IDENTITY_CARD, () => ({ number: pick(samples.legacyIdNumbers) }), 'national-id'),
    W5: workload('W5', 'Population statistics', CITIZEN_STATISTICS, () => ({}), 'residents'),
    W7: workload('W7', 'Search by name as a clerk types it', SEARCH_CITIZENS, () => ({ name: typedName(pick(samples.names)) }), 'residents'),
  };
}

/**
 * What a clerk types to find a person by a name of the register, one way drawn at random per request: the family
 * name without marks ("nguyen": the commonest, a third of the population), the given name ("anh"), the middle
 * and given names ("van anh"), the whole name typed so far without marks ("nguyen van a"), or the whole name with
 * its marks as a keyboard that sends decomposed letters (NFD) does. Few of these find one person; most find
 * thousands, of which the first page is wanted.
 */
export const TYPED_NAME_KINDS = ['family name', 'given name', 'middle and given name', 'name typed so far', 'full name, NFD'] as const;

export function typedName(fullName: string, kind = pick(TYPED_NAME_KINDS)): string {
  const words = foldName(fullName).split(' ');
  switch (kind) {
    case 'family name':
      return words[0];
    case 'given name':
      return words.at(-1)!;
    case 'middle and given name':
      return words.slice(-2).join(' ');
    case 'name typed so far': {
      const folded = words.join(' ');
      return folded.slice(0, Math.min(folded.length, 3 + Math.floor(Math.random() * (folded.length - 2))));
    }
    case 'full name, NFD':
      return fullName.normalize('NFD');
  }
}


/** Share of W6 requests that resend an earlier request (same idempotency key), as a client retrying after a timeout does. */
export const W6_RETRY_SHARE = 0.1;

/**
 * W6: a birth registered through the gateway, the mother named by personal code (so the birth registry
 * checks her with residents), a new idempotency key and child per request, and one request in ten a
 * retry of an earlier one. Each new birth costs a code issuance and a core record in residents. The
 * registrar is the run's own, so the audit afterwards (birth-audit.ts) sees exactly its births.
 */
export function birthWorkload(samples: Samples, registrar: string): Workload {
  const mothers = samples.livingCodes.filter((code) => {
    const g = Number(code[3]);
    const year = (19 + Math.floor(g / 2)) * 100 + Number(code.slice(4, 6));
    return g % 2 === 1 && year >= 1970 && year <= 2005;
  });
  const sent: Record<string, unknown>[] = [];
  let serial = 0;
  const fresh = () => {
    serial += 1;
    return {
      idempotencyKey: `bench-${process.pid}-${Date.now().toString(36)}-${serial}`,
      registrationProvinceCode: '031',
      registeringAuthority: 'UBND phường Lê Chân, Hải Phòng',
      placeOfBirth: 'Bệnh viện Phụ sản Hải Phòng',
      childName: `Trẻ Thử Nghiệm ${registrar.slice(-6)}-${serial}`,
      childSex: serial % 2 === 0 ? 'MALE' : 'FEMALE',
      childDateOfBirth: '2026-10-20',
      ethnicity: 'Kinh',
      mother: mothers.length > 0 ? { personalCode: pick(mothers) } : { name: 'Lê Thị Mẹ', nationality: 'VN' },
    };
  };
  return {
    id: 'W6',
    title: 'Register a birth (one request in ten a retry of an earlier one)',
    query: REGISTER_BIRTH,
    variables: () => {
      if (sent.length > 0 && Math.random() < W6_RETRY_SHARE) return { input: pick(sent) };
      const input = fresh();
      if (sent.length < 10_000) sent.push(input);
      return { input };
    },
    subgraph: { id: 'birth-registry', query: REGISTER_BIRTH },
  };
}
