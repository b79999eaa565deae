import fs from 'node:fs';
import path from 'node:path';
import { composeApiSchema } from '../lib/compose';
import { buildManifest, manifestText, TRUSTED_DOCUMENTS_JSON } from '../lib/trusted-documents';

/** npm run documents: operations/*.graphql -> gateway/trusted-documents.json (commit the result). */
try {
  const text = manifestText(buildManifest(composeApiSchema()));
  const changed = !fs.existsSync(TRUSTED_DOCUMENTS_JSON) || fs.readFileSync(TRUSTED_DOCUMENTS_JSON, 'utf8') !== text;
  if (changed) fs.writeFileSync(TRUSTED_DOCUMENTS_JSON, text);
  console.log(`${path.relative(process.cwd(), TRUSTED_DOCUMENTS_JSON)} ${changed ? 'written' : 'unchanged'}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
