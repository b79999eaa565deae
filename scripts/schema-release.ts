import fs from 'node:fs';
import { apiSchemaText } from '../tools/api-schema';
import { ACKNOWLEDGEMENTS_FILE, RELEASED_SCHEMA } from './schema-changes';

/**
 * npm run schema:release: when a release is cut, the API schema as it composes now becomes the one later
 * changes are checked against (schema/released.graphql), and the acknowledgements of the breaking changes it
 * contains are done with (schema/acknowledged-changes.yaml starts empty again). Commit both with the release.
 */
const RELEASED_HEADER = `# The API schema of the last release of Citizen Graph: what npm run schema:check compares the schema the
# subgraphs compose to now against. Written by npm run schema:release when a release is cut: do not edit.
`;
fs.writeFileSync(RELEASED_SCHEMA, RELEASED_HEADER + apiSchemaText().replace(/^(#.*\n)+/, ''));
fs.writeFileSync(ACKNOWLEDGEMENTS_FILE, ACKNOWLEDGEMENTS_TEMPLATE());
console.log(`Released: ${RELEASED_SCHEMA}; acknowledgements cleared.`);

function ACKNOWLEDGEMENTS_TEMPLATE(): string {
  return `# Breaking changes to the API schema since the last release (schema/released.graphql), each accepted with a
# reason. npm run schema:check (and the test suite, so CI) fails on a breaking change not listed here. The
# change is named as the check prints it: its kind and where, e.g.
#   - change: FIELD_REMOVED Citizen.legacyIdNumbers
#     reason: Replaced by identityCards { number }; every registered client moved in release 2026.12.
# npm run schema:release empties this list.
acknowledged: []
`;
}
