import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isListType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../lib/graphql/errors';
import { message } from '../lib/i18n/messages';
import type { GatewayContext } from './data-source';

/**
 * Operation limits, checked once the operation is parsed, validated and resolved, before it is planned,
 * so an operation over a limit never reaches a subgraph. A refusal is OPERATION_LIMIT_EXCEEDED (HTTP 400)
 * with `extensions.limit` naming the limit (`depth`, `aliases`, `directives`, `cost`, `tokens`),
 * `extensions.maximum` and, except for tokens, `extensions.actual`.
 *
 * Tokens are counted by graphql-js while parsing (Apollo Server's `parseOptions.maxTokens`), so a token
 * flood is never parsed; its parse error is re-labelled by `tokenLimitError` (used by formatError).
 * The other four come from one walk of the operation with its fragments expanded (validation has already
 * refused fragment cycles; each fragment is measured once and reused, so nested spreads cannot make the
 * walk itself exponential):
 *
 * - depth: the longest chain of nested fields (`citizen { household { household { number } } }` is 4).
 * - aliases: aliased fields, counted once per place they occur once fragments are expanded.
 * - directives: directive uses anywhere in the operation (operation, variables, fields, fragments).
 * - cost, an estimate of the work the operation asks of the agencies:
 *     each field costs 1, or its weight (OperationLimits.fieldWeights: fields that make the gateway fetch
 *     an entity from another agency, or search the population);
 *     a field that returns a list multiplies the cost of its selection by the list's expected size:
 *       its `first` argument (given, or the schema's default), else the length of its list argument
 *       (`citizens(personalCodes: [...])`, 100 codes: x100), else `defaultListSize`;
 *     a field with a `first` argument that returns a connection multiplies its selection by `first`,
 *     and the connection's `edges`/`nodes` lists then count once;
 *     __typename, and introspection (__schema, __type, when it is allowed at all), cost nothing and do
 *     not count toward depth (their aliases and directives do count).
 *   Trusted documents (the manifest, gateway/trusted-documents.ts) may cost up to `maxCost`; free-form
 *   documents only up to `maxCostAdHoc`, which is lower.
 */
export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /** Ceiling on the estimated cost of a trusted document. */
  maxCost: number;
  /** Ceiling on the estimated cost of a free-form document (lower than maxCost). */
  maxCostAdHoc: number;
  defaultListSize: number;
  /** `Type.field` → cost of the field itself (instead of 1). */
  fieldWeights: Readonly<Record<string, number>>;
}

/** Fields that make the gateway fetch from another agency, or search the whole population. */
export const DEFAULT_FIELD_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  'Citizen.identityCard': 2,
  'Citizen.identityCards': 2,
  'Citizen.legacyIdNumbers': 2,
  'Citizen.birthRegistration': 2,
  'Citizen.parents': 2,
  'Citizen.children': 2,
  'Parent.citizen': 2,
  'IdentityCard.holder': 2,
  'BirthRegistration.child': 2,
  'Query.searchCitizens': 10,
});


export type LimitName = 'depth' | 'aliases' | 'directives' | 'cost' | 'tokens';

export interface OperationMeasure {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
}

export function limitExceeded(limit: LimitName, maximum: number, actual: number | undefined, text: string): GraphQLError {
  return new GraphQLError(text, {
    extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, limit, maximum, ...(actual === undefined ? {} : { actual }), http: { status: 400 } },
  });
}

export function operationLimitsPlugin(limits: OperationLimits): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, request, contextValue }) {
          if (!operation) return;
          const measure = measureOperation(schema, document, operation, request.variables ?? {}, limits);
          const error = checkLimits(measure, limits, Boolean(contextValue.trustedDocumentId));
          if (error) throw error;
        },
      };
    },
  };
}

/** The first limit the measure exceeds, as the error to send, or null. */
export function checkLimits(measure: OperationMeasure, limits: OperationLimits, trusted: boolean): GraphQLError | null {
  if (measure.depth > limits.maxDepth) {
    return limitExceeded('depth', limits.maxDepth, measure.depth, message('LIMIT_DEPTH', { actual: measure.depth, maximum: limits.maxDepth }));
  }
  if (measure.aliases > limits.maxAliases) {
    return limitExceeded('aliases', limits.maxAliases, measure.aliases, message('LIMIT_ALIASES', { actual: measure.aliases, maximum: limits.maxAliases }));
  }
  if (measure.directives > limits.maxDirectives) {
    return limitExceeded(
      'directives',
      limits.maxDirectives,
      measure.directives,
      message('LIMIT_DIRECTIVES', { actual: measure.directives, maximum: limits.maxDirectives }),
    );
  }
  const maxCost = trusted ? limits.maxCost : Math.min(limits.maxCost, limits.maxCostAdHoc);
  if (measure.cost > maxCost) {
    return limitExceeded('cost', maxCost, measure.cost, message('LIMIT_COST', { actual: measure.cost, maximum: maxCost, trusted }));
  }
  return null;
}

/** graphql-js's own words when `maxTokens` stops a parse (16.x says "more that"). */
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] (\d+) tokens\b/;

