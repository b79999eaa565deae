import {
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  isScalarType,
  Kind,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { badInput, UserInputError } from '../lib/graphql/errors';
import { INPUT_SCALAR_VALIDATORS } from '../lib/graphql/scalars';
import { message } from '../lib/i18n/messages';

/**
 * The gateway serves the supergraph's API schema, where PersonalCode and Date are opaque custom
 * scalars: left alone, a malformed code would travel to every subgraph the plan touches and come back
 * as a subgraph error. This plugin runs the subgraphs' own validators (lib/graphql/scalars.ts) on the
 * operation's literals and variables once the operation is resolved and before it is planned, so bad
 * input is refused with BAD_USER_INPUT before any subgraph is called.
 */
export function inputValidationPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, schema, request }) {
          if (!operation) return;
          const errors = validateOperationInputs(schema, operation, request.variables ?? {});
          if (errors.length > 0) {
            // Apollo Server answers with the first thrown error; name all problems in it.
            const [first, ...rest] = errors;
            throw rest.length === 0
              ? first
              : badInput(message('INPUTS_INVALID', { count: errors.length, problems: errors.map((e) => e.message).join(' ') }), { problems: errors.length });
          }
        },
      };
    },
  };
}

/**
 * The longest string any argument takes: the longest real value (a name, an address line, a legal
 * document's number) is far shorter; a longer one is refused before it reaches a subgraph, a log or a SQL
 * pattern. Subgraphs bound their own arguments more tightly where it matters.
 */
export const MAX_STRING_INPUT = 1000;

export function validateOperationInputs(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
) {
  const errors: ReturnType<typeof badInput>[] = [];
  /** `label` names the place in the message: the variable (with its path inside an input object) or the argument. */
  const check = (type: GraphQLInputType | null | undefined, value: unknown, where: Record<string, unknown>, label: { variable?: string; argument?: string }) => {
    if (typeof value === 'string' && value.length > MAX_STRING_INPUT) {
      errors.push(badInput(message('STRING_TOO_LONG', { where: label, length: value.length, maximum: MAX_STRING_INPUT }), { ...where, reason: 'STRING_TOO_LONG' }));
      return;
    }
    const validate = scalarValidator(type);
    if (!validate || value === null || value === undefined) return;
    try {
      validate(value);
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      errors.push(badInput(message('INPUT_PROBLEM', { where: label, problem: error.message }), { ...where, ...error.details }));
    }
  };

  for (const definition of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    const name = definition.variable.name.value;
    forEachLeaf(type, Object.hasOwn(variables, name) ? variables[name] : undefined, name, (itemType, item, path) =>
      check(itemType, item, path === name ? { variable: name } : { variable: name, field: path }, { variable: path }),
    );
  }

  const typeInfo = new TypeInfo(schema);
  visit(
    operation,
    visitWithTypeInfo(typeInfo, {
      enter(node: ValueNode | { kind: string }) {
        if (node.kind !== Kind.STRING && node.kind !== Kind.INT && node.kind !== Kind.FLOAT) return;
        const argument = typeInfo.getArgument()?.name;
        check(typeInfo.getInputType(), (node as { value: string }).value, argument ? { argument } : {}, argument ? { argument } : {});
      },
    }),
  );
  return errors;
}

function scalarValidator(type: GraphQLInputType | null | undefined) {
  const named = type ? getNullableType(type) : null;
  return named && isScalarType(named) ? INPUT_SCALAR_VALIDATORS[named.name] : undefined;
}

/**
 * Calls back with each scalar leaf of a variable's value (through lists and input objects, such as a
 * mutation's `input`), the leaf's type and its path (`input.mother.personalCode`).
 */
function forEachLeaf(
  type: GraphQLInputType | undefined,
  value: unknown,
  path: string,
  callback: (type: GraphQLInputType, value: unknown, path: string) => void,
) {
  if (!type || value === null || value === undefined) return;
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) {
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item) => forEachLeaf(nullable.ofType as GraphQLInputType, item, path, callback));
    return;
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return; // graphql-js reports the wrong shape itself
    for (const field of Object.values(nullable.getFields())) {
      forEachLeaf(field.type, Object.hasOwn(value, field.name) ? (value as Record<string, unknown>)[field.name] : undefined, `${path}.${field.name}`, callback);
    }
    return;
  }
  if (isScalarType(getNamedType(nullable))) callback(nullable, value, path);
}
