import { apiSchemaText, API_SCHEMA_GRAPHQL } from '../tools/api-schema';
import { compose, CompositionError, SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { writeGenerated } from './generated-file';

/**
 * npm run compose: supergraph.yaml -> supergraph.graphql, and the published API schema that follows from it
 * (schema/citizen-graph.graphql, exactly as `npm run schema` writes it). Commit both.
 */
try {
  const composition = compose();
  writeGenerated(SUPERGRAPH_GRAPHQL, composition.supergraphSdl);
  writeGenerated(API_SCHEMA_GRAPHQL, apiSchemaText(composition));
} catch (error) {
  console.error(error instanceof CompositionError ? error.message : error);
  process.exit(1);
}
