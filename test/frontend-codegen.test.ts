import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import frontendCodegen from '../examples/frontend/codegen';
import { API_SCHEMA_GRAPHQL } from '../tools/api-schema';
import { ROOT } from '../tools/compose';

/**
 * README "Building a frontend", proven: graphql-codegen, run as the README says, types the project's
 * operations from the published schema file, and a frontend's code using them with Apollo Client 4
 * type-checks under a bundler's TypeScript settings.
 */
const EXAMPLE = path.join(ROOT, 'examples', 'frontend');
const GENERATED = path.join(EXAMPLE, 'src', 'gql', 'graphql.ts');
const OPERATIONS = path.join(ROOT, 'operations');

/** Every operation of operations/*.graphql: its name and the suffix codegen gives its types (Query, Mutation). */
const operations = fs
  .readdirSync(OPERATIONS)
  .filter((file) => file.endsWith('.graphql'))
  .flatMap((file) =>
    parse(fs.readFileSync(path.join(OPERATIONS, file), 'utf8'))
      .definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
      .map((operation) => ({ name: operation.name!.value, suffix: operation.operation === 'query' ? 'Query' : operation.operation === 'mutation' ? 'Mutation' : 'Subscription' })),
  );

/** Type-checks the example with its own tsconfig: the files it compiled, and the diagnostics, formatted. */
function typeCheck(): { files: string[]; diagnostics: string[] } {
  const configFile = path.join(EXAMPLE, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, EXAMPLE);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return {
    files: parsed.fileNames.map((file) => path.relative(EXAMPLE, file)),
    diagnostics: diagnostics.map((d) => `${d.file ? path.relative(ROOT, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`),
  };
}

/**
 * graphql-codegen's command line, from the repository's root, as a developer runs it: without jest's
 * NODE_ENV=test, under which it prints no errors.
 */
const { NODE_ENV: _jest, ...developerEnv } = process.env;
const codegen = (args: string[]) =>
  promisify(execFile)(path.join(ROOT, 'node_modules', '.bin', 'graphql-codegen'), args, { cwd: ROOT, env: { ...developerEnv, NO_COLOR: '1' } });

beforeAll(async () => {
  fs.rmSync(path.dirname(GENERATED), { recursive: true, force: true });
  // Exactly the README's command.
  await codegen(['--config', 'examples/frontend/codegen.ts']);
}, 120_000);

describe('graphql-codegen from the published schema', () => {
  it('reads the published schema file and the operations the gateway trusts', () => {
    expect(path.resolve(ROOT, String(frontendCodegen.schema))).toBe(API_SCHEMA_GRAPHQL);
    expect(frontendCodegen.documents).toEqual(['operations/*.graphql']);
    expect(operations.length).toBeGreaterThanOrEqual(20);
  });

  it("names every operation's result, variables and typed document", () => {
    const generated = fs.readFileSync(GENERATED, 'utf8');
    const missing = operations.flatMap(({ name, suffix }) =>
      [
        `export type ${name}${suffix} = `,
        `export type ${name}${suffix}Variables = `,
        `export const ${name}Document = `,
        `as unknown as DocumentNode<${name}${suffix}, ${name}${suffix}Variables>;`,
      ].filter((text) => !generated.includes(text)),
    );
    expect(missing).toEqual([]);
  });

  it("type-checks with the example's Apollo Client code, with the types the schema promises", () => {
    // Assertions on the generated types, compiled with the example (an error here is a diagnostic); beside the
    // generated code (a folder git ignores), so that they resolve packages as the example does.
    const checks = path.join(path.dirname(GENERATED), 'type-checks.ts');
    const generated = './graphql';
    fs.writeFileSync(
      checks,
      [
        `import type * as G from ${JSON.stringify(generated)};`,
        `import type { TypedDocumentNode } from '@graphql-typed-document-node/core';`,
        'type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
        'type Citizen = NonNullable<G.UnifiedCitizenQuery["citizen"]>;',
        'export const name: Equal<Citizen["fullName"], string> = true;',
        'export const sex: Equal<Citizen["sex"], "MALE" | "FEMALE"> = true;',
        'export const born: Equal<Citizen["dateOfBirth"], string> = true;',
        'export const religion: Equal<Citizen["religion"], string | null> = true;',
        // Another agency's field is nullable: a frontend must handle that agency being down.
        'export const card: null extends Citizen["identityCard"] ? true : false = true;',
        'export const code: Equal<G.UnifiedCitizenQueryVariables["code"], string> = true;',
        `export const document: typeof import(${JSON.stringify(generated)}).UnifiedCitizenDocument extends TypedDocumentNode<G.UnifiedCitizenQuery, G.UnifiedCitizenQueryVariables> ? true : false = true;`,
        // The next line must not compile (a field the operation does not select): the directive says so.
        '// @ts-expect-error',
        'export type NotSelected = Citizen["noSuchField"];',
        ...operations.map(({ name, suffix }) => `export type ${name}Types = [G.${name}${suffix}, G.${name}${suffix}Variables];`),
      ].join('\n'),
    );
    const { files, diagnostics } = typeCheck();
    expect(files).toEqual(expect.arrayContaining(['src/citizen-view.ts', 'src/gql/graphql.ts', 'src/gql/type-checks.ts']));
    expect(diagnostics).toEqual([]);
  });

  it('refuses an operation on a field clients cannot query (@inaccessible), as the gateway would', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontend-ops-'));
    fs.writeFileSync(path.join(dir, 'Sneaky.graphql'), 'mutation Sneaky($input: CitizenAtBirthInput!) { createCitizenAtBirth(input: $input) { personalCode } }');
    // The example's settings, over this operation only (the CLI reads a JSON configuration as well).
    const config = { ...frontendCodegen, documents: [path.join(dir, '*.graphql')], generates: { [path.join(dir, 'gql/')]: Object.values(frontendCodegen.generates)[0] } };
    fs.writeFileSync(path.join(dir, 'codegen.json'), JSON.stringify(config));
    const failure = await codegen(['--config', path.join(dir, 'codegen.json')]).then(
      () => null,
      (error: { code?: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(`${failure?.stdout}${failure?.stderr}`).toMatch(/Cannot query field "createCitizenAtBirth" on type "Mutation"/);
    expect(fs.existsSync(path.join(dir, 'gql'))).toBe(false);
  }, 120_000);
});
