import { Kind, parse, type ConstDirectiveNode, type DocumentNode } from 'graphql';
import { isClassificationOf, type Classification } from './classification';
import { ACCESS_POLICY, type AccessPolicy } from './policy-file';

/**
 * Reads the classifications declared in a schema document (a subgraph's schema.graphql, or the composed
 * supergraph.graphql that carries them through @composeDirective) into "Type.field" → classification:
 * the field's own @classified, else its type's.
 */
export type ClassificationMap = ReadonlyMap<string, Classification>;

const DIRECTIVE = 'classified';

function classOf(directives: readonly ConstDirectiveNode[] | undefined, where: string, policy: AccessPolicy): Classification | undefined {
  const directive = directives?.find((d) => d.name.value === DIRECTIVE);
  if (!directive) return undefined;
  const argument = directive.arguments?.find((a) => a.name.value === 'as');
  const value = argument?.value.kind === Kind.STRING ? argument.value.value : undefined;
  if (!isClassificationOf(policy, value)) throw new Error(`@${DIRECTIVE} on ${where} names an unknown classification: ${String(value)}`);
  return value;
}

/** `policy`: the classifications that exist (lib/access/access-policy.yaml); a name not among them is an error. */
export function readClassifications(sdl: string | DocumentNode, policy: AccessPolicy = ACCESS_POLICY): ClassificationMap {
  const document = typeof sdl === 'string' ? parse(sdl) : sdl;
  const map = new Map<string, Classification>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = definition.name.value;
    const typeClass = classOf(definition.directives, type, policy);
    for (const field of definition.fields ?? []) {
      const fieldClass = classOf(field.directives, `${type}.${field.name.value}`, policy) ?? typeClass;
      if (fieldClass) map.set(`${type}.${field.name.value}`, fieldClass);
    }
  }
  return map;
}

/**
 * Which subgraph answers each Mutation field, from the supergraph's join directives: a write belongs to
 * one agency, and only that agency's registrars may make it.
 */
export function readMutationOwners(supergraphSdl: string): ReadonlyMap<string, string> {
  const document = parse(supergraphSdl);
  const graphs = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
      for (const value of definition.values ?? []) {
        const name = value.directives?.find((d) => d.name.value === 'join__graph')?.arguments?.find((a) => a.name.value === 'name')?.value;
        if (name?.kind === Kind.STRING) graphs.set(value.name.value, name.value);
      }
    }
  }
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION || definition.name.value !== 'Mutation') continue;
    for (const field of definition.fields ?? []) {
      const graph = field.directives?.find((d) => d.name.value === 'join__field')?.arguments?.find((a) => a.name.value === 'graph')?.value;
      if (graph?.kind === Kind.ENUM) owners.set(field.name.value, graphs.get(graph.value) ?? graph.value);
    }
  }
  return owners;
}
