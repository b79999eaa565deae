import {
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLFormattedError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { AGENCIES } from '../lib/agencies';
import { ErrorCode } from '../lib/graphql/errors';

/**
 * Which fields an agency's failure left null, so that every AGENCY_UNAVAILABLE error names them.
 *
 * When the gateway cannot reach a subgraph (down, timed out), @apollo/gateway reports one error per failed
 * fetch, with no path, and leaves null every field that fetch was to supply. A frontend needs to know which
 * fields are missing (the card panel, not the whole page), so the gateway turns that error into one error per
 * field left null, each with its `path`, as GraphQL reports any field error. A field was left null by the
 * agency when it is null in the answer and the agency resolves it, or (null propagating up from a non-null
 * field) one of its non-null subfields is the agency's. Who resolves what is read once from the supergraph's
 * join directives. Errors a subgraph reports itself (its database failed) already carry their paths.
 */
export type FieldOwners = ReadonlyMap<string, ReadonlySet<string>>;

/** `Type.field` → the agencies (lib/agencies.ts ids) that resolve it, from the supergraph's @join__type / @join__field. */
export function readFieldOwners(supergraphSdl: string): FieldOwners {
  const document = parse(supergraphSdl);
  const graphs = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const name = value.directives?.find((d) => d.name.value === 'join__graph')?.arguments?.find((a) => a.name.value === 'name')?.value;
      if (name?.kind === Kind.STRING) graphs.set(value.name.value, name.value);
    }
  }
  const graphOf = (directive: ConstDirectiveNode) => {
    const graph = directive.arguments?.find((a) => a.name.value === 'graph')?.value;
    return graph?.kind === Kind.ENUM ? graphs.get(graph.value) : undefined;
  };
  const owners = new Map<string, Set<string>>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const typeGraphs = (definition.directives ?? []).filter((d) => d.name.value === 'join__type').map(graphOf).filter((g): g is string => !!g);
    for (const field of definition.fields ?? []) {
      const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
      const resolving = joins
        .filter((d) => !d.arguments?.some((a) => a.name.value === 'external' && a.value.kind === Kind.BOOLEAN && a.value.value))
        .map(graphOf)
        .filter((g): g is string => !!g);
      owners.set(`${definition.name.value}.${field.name.value}`, new Set(joins.length > 0 ? resolving : typeGraphs));
    }
  }
  return owners;
}

type Path = (string | number)[];

/** The paths of the fields of `data` that `agency`'s failure left null, in the order they appear. */
export function fieldsLeftNull(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  data: Record<string, unknown>,
  agency: string,
  owners: FieldOwners,
): Path[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const paths: Path[] = [];
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!root) return paths;

  /** The fields of a selection set on `type`, with fragments expanded (a fragment on another object type does not apply). */
  const fieldsOf = (selectionSet: SelectionSetNode, type: GraphQLObjectType, into: FieldNode[] = [], spread = new Set<string>()): FieldNode[] => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) into.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(selection.typeCondition?.name.value, type)) fieldsOf(selection.selectionSet, type, into, spread);
      } else if (!spread.has(selection.name.value)) {
        spread.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment && applies(fragment.typeCondition.name.value, type)) fieldsOf(fragment.selectionSet, type, into, spread);
      }
    }
    return into;
  };
  const applies = (condition: string | undefined, type: GraphQLObjectType) => {
    if (!condition || condition === type.name) return true;
    const named = schema.getType(condition);
    return !!named && isAbstractType(named) && schema.isSubType(named, type);
  };
  const resolves = (type: GraphQLObjectType, field: string) => owners.get(`${type.name}.${field}`)?.has(agency) ?? false;

  /** Whether a null here can come from the agency: it resolves the field, or a non-null field below it. */
  const leftByAgency = (type: GraphQLObjectType, node: FieldNode, definition: GraphQLField<unknown, unknown>, seen = 0): boolean => {
    if (resolves(type, node.name.value)) return true;
    const named = getNamedType(definition.type);
    if (!node.selectionSet || !isObjectType(named) || seen > 20) return false;
    return fieldsOf(node.selectionSet, named).some((child) => {
      const childDefinition = named.getFields()[child.name.value];
      return !!childDefinition && isNonNullType(childDefinition.type) && leftByAgency(named, child, childDefinition, seen + 1);
    });
  };

  const walk = (selectionSet: SelectionSetNode, type: GraphQLObjectType, value: Record<string, unknown>, path: Path) => {
    for (const node of fieldsOf(selectionSet, type)) {
      const key = node.alias?.value ?? node.name.value;
      const definition = type.getFields()[node.name.value];
      if (!definition || !Object.hasOwn(value, key)) continue;
      visit(node, definition, type, value[key], [...path, key]);
    }
  };
  const visit = (node: FieldNode, definition: GraphQLField<unknown, unknown>, parent: GraphQLObjectType, value: unknown, path: Path) => {
    if (value === null) {
      if (leftByAgency(parent, node, definition)) paths.push(path);
      return;
    }
    const named = getNamedType(definition.type);
    if (!node.selectionSet || !isObjectType(named) || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      const itemType = isNonNullType(definition.type) ? definition.type.ofType : definition.type;
      value.forEach((item, index) => {
        if (item === null) {
          if (isListType(itemType) && leftByAgency(parent, node, definition)) paths.push([...path, index]);
        } else if (typeof item === 'object') walk(node.selectionSet!, named, item as Record<string, unknown>, [...path, index]);
      });
      return;
    }
    walk(node.selectionSet, named, value as Record<string, unknown>, path);
  };

  walk(operation.selectionSet, root, data, []);
  return paths;
}

const agencyIdOf = (title: unknown) => AGENCIES.find((a) => a.title === title)?.id;

/**
 * Replaces each pathless AGENCY_UNAVAILABLE error of `errors` by one error per field its agency left null
 * (the first such error's message and extensions, each with a path). An agency whose failure left nothing
 * null keeps its error as it was. Errors with a path, and all others, are kept as they are, in order.
 */
export function withAgencyPaths(
  errors: readonly GraphQLFormattedError[],
  leftNull: (agency: string) => Path[],
): GraphQLFormattedError[] {
  const result: GraphQLFormattedError[] = [];
  const done = new Set<string>();
  // Fields an error with a path already names (a subgraph's own report) are not named twice.
  const named = new Set(errors.filter((e) => e.path).map((e) => JSON.stringify(e.path)));
  for (const error of errors) {
    const agency = error.extensions?.code === ErrorCode.AGENCY_UNAVAILABLE && !error.path ? agencyIdOf(error.extensions.agency) : undefined;
    if (!agency) {
      result.push(error);
      continue;
    }
    if (done.has(agency)) continue;
    done.add(agency);
    const all = leftNull(agency);
    if (all.length === 0) {
      result.push(error); // nothing of the answer depended on it: the error still says it failed
      continue;
    }
    result.push(...all.filter((path) => !named.has(JSON.stringify(path))).map((path) => ({ ...error, path })));
  }
  return result;
}