/** Turns the parser's token-limit error into OPERATION_LIMIT_EXCEEDED / tokens; other errors stay as they are. */
export function tokenLimitError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const match = TOKEN_LIMIT.exec(formatted.message);
  if (!match || formatted.extensions?.code !== 'GRAPHQL_PARSE_FAILED') return formatted;
  const maximum = Number(match[1]);
  return {
    message: message('LIMIT_TOKENS', { maximum }),
    extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, limit: 'tokens', maximum },
  };
}

interface Measure {
  /** Deepest field chain below (and including) this selection set's fields. */
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
}

const EMPTY: Measure = { depth: 0, aliases: 0, directives: 0, cost: 0 };
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);
const CONNECTION_LISTS = new Set(['edges', 'nodes']);

/** Depth, aliases, directives and estimated cost of one operation of a validated document. */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: Pick<OperationLimits, 'defaultListSize' | 'fieldWeights'>,
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measuredFragments = new Map<string, Measure>();

  const fragmentMeasure = (name: string): Measure => {
    const known = measuredFragments.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    const type = fragment && schema.getType(fragment.typeCondition.name.value);
    if (!fragment || !type || !isCompositeType(type)) return EMPTY;
    measuredFragments.set(name, EMPTY); // cycles are refused by validation; this only guards the walk
    const inner = selectionSet(fragment.selectionSet, type, false);
    const result = { ...inner, directives: inner.directives + (fragment.directives?.length ?? 0) };
    measuredFragments.set(name, result);
    return result;
  };

  const listSize = (field: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined => {
    const value = (name: string) => {
      const argument = definition.args.find((a) => a.name === name);
      if (!argument) return undefined;
      const node = field.arguments?.find((a) => a.name.value === name);
      if (!node) return argument.defaultValue;
      return valueFromAST(node.value, argument.type, variables);
    };
    const first = value('first');
    if (typeof first === 'number' && Number.isFinite(first)) return Math.max(0, first);
    for (const argument of definition.args) {
      if (!isListType(getNullableType(argument.type))) continue;
      const given = value(argument.name);
      if (Array.isArray(given)) return given.length;
      if (given !== undefined && given !== null) return 1; // a single value where a list is expected
    }
    return undefined;
  };

  const selectionSet = (set: SelectionSetNode, parent: GraphQLCompositeType, sizedByParent: boolean): Measure => {
    let depth = 0;
    let aliases = 0;
    let directives = 0;
    let cost = 0;
    for (const selection of set.selections) {
      directives += selection.directives?.length ?? 0;
      let inner: Measure;
      if (selection.kind === Kind.FIELD) {
        inner = field(selection, parent, sizedByParent);
        if (selection.alias) aliases += 1;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        const type = typeName ? schema.getType(typeName) : parent;
        inner = type && isCompositeType(type) ? selectionSet(selection.selectionSet, type, sizedByParent) : EMPTY;
      } else {
        inner = fragmentMeasure(selection.name.value);
      }
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
      directives += inner.directives;
      cost += inner.cost;
    }
    return { depth, aliases, directives, cost };
  };

  const field = (node: FieldNode, parent: GraphQLCompositeType, sizedByParent: boolean): Measure => {
    const name = node.name.value;
    if (name.startsWith('__')) {
      if (!INTROSPECTION_ROOTS.has(name) || !node.selectionSet) return EMPTY;
      const type = name === '__schema' ? schema.getType('__Schema') : schema.getType('__Type');
      const inner = type && isCompositeType(type) ? selectionSet(node.selectionSet, type, false) : EMPTY;
      return { depth: 0, cost: 0, aliases: inner.aliases, directives: inner.directives };
    }
    const definition = 'getFields' in parent ? parent.getFields()[name] : undefined;
    if (!definition) return EMPTY; // validation has refused unknown fields
    const weight = limits.fieldWeights[`${parent.name}.${name}`] ?? 1;
    const returned = getNamedType(definition.type);
    if (!node.selectionSet || !isCompositeType(returned)) return { depth: 1, aliases: 0, directives: 0, cost: weight };

    const isList = isListType(getNullableType(definition.type));
    const size = listSize(node, definition);
    let multiplier = 1;
    if (isList) multiplier = size ?? (sizedByParent && CONNECTION_LISTS.has(name) ? 1 : limits.defaultListSize);
    else if (size !== undefined) multiplier = size; // a connection sized by `first`
    const inner = selectionSet(node.selectionSet, returned, !isList && size !== undefined);
    return { depth: 1 + inner.depth, aliases: inner.aliases, directives: inner.directives, cost: weight + multiplier * inner.cost };
  };

  const root = schema.getRootType(operation.operation);
  const variableDirectives = (operation.variableDefinitions ?? []).reduce((n, v) => n + (v.directives?.length ?? 0), 0);
  const measured = root ? selectionSet(operation.selectionSet, root, false) : EMPTY;
  return {
    depth: measured.depth,
    aliases: measured.aliases,
    directives: measured.directives + (operation.directives?.length ?? 0) + variableDirectives,
    cost: measured.cost,
  };
}
