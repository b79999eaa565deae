import fs from 'node:fs';
import path from 'node:path';
import { Kind, TypeInfo, parse, print, visit, visitWithTypeInfo, type FieldNode, type GraphQLSchema } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { Agency } from '../lib/agencies';

/**
 * The part of a gateway operation that one subgraph answers alone: the same operation with every field the
 * subgraph's own schema does not define removed (and any selection left empty by that). Derived from the
 * subgraph's schema.graphql rather than written out, so it follows both the shared test queries and the
 * schemas as they change, and the gateway/subgraph ratio always compares the same request minus federation.
 */
const root = path.resolve(__dirname, '..');
const schemas = new Map<Agency['id'], GraphQLSchema>();

function subgraphSchema(id: Agency['id']): GraphQLSchema {
  let schema = schemas.get(id);
  if (!schema) {
    const typeDefs = parse(fs.readFileSync(path.join(root, 'subgraphs', id, 'schema.graphql'), 'utf8'));
    schema = buildSubgraphSchema({ typeDefs });
    schemas.set(id, schema);
  }
  return schema;
}

export function subgraphPart(operation: string, id: Agency['id']): string {
  const typeInfo = new TypeInfo(subgraphSchema(id));
  const pruned = visit(
    parse(operation),
    visitWithTypeInfo(typeInfo, {
      Field: {
        // Not in this subgraph's schema: another agency resolves it behind the gateway.
        enter: () => (typeInfo.getFieldDef() ? undefined : null),
        leave: (node: FieldNode) => (node.selectionSet && node.selectionSet.selections.length === 0 ? null : undefined),
      },
    }),
  );
  const operationNode = pruned.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operationNode || operationNode.selectionSet.selections.length === 0) {
    throw new Error(`the ${id} subgraph answers no part of:\n${operation}`);
  }
  return print(pruned);
}
