import fs from 'node:fs';
import { SUPERGRAPH_GRAPHQL } from '../lib/compose';
import type { Agency } from '../lib/agencies';
import { BY_IDENTITY_CARD, CITIZEN_LIST, HOUSEHOLD, UNIFIED_CITIZEN } from '../test/support/queries';
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
}

export type MeasuredWorkloadId = Exclude<WorkloadId, 'W6'>;

export const CITIZEN_STATISTICS = /* GraphQL */ `
  query CitizenStatistics {
    citizenStatistics { total groups { provinceCode sex birthDecade count } }
  }
`;

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
  };
}

/** W6 (register a birth) needs a mutation the graph does not have yet; the report says so instead of guessing. */
export function birthRegistrationStatus(): string {
  const supergraph = fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8');
  return /\bregisterBirth\s*\(/.test(supergraph)
    ? 'not measured (registerBirth now exists: add its workload in bench/workloads.ts)'
    : 'not available (registerBirth not implemented)';
}
