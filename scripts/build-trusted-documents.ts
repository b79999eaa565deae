import fs from 'node:fs';
import path from 'node:path';
import { composeApiSchema } from '../tools/compose';
import { manifestText, OPERATIONS_MANIFEST } from '../lib/trusted-documents';
import { buildOperationsManifest } from '../tools/trusted-documents-build';

/** npm run documents: operations/*.graphql -> gateway/trusted-documents/operations.json (commit the result). */
buildOperationsManifest(composeApiSchema()).then(
  (manifest) => {
    const text = manifestText(manifest);
    const changed = !fs.existsSync(OPERATIONS_MANIFEST) || fs.readFileSync(OPERATIONS_MANIFEST, 'utf8') !== text;
    if (changed) {
      fs.mkdirSync(path.dirname(OPERATIONS_MANIFEST), { recursive: true });
      fs.writeFileSync(OPERATIONS_MANIFEST, text);
    }
    console.log(`${path.relative(process.cwd(), OPERATIONS_MANIFEST)} ${changed ? 'written' : 'unchanged'}`);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
