import fs from 'node:fs';
import path from 'node:path';
import { apiSchemaText } from '../tools/api-schema';
import { CompositionError } from '../tools/compose';
import { TRUSTED_DOCUMENTS_DIR } from '../lib/trusted-documents';
import { checkSchema, formatReport, readAcknowledgements, readClientOperations, RELEASED_SCHEMA } from './schema-changes';

/**
 * npm run schema:check [-- --released FILE] [--clients DIR ...]: the API schema the subgraphs compose to now
 * against the last release (scripts/schema-changes.ts). Exit 1 on an unacknowledged breaking change or a
 * client operation the new schema breaks; CI runs it through the test suite (test/schema-check.test.ts).
 */
async function main() {
  const args = process.argv.slice(2);
  const option = (name: string) => args.flatMap((arg, i) => (arg === name && args[i + 1] ? [args[i + 1]] : []));
  const released = path.resolve(option('--released')[0] ?? RELEASED_SCHEMA);
  if (!fs.existsSync(released)) throw new Error(`No released schema at ${released}: run npm run schema:release once a release is cut.`);
  const report = await checkSchema({
    released: fs.readFileSync(released, 'utf8'),
    current: apiSchemaText(),
    operations: readClientOperations([TRUSTED_DOCUMENTS_DIR, ...option('--clients').map((dir) => path.resolve(dir))]),
    acknowledgements: readAcknowledgements(),
  });
  console.log(formatReport(report));
  process.exit(report.ok ? 0 : 1);
}

main().catch((error) => {
  console.error(error instanceof CompositionError || error instanceof Error ? error.message : error);
  process.exit(1);
});
