import {
  getNamedType,
  GraphQLError,
  isIntrospectionType,
  Kind,
  TypeInfo,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { AuditEntry, AuditSink } from '../lib/access/audit-entry';
import type { Classification } from '../lib/access/classification';
import { allowedClassifications, CITIZEN_ROOT_FIELDS, forbidden, forbiddenError, mayWrite, ROOT_FIELD_ROLES } from '../lib/access/policy';
import type { Principal } from '../lib/access/principal';
import type { ClassificationMap } from '../lib/access/schema-classification';
import type { GatewayContext } from './data-source';
import { citizenSelfServiceDenials } from './citizen-self-service';

/**
 * The gateway's check of a whole operation against the access policy, after it is parsed and validated and
 * before it is planned: nothing the caller may not see is ever fetched from a subgraph.
 *
 * Behaviour chosen: a request that asks for anything not allowed is REFUSED WHOLE (FORBIDDEN, with every
 * denied field named in `extensions.deniedFields`), rather than answered with nulls. A frontend built on
 * trusted documents asks for the same fields every time; a refusal tells its developers at once that the
 * operation does not fit the role, where scattered nulls would look like missing data. Refusals are audited.
 */
/** What the policy reads from the supergraph (gateway/supergraph.ts SupergraphView). */
export interface PolicyTables {
  classifications: ClassificationMap;
  /** Mutation field → the agency (subgraph) it writes in. */
  mutationOwners: ReadonlyMap<string, string>;
}

export interface AccessPolicyOptions {
  /** The tables of the supergraph whose API schema a request runs under: a reloaded supergraph brings its own. */
  tables: (schema: GraphQLSchema) => PolicyTables;
  audit: AuditSink | null;
  log: (message: string, error?: unknown) => void;
}

/**
 * Operations found allowed, by document and by what the decision depends on (role, purpose, agency): a
 * frontend sends the same few documents all day, so the walk over the document runs once per kind of caller.
 * A citizen's requests are always checked (their arguments name whose record it is). Bounded; cleared when full.
 */
const ALLOWED_CACHE_SIZE = 5000;

export function accessPolicyPlugin(options: AccessPolicyOptions): ApolloServerPlugin<GatewayContext> {
  // Per supergraph: a reloaded one may classify a field differently, so decisions made under another never apply.
  const allowedUnder = new WeakMap<PolicyTables, Set<string>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document, schema, request, queryHash }) {
          const principal = contextValue.principal;
          if (!principal || !operation) return;
          const tables = options.tables(schema);
          let allowed = allowedUnder.get(tables);
          if (!allowed) allowedUnder.set(tables, (allowed = new Set<string>()));
          if (contextValue.purposeRefusal) {
            const { reason, message } = contextValue.purposeRefusal;
            const refusal = refused(forbiddenError(reason, message));
            await auditRefusal(principal, document, operation, request.variables ?? {}, refusal, options);
            throw refusal;
          }
          // Everything the decision depends on is in the key (the case reference only by its presence).
          const key =
            principal.role === 'CITIZEN'
              ? null
              : JSON.stringify([principal.role, principal.purpose, principal.agency, principal.caseReference !== null, request.operationName ?? '', queryHash]);
          if (key !== null && allowed.has(key)) return;
          try {
            checkOperation(principal, schema, document, operation, request.variables ?? {}, tables);
            if (key !== null) {
              if (allowed.size >= ALLOWED_CACHE_SIZE) allowed.clear();
              allowed.add(key);
            }
          } catch (error) {
            const refusal = error instanceof GraphQLError ? refused(error) : error;
            await auditRefusal(principal, document, operation, request.variables ?? {}, refusal, options);
            throw refusal;
          }
        },
      };
    },
  };
}

export function checkOperation(
  principal: Principal,
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  options: PolicyTables,
): void {
  const allowed = allowedClassifications(principal);
  const rootType = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  for (const field of rootFields(document, operation.selectionSet)) {
    if (field.name.value.startsWith('__')) continue;
    const definition = rootType?.getFields()[field.name.value];
    checkRootField(principal, field, operation.operation, variables, definition?.args ?? [], options);
  }
  const denied = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  // The whole document: fragments are part of the operation (validation already refused unused ones).
  // Introspection (__schema, __type, __typename, and every field of the __Schema, __Type, ... types) describes
  // the schema, never a person: it needs no classification. Whether it is answered at all is the INTROSPECTION
  // setting's (Apollo's validation refuses it when off); the data fields beside it are checked as always.
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent || node.name.value.startsWith('__') || isIntrospectionType(getNamedType(parent))) return;
        const classification: Classification | undefined = options.classifications.get(`${getNamedType(parent).name}.${node.name.value}`);
        if (!classification || !allowed.has(classification)) denied.add(`${parent.name}.${node.name.value}`);
      },
    }),
  );
  if (denied.size > 0) {
    const fields = [...denied].sort();
    throw forbidden('FIELDS_NOT_ALLOWED', { role: principal.role, purpose: String(principal.purpose), fields: fields.join(', ') }, { deniedFields: fields });
  }
  if (principal.role === 'CITIZEN' && rootType) {
    const beyond = citizenSelfServiceDenials(schema, document, operation.selectionSet, rootType);
    if (beyond.length > 0) {
      throw forbidden('BEYOND_RELATIVES', { fields: beyond.join(', ') }, { reason: 'NOT_OWN_RECORD', deniedFields: beyond });
    }
  }
}

