import fs from 'node:fs';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import {
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedDirective,
  isSpecifiedScalarType,
  Kind,
  parse,
  print,
  printSchema,
  visit,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { checkOperation } from '../gateway/access-policy';
import { apiSchemaText, API_SCHEMA_GRAPHQL, buildApiSchema } from '../tools/api-schema';
import { readClassifications, readMutationOwners } from '../lib/access/schema-classification';
import { parseClassificationLine, type Reader } from '../tools/access/readers';
import { allowedClassifications, CITIZEN_SELF_SERVICE, mayAskRootField, PURPOSES, type Purpose } from '../lib/access/policy';
import { ROLES, type Principal, type Role } from '../lib/access/principal';
import type { Classification } from '../lib/access/classification';
import { compose, readSupergraphConfig, SUPERGRAPH_GRAPHQL } from '../tools/compose';

/**
 * The published API schema (schema/citizen-graph.graphql) is what frontends build against: it must be
 * current, hold nothing clients cannot query, describe everything, and tell the truth about who may read
 * each field, as the gateway and the subgraphs enforce it.
 */
const published = fs.readFileSync(API_SCHEMA_GRAPHQL, 'utf8');
const schema = buildApiSchema(published);
const supergraphSdl = fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8');

/** The first line where two texts differ, to say what is stale without printing the whole file. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const e = expected.split('\n');
  const line = a.findIndex((text, i) => text !== e[i]);
  const at = line === -1 ? a.length : line;
  return `first difference at line ${at + 1}:\n  committed: ${a[at] ?? '<end of file>'}\n  generated: ${e[at] ?? '<end of file>'}`;
}

/** Every type, field, argument, enum value and input field of a schema that clients see, named. */
function elements(api: GraphQLSchema): { name: string; description: string | null | undefined; field?: GraphQLField<unknown, unknown> }[] {
  const found: { name: string; description: string | null | undefined; field?: GraphQLField<unknown, unknown> }[] = [];
  for (const type of Object.values(api.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    found.push({ name: type.name, description: type.description });
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        found.push({ name: `${type.name}.${field.name}`, description: field.description, field });
        for (const arg of field.args) found.push({ name: `${type.name}.${field.name}(${arg.name})`, description: arg.description });
      }
    }
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) found.push({ name: `${type.name}.${field.name}`, description: field.description });
    }
    if (isEnumType(type)) for (const value of type.getValues()) found.push({ name: `${type.name}.${value.name}`, description: value.description });
  }
  return found;
}

/** A description without the generated classification line: what a person wrote. */
const written = (description: string | null | undefined) =>
  (parseClassificationLine(description) ? description!.split('\n').slice(0, -1).join('\n') : (description ?? '')).trim();

