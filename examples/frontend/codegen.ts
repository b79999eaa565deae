import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations for a frontend, from the published API schema (schema/citizen-graph.graphql) and the
 * operations it sends (here the project's own, operations/*.graphql). Run from the repository's root:
 *
 *   npx graphql-codegen --config examples/frontend/codegen.ts
 *
 * A frontend in its own repository copies this file, points `schema` at its copy of citizen-graph.graphql
 * and `documents` at its operations, and keeps the rest.
 */
const config: CodegenConfig = {
  schema: 'schema/citizen-graph.graphql',
  documents: ['operations/*.graphql'],
  // A document the schema does not have fails the build, as it would fail at the gateway.
  ignoreNoDocuments: false,
  generates: {
    'examples/frontend/src/gql/': {
      preset: 'client',
      config: {
        // What the gateway sends for the custom scalars: JSON strings ("001200342514", "2000-09-15").
        scalars: { PersonalCode: 'string', Date: 'string' },
        // An unknown scalar is a build error, never `any`.
        strictScalars: true,
        // Enums as unions of string literals: what arrives over JSON, no runtime objects.
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
