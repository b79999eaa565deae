import { Kind, type DocumentNode } from 'graphql';
import { readClassifications } from '../lib/access/schema-classification';

/**
 * Secure by default: every field a subgraph defines must carry a classification declared in that subgraph's
 * own schema (@classified on the field, or on the type in the same definition). Why here and not at run
 * time: @classified is a composed directive, and composition merges the type-level directives of all the
 * subgraphs that define a type, so a subgraph whose own `Citizen` declared none inherited another agency's
 * in the supergraph. Its fields then looked classified everywhere after composition (the supergraph was byte
 * for byte the same either way), while the subgraph's own guard, which reads its own schema, saw nothing to
 * check and recorded nothing. Checked on each subgraph's document before composing, nothing can inherit.
 *
 * Returns one problem per unclassified field, e.g. "health-insurance: Citizen.insuranceNumber has no
 * @classified (on the field or on its type in this subgraph's schema)". Input types, enums and scalars carry
 * no data out and need none; federation's own fields (_service, _entities) are added later and guarded by
 * the subgraph runtime.
 */
export function unclassifiedFields(subgraph: string, document: DocumentNode): string[] {
  const classified = readClassifications(document);
  const problems: string[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of definition.fields ?? []) {
      const coordinate = `${definition.name.value}.${field.name.value}`;
      if (!classified.has(coordinate)) {
        problems.push(`${subgraph}: ${coordinate} has no @classified (on the field, or on its type in this subgraph's own schema)`);
      }
    }
  }
  return problems;
}