describe('the published API schema', () => {
  it('is committed exactly as the subgraph schemas and the access policy make it (else: run `npm run schema` and commit it)', () => {
    const fresh = apiSchemaText();
    if (published !== fresh) {
      throw new Error(`${path.relative(process.cwd(), API_SCHEMA_GRAPHQL)} is stale: run \`npm run schema\` and commit it.\n${firstDifference(published, fresh)}`);
    }
  });

  it('is the API schema the gateway serves from the supergraph: nothing of federation, nothing @inaccessible', () => {
    const names = Object.keys(schema.getTypeMap());
    expect(names.filter((name) => /^(join__|link__|federation__|_Any$|_Entity$|_Service$)/.test(name))).toEqual([]);
    expect(schema.getDirectives().filter((directive) => !isSpecifiedDirective(directive)).map((directive) => directive.name)).toEqual([]);
    expect(Object.keys(schema.getQueryType()!.getFields())).not.toContain('_entities');
    expect(Object.keys(schema.getMutationType()!.getFields())).not.toContain('createCitizenAtBirth');
    expect(names).not.toContain('CitizenAtBirthInput');
    expect(published).not.toMatch(/@(inaccessible|classified|key|join__|link)\b/);
    // Descriptions aside, exactly what @apollo/gateway builds from the committed supergraph.
    const gatewayApi = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
    const withoutDescriptions = (document: DocumentNode) => print(visit(document, { enter: (node) => ('description' in node ? { ...node, description: undefined } : undefined) }));
    expect(withoutDescriptions(parse(published))).toBe(withoutDescriptions(parse(printSchema(gatewayApi))));
  });

  it('describes every type, field, argument, enum value and input field in words, not only with its classification', () => {
    const undescribed = elements(schema).filter((element) => written(element.description) === '').map((element) => element.name);
    expect(undescribed).toEqual([]);
    expect(elements(schema).length).toBeGreaterThan(300);
  });

  it('is generated from subgraph schemas that describe every element, shared ones alike in every subgraph', () => {
    const undescribed: string[] = [];
    for (const entry of readSupergraphConfig()) {
      const where = path.basename(path.dirname(entry.schemaFile));
      const check = (name: string, node: { description?: { value: string } }) => {
        if (!node.description?.value.trim()) undescribed.push(`${where}: ${name}`);
      };
      for (const definition of parse(fs.readFileSync(entry.schemaFile, 'utf8')).definitions) {
        if (definition.kind === Kind.SCHEMA_EXTENSION || definition.kind === Kind.SCHEMA_DEFINITION) continue;
        if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) continue;
        const type = definition.name.value;
        // An extension (`extend type`) cannot carry a description; its fields can.
        if ('description' in definition) check(definition.kind === Kind.DIRECTIVE_DEFINITION ? `@${type}` : type, definition);
        if (definition.kind === Kind.DIRECTIVE_DEFINITION) for (const arg of definition.arguments ?? []) check(`@${type}(${arg.name.value})`, arg);
        if ('fields' in definition) {
          for (const field of definition.fields ?? []) {
            check(`${type}.${field.name.value}`, field);
            if ('arguments' in field) for (const arg of field.arguments ?? []) check(`${type}.${field.name.value}(${arg.name.value})`, arg);
          }
        }
        if ('values' in definition) for (const value of definition.values ?? []) check(`${type}.${value.name.value}`, value);
      }
    }
    expect(undescribed).toEqual([]);
    // Composition keeps one description of an element several subgraphs define: they must agree.
    expect(compose().hints.filter((hint) => hint.code === 'INCONSISTENT_DESCRIPTION').map((hint) => hint.message)).toEqual([]);
  });
});

