import { ACCESS_POLICY, type AccessPolicy } from './policy-file';

/**
 * The classifications of data. Every field of the supergraph carries one, declared beside the field in
 * its subgraph's schema.graphql with `@classified(as: "...")` (on the field, or on its type for all its
 * fields), carried into the supergraph by `@composeDirective`. Which classifications exist, what each
 * covers, and which role may see it for which purpose is data: lib/access/access-policy.yaml.
 */
export type Classification = string;

/** Classification → what it covers, from the policy file. */
export const CLASSIFICATIONS: Readonly<Record<Classification, string>> = ACCESS_POLICY.classifications;

// Own keys only: a class named "constructor" or "__proto__" is no class.
export const isClassificationOf = (policy: AccessPolicy, value: unknown): value is Classification =>
  typeof value === 'string' && Object.hasOwn(policy.classifications, value);

/** One argument only, so that it can be given to every() and filter() as it is. */
export const isClassification = (value: unknown): value is Classification => isClassificationOf(ACCESS_POLICY, value);
