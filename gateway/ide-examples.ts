import fs from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  typeFromAST,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { POLICY, type Purpose } from '../lib/access/policy';
import { ROLES, type Principal, type Role } from '../lib/access/principal';
import { readClassifications, readMutationOwners } from '../lib/access/schema-classification';
import { OPERATIONS_DIR } from '../lib/trusted-documents';
import { checkOperation } from './access-policy';

/**
 * The document the IDE opens with for a token: the screen of the token's role, taken from the frontends' own
 * operations (operations/*.graphql), so what a developer tries first is what the frontends send. For each role
 * and purpose of the access policy, the first of the role's screens that exists and that the policy lets that
 * caller run (checked with the gateway's own check, gateway/access-policy.ts): a clerk at a service counter
 * gets the unified view without the sensitive fields, an investigator the whole of it.
 *
 * Roles that write free-form queries (analysts) get saved examples instead: a document of the IDE's own
 * (gateway/ide/examples/, not a screen, so not a trusted document) with several named operations, which
 * GraphiQL's run button lists; every one of them must pass the same check for the caller to get it.
 */
export interface IdeExample {
  /** The operation's name (its file's), or null for the fallback. */
  name: string | null;
  /** The names of the document's operations: one for a screen, several for saved examples. */
  operations: string[];
  /** The file's text, comments included. */
  query: string;
  /** Example variables, as JSON text for the variables pane. */
  variables: string;
  /** Variables holding a personal code (a list: `list`): the IDE puts a citizen's own code, or the page's ?code=, in them. */
  personalCodeVariables: { name: string; list: boolean }[];
}

/** Each role's screens, most fitting first. Files another change adds are taken when they exist. */
export const ROLE_SCREENS: Readonly<Record<Role, readonly string[]>> = {
  CLERK: ['UnifiedCitizen', 'CounterCitizen', 'SearchCitizens'],
  REGISTRAR: ['UnifiedCitizen', 'CounterCitizen', 'BirthRegistration'],
  INVESTIGATOR: ['UnifiedCitizen', 'CounterCitizen'],
  ANALYST: ['StatisticsExamples', 'CitizenStatistics'],
  AUDITOR: ['AuditLog'],
  CITIZEN: ['MyRecord', 'MyAccessLog'],
};

/** The IDE's own saved examples, looked up after operations/. */
export const IDE_EXAMPLES_DIR = path.join(__dirname, 'ide', 'examples');

/** A seeded citizen of the default demo data (README): the example code when the page is given none. */
export const EXAMPLE_PERSONAL_CODE = '001200342514';
const PERSONAL_CODE_TYPE = 'PersonalCode';

/** Examples by "ROLE:PURPOSE", for every pair the access policy knows. */
export function ideExamples(supergraphSdl: string, operationsDir = OPERATIONS_DIR, examplesDir = IDE_EXAMPLES_DIR): Record<string, IdeExample> {
  const schema = buildSchema(supergraphSdl, { assumeValidSDL: true });
  const policy = { classifications: readClassifications(supergraphSdl), mutationOwners: readMutationOwners(supergraphSdl) };
  const examples: Record<string, IdeExample> = {};
  for (const role of ROLES) {
    const documents = ROLE_SCREENS[role].flatMap((name) => {
      const file = [operationsDir, examplesDir].map((dir) => path.join(dir, `${name}.graphql`)).find((f) => fs.existsSync(f));
      const example = file ? readExample(schema, file, name) : null;
      return example ? [example] : [];
    });
    for (const purpose of Object.keys(POLICY[role]) as Purpose[]) {
      const principal: Principal = {
        subject: 'ide:example',
        role,
        purpose,
        agency: null,
        personalCode: role === 'CITIZEN' ? EXAMPLE_PERSONAL_CODE : null,
        caseReference: 'IDE/EXAMPLE',
        requestId: 'ide-example',
      };
      const fits = documents.find(({ document, operations, example }) =>
        operations.every((operation) => {
          try {
            checkOperation(principal, schema, document, operation, JSON.parse(example.variables), policy);
            return true;
          } catch {
            return false;
          }
        }),
      );
      examples[`${role}:${purpose}`] = fits?.example ?? fallback(role, purpose);
    }
  }
  return examples;
}

function readExample(schema: GraphQLSchema, file: string, name: string) {
  if (!fs.existsSync(file)) return null;
  const query = fs.readFileSync(file, 'utf8');
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return null;
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length === 0 || operations.some((o) => o.operation !== 'query') || validate(schema, document).length > 0) return null;
  const variables: Record<string, unknown> = {};
  const personalCodeVariables: IdeExample['personalCodeVariables'] = [];
  for (const definition of operations.flatMap((o) => o.variableDefinitions ?? [])) {
    const variable = definition.variable.name.value;
    if (variable in variables) continue;
    const type = typeFromAST(schema, definition.type as never);
    if (!type) continue;
    const named = getNamedType(type);
    const list = isListType(isNonNullType(type) ? type.ofType : type);
    if (named.name === PERSONAL_CODE_TYPE) {
      personalCodeVariables.push({ name: variable, list });
      variables[variable] = list ? [EXAMPLE_PERSONAL_CODE] : EXAMPLE_PERSONAL_CODE;
    } else if (isNonNullType(type) && !definition.defaultValue) {
      // A required variable the example cannot know: an enum's first value, else a blank for the developer.
      variables[variable] = isEnumType(named) && !list ? named.getValues()[0]?.value ?? null : null;
    }
  }
  const example = { name, operations: operations.map((o) => o.name?.value ?? name), query, variables: JSON.stringify(variables, null, 2), personalCodeVariables };
  return { document, operations, example };
}

function fallback(role: Role, purpose: Purpose): IdeExample {
  return {
    name: null,
    operations: [],
    query: [
      `# No operation of operations/ fits the role ${role} acting for ${purpose} yet.`,
      '# The Docs panel (the book icon, top left) lists what the schema offers; Ctrl-Space completes as you type.',
      'query {',
      '  __typename',
      '}',
      '',
    ].join('\n'),
    variables: '{}',
    personalCodeVariables: [],
  };
}