/**
 * The root fields an operation asks for, wherever they sit: directly, in inline fragments (`... on Query`),
 * in named fragments spread at the root, nested any number of times. Checking only the operation's direct
 * selections would let `{ ... on Query { citizen(personalCode: "…") { … } } }` past every root-field rule.
 * Validation has refused fragment cycles; each named fragment is expanded once.
 */
export function rootFields(document: DocumentNode, selectionSet: SelectionSetNode): FieldNode[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const fields: FieldNode[] = [];
  const expanded = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else if (!expanded.has(selection.name.value)) {
        expanded.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  walk(selectionSet);
  return fields;
}

/** A policy refusal as the gateway answers it: HTTP 403 (GraphQL over HTTP: the request was understood and refused). */
function refused(error: GraphQLError): GraphQLError {
  if (error.extensions.code !== 'FORBIDDEN') return error;
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 403 } } });
}

function checkRootField(
  principal: Principal,
  field: FieldNode,
  kind: OperationDefinitionNode['operation'],
  variables: Record<string, unknown>,
  argumentDefinitions: readonly { name: string; type: import('graphql').GraphQLInputType }[],
  options: Pick<PolicyTables, 'mutationOwners'>,
): void {
  const name = field.name.value;
  if (kind === 'mutation') {
    const owner = options.mutationOwners.get(name);
    if (!owner || !mayWrite(principal, owner)) {
      throw forbidden('WRITE_NOT_ALLOWED', { owner: owner ?? null, field: name }, { field: name });
    }
    return;
  }
  const roles = Object.hasOwn(ROOT_FIELD_ROLES, name) ? ROOT_FIELD_ROLES[name] : undefined;
  if (roles && !roles.includes(principal.role)) {
    throw forbidden('ROLE_NOT_ALLOWED', { field: name, roles: [...roles] }, { field: name });
  }
  if (principal.role !== 'CITIZEN') return;
  if (!CITIZEN_ROOT_FIELDS.includes(name)) throw forbidden('NOT_OWN_ROOT_FIELD', { field: name }, { reason: 'NOT_OWN_RECORD' });
  const argument = field.arguments?.find((a) => a.name.value === 'personalCode');
  const definition = argumentDefinitions.find((a) => a.name === 'personalCode');
  if (argument && definition && valueFromAST(argument.value, definition.type, variables) !== principal.personalCode) {
    throw forbidden('NOT_OWN_RECORD', {});
  }
}

/** The personal codes a request's root fields name in their arguments (personalCode, personalCodes): whom it asked about. */
function codesNamed(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): string[] {
  const codes = new Set<string>();
  const add = (value: unknown) => {
    for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string' && /^\d{12}$/.test(item)) codes.add(item);
  };
  const read = (node: ValueNode): unknown => {
    if (node.kind === Kind.VARIABLE) return Object.hasOwn(variables, node.name.value) ? variables[node.name.value] : undefined;
    if (node.kind === Kind.STRING) return node.value;
    if (node.kind === Kind.LIST) return node.values.map(read);
    return undefined;
  };
  for (const field of rootFields(document, operation.selectionSet)) {
    for (const argument of field.arguments ?? []) {
      if (argument.name.value === 'personalCode' || argument.name.value === 'personalCodes') add(read(argument.value));
    }
  }
  return [...codes];
}

async function auditRefusal(
  principal: Principal,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  refusal: unknown,
  options: AccessPolicyOptions,
) {
  if (!options.audit) return;
  const reason = (refusal as { extensions?: { reason?: string } }).extensions?.reason ?? 'FORBIDDEN';
  const entry: AuditEntry = {
    requestId: principal.requestId,
    subject: principal.subject,
    role: principal.role,
    callerAgency: principal.agency,
    purpose: principal.purpose,
    caseReference: principal.caseReference,
    agency: 'gateway',
    action: 'REFUSED',
    operation: `${operation.operation} ${[...new Set(rootFields(document, operation.selectionSet).map((f) => f.name.value))].join(',')}: ${reason}`,
    // Whom the request asked about, and the citizen asking: each finds the attempt in their log.
    persons: [...new Set([...(principal.personalCode ? [principal.personalCode] : []), ...codesNamed(document, operation, variables)])].sort(),
    classes: [],
    outcome: 'DENIED',
  };
  try {
    await options.audit.record([entry]);
  } catch (error) {
    options.log('could not audit a refused request', error);
  }
}
