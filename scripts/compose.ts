import fs from 'node:fs';
import { composeSupergraph, CompositionError, SUPERGRAPH_GRAPHQL } from '../lib/compose';

/** npm run compose: supergraph.yaml -> supergraph.graphql (commit the result). */
try {
  const sdl = composeSupergraph();
  const changed = !fs.existsSync(SUPERGRAPH_GRAPHQL) || fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8') !== sdl;
  if (changed) fs.writeFileSync(SUPERGRAPH_GRAPHQL, sdl);
  console.log(`supergraph.graphql ${changed ? 'written' : 'unchanged'}`);
} catch (error) {
  console.error(error instanceof CompositionError ? error.message : error);
  process.exit(1);
}