describe("each field's classification in the published schema", () => {
  const classifications = readClassifications(supergraphSdl);
  const mutationOwners = readMutationOwners(supergraphSdl);
  const agencies = [...new Set(mutationOwners.values()), 'police'];
  const citizenCode = '001200342514';

  /** Every caller there can be: each role, for each purpose, of each agency, with a case reference. */
  const principals: Principal[] = ROLES.flatMap((role) =>
    (Object.keys(PURPOSES) as Purpose[]).flatMap((purpose) =>
      (role === 'REGISTRAR' ? agencies : [null]).map((agency) => ({
        subject: 'test',
        role,
        agency,
        personalCode: role === 'CITIZEN' ? citizenCode : null,
        purpose,
        caseReference: 'TA-HN/2026/0412',
        requestId: 'test',
      })),
    ),
  );

  /** Whether the policy as enforced lets this caller have this field: the gateway's check, and the subgraphs' reserved root fields. */
  function enforcedAllows(principal: Principal, type: string, field: GraphQLField<unknown, unknown>, classification: Classification): boolean {
    const kind = type === 'Mutation' ? 'mutation' : type === 'Query' ? 'query' : null;
    try {
      if (kind === null) {
        // Nested: the classification, and a citizen's self-service refusals (gateway/citizen-self-service.ts reads the same list).
        const denied: readonly string[] = CITIZEN_SELF_SERVICE.deniedFields;
        if (principal.role === 'CITIZEN' && denied.includes(`${type}.${field.name}`)) return false;
        return allowedClassifications(principal).has(classification);
      }
      // The citizen's own code for every argument: a citizen asks only about themself.
      const args = field.args.filter((arg) => arg.type.toString().endsWith('!')).map((arg) => `${arg.name}: $v`);
      const document = parse(`${kind} ($v: PersonalCode) { ${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''} { __typename } }`);
      const operation = document.definitions[0] as OperationDefinitionNode;
      checkOperation(principal, schema, document, operation, { v: citizenCode }, { classifications, mutationOwners });
      return kind === 'mutation' || mayAskRootField(principal.role, field.name);
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === 'FORBIDDEN') return false;
      throw error;
    }
  }

  const key = (reader: { role: Role; agency?: string | null }, purpose: string) => `${reader.role}${reader.agency ? ` of ${reader.agency}` : ''} for ${purpose}`;

  it('ends every field description with the classification @classified gives it in the supergraph', () => {
    const wrong: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || isIntrospectionType(type)) continue;
      for (const field of Object.values(type.getFields())) {
        const line = parseClassificationLine(field.description);
        const declared = classifications.get(`${type.name}.${field.name}`);
        if (!declared || line?.classification !== declared) wrong.push(`${type.name}.${field.name}: ${line?.classification ?? 'no line'} vs ${declared ?? 'unclassified'}`);
        if (line && line.verb !== (type.name === 'Mutation' ? 'writable' : 'readable')) wrong.push(`${type.name}.${field.name}: ${line.verb}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('names exactly the roles and purposes (and, for writes, the agency) that the enforced policy lets read it', () => {
    const wrong: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || isIntrospectionType(type)) continue;
      for (const field of Object.values(type.getFields())) {
        const line = parseClassificationLine(field.description)!;
        const named = line.readers.flatMap((reader: Reader) => reader.purposes.map((purpose) => key(reader, purpose))).sort();
        const allowed = [
          ...new Set(
            principals
              .filter((principal) => enforcedAllows(principal, type.name, field, line.classification as Classification))
              .map((principal) => key({ role: principal.role, agency: type.name === 'Mutation' ? principal.agency : null }, principal.purpose!)),
          ),
        ].sort();
        if (named.join('; ') !== allowed.join('; ')) wrong.push(`${type.name}.${field.name}: says ${named.join('; ') || 'no one'}; enforced ${allowed.join('; ') || 'no one'}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('reads, for a frontend developer, as the policy means it', () => {
    const lineOf = (type: string, field: string) => (schema.getType(type) as { getFields(): Record<string, { description?: string | null }> }).getFields()[field].description!.split('\n').at(-1);
    expect(lineOf('Citizen', 'religion')).toBe(
      'Classification: SENSITIVE — readable by REGISTRAR for CIVIL_REGISTRATION; INVESTIGATOR for POLICE_CASE or COURT_ORDER (with a case reference); CITIZEN for OWN_DATA.',
    );
    expect(lineOf('Citizen', 'fullName')).toMatch(/^Classification: BASIC_IDENTITY — readable by CLERK for SERVICE_COUNTER; REGISTRAR for /);
    // A citizen reads their own parents (by name and code: lib/access/policy.ts CITIZEN_SELF_SERVICE), not their household's members.
    expect(lineOf('Citizen', 'parents')).toMatch(/CITIZEN for OWN_DATA/);
    expect(lineOf('Household', 'members')).not.toMatch(/CITIZEN/);
    expect(lineOf('Household', 'head')).not.toMatch(/CITIZEN/);
    expect(lineOf('Query', 'citizenStatistics')).toBe('Classification: AGGREGATE — readable by ANALYST for STATISTICS.');
    expect(lineOf('Query', 'auditLog')).toBe('Classification: AUDIT — readable by AUDITOR for AUDIT.');
    expect(lineOf('Query', 'myAccessLog')).toBe('Classification: AUDIT — readable by CITIZEN for OWN_DATA.');
    expect(lineOf('Mutation', 'registerBirth')).toBe('Classification: BASIC_IDENTITY — writable by REGISTRAR of birth-registry for CIVIL_REGISTRATION.');
    expect(lineOf('PageInfo', 'endCursor')).toMatch(/^Classification: REFERENCE — readable by .*ANALYST for STATISTICS; AUDITOR for AUDIT; CITIZEN for OWN_DATA\.$/);
  });
});
