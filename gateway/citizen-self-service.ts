import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { CITIZEN_SELF_SERVICE } from '../lib/access/policy';
import type { Principal } from '../lib/access/principal';
import { RELATIVES_EXTENSION } from '../lib/access/subgraph-access';
import { MAX_RELATIVES } from '../lib/service-auth';

const RELATIVE_EDGES: ReadonlySet<string> = new Set(CITIZEN_SELF_SERVICE.relativeEdges);
const RELATIVE_FIELDS: ReadonlySet<string> = new Set(CITIZEN_SELF_SERVICE.relativeFields);
const DENIED_FIELDS: ReadonlySet<string> = new Set(CITIZEN_SELF_SERVICE.deniedFields);

/**
 * The gateway's check of a citizen's operation against citizen self-service (lib/access/policy.ts), on top of
 * the classifications: walks every selection from the root with what it is about, the citizen themself or a
 * parent or child (once a selection has passed a relative edge, `parents`, `children`, a birth registration's
 * parent's `citizen`). Of a relative only the relative fields may be selected, so nothing leads further (a
 * parent's parents, a child's household, cards or birth registration); on their own record a citizen may not
 * select the fields that lead to other persons (their household's head and members). Aliases do not matter
 * (fields are named by schema coordinate), and fragments are walked where they are spread, once per kind of
 * subject, so a fragment harmless on the citizen's own record is still refused where it is spread on a parent.
 *
 * Returns the fields refused, as `Type.field`, with "(of a parent or child)" where that is why.
 */
export function citizenSelfServiceDenials(schema: GraphQLSchema, document: DocumentNode, selectionSet: SelectionSetNode, rootType: GraphQLNamedType): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const denied = new Set<string>();
  const walked = new Set<string>();

  const walk = (set: SelectionSetNode, type: GraphQLNamedType, relative: boolean) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue;
        const coordinate = `${type.name}.${name}`;
        // A field refused is reported alone, not with everything selected under it.
        if (relative && !RELATIVE_FIELDS.has(coordinate)) {
          denied.add(`${coordinate} (of a parent or child)`);
          continue;
        }
        if (!relative && DENIED_FIELDS.has(coordinate)) {
          denied.add(coordinate);
          continue;
        }
        const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
        // Validation has refused unknown fields; a subselection is walked with what it is about.
        if (selection.selectionSet && field) walk(selection.selectionSet, getNamedType(field.type), relative || RELATIVE_EDGES.has(coordinate));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        walk(selection.selectionSet, condition ?? type, relative);
      } else {
        const fragment = fragments.get(selection.name.value);
        const key = `${selection.name.value}:${relative}`;
        if (!fragment || walked.has(key)) continue;
        walked.add(key);
        walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? type, relative);
      }
    }
  };
  walk(selectionSet, rootType, false);
  return [...denied].sort();
}

/** A subgraph's response as the gateway's data source receives it. */
type SubgraphResponse = Parameters<NonNullable<RemoteGraphQLDataSource['didReceiveResponse']>>[0]['response'];

export interface RelativesContext {
  principal?: Principal;
  /** A citizen's parents and children that the subgraphs named so far in this request (RELATIVES_EXTENSION). */
  relatives?: Set<string>;
}

/**
 * Takes the relatives a subgraph names off its response (nothing of it reaches the client) into the request's,
 * for a citizen's request only; the data source names them in the credentials of the later subgraph calls.
 */
export function takeRelatives(response: SubgraphResponse, context: RelativesContext): void {
  const extensions = response.extensions;
  if (!extensions || !(RELATIVES_EXTENSION in extensions)) return;
  const named = extensions[RELATIVES_EXTENSION];
  delete extensions[RELATIVES_EXTENSION];
  if (context.principal?.role !== 'CITIZEN' || !Array.isArray(named)) return;
  const relatives = (context.relatives ??= new Set());
  for (const code of named) if (typeof code === 'string' && /^\d{12}$/.test(code) && relatives.size < MAX_RELATIVES) relatives.add(code);
}
