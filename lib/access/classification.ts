/**
 * The classifications of data. Every field of the supergraph carries one, declared beside the field in
 * its subgraph's schema.graphql with `@classified(as: "...")` (on the field, or on its type for all its
 * fields), carried into the supergraph by `@composeDirective`. The access policy (policy.ts) says which
 * classifications each role may see for each purpose.
 */
export const CLASSIFICATIONS = {
  /** Code tables and what a code itself says (province names, the structure of a personal code). */
  REFERENCE: 'REFERENCE',
  /** Name, date of birth, sex, nationality, the personal code, death, identity cards, birth registration. */
  BASIC_IDENTITY: 'BASIC_IDENTITY',
  /** Addresses, residence registrations, households. */
  RESIDENCE: 'RESIDENCE',
  /** Ethnicity, religion, blood group, marital status. */
  SENSITIVE: 'SENSITIVE',
  /** Who is related to whom: parents, children, household members and their relationship to the head. */
  RELATIONSHIPS: 'RELATIONSHIPS',
  /** Counts over many people that name no one. */
  AGGREGATE: 'AGGREGATE',
  /** The audit log: who accessed whose data. */
  AUDIT: 'AUDIT',
} as const;
export type Classification = keyof typeof CLASSIFICATIONS;

export const isClassification = (value: unknown): value is Classification => typeof value === 'string' && Object.hasOwn(CLASSIFICATIONS, value);
