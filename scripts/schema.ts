import { apiSchemaText, API_SCHEMA_GRAPHQL } from '../tools/api-schema';
import { CompositionError } from '../tools/compose';
import { writeGenerated } from './generated-file';

/**
 * npm run schema: the subgraphs' schema.graphql and the access policy -> schema/citizen-graph.graphql, the API
 * schema frontends build against (commit it; a test fails when it is stale).
 */
try {
  writeGenerated(API_SCHEMA_GRAPHQL, apiSchemaText());
} catch (error) {
  console.error(error instanceof CompositionError ? error.message : error);
  process.exit(1);
}
