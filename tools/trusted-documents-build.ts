import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, validate, type GraphQLSchema } from 'graphql';
import { generatePersistedQueryManifest } from '@apollo/generate-persisted-query-manifest';
import { OPERATIONS_DIR, type TrustedDocumentsManifest } from '../lib/trusted-documents';

/**
 * Build time only (`npm run documents`, and the test that the committed manifest is current): the manifest
 * of operations/*.graphql, made by `@apollo/generate-persisted-query-manifest` itself, so its bodies (with
 * `__typename` added, top-level definitions sorted) and ids are exactly those of Apollo Client 4 sending
 * these operations. The project's own rules come first, each problem named at once: one named operation per
 * file, named like the file, valid against the API schema.
 */
export async function buildOperationsManifest(schema: GraphQLSchema, dir = OPERATIONS_DIR): Promise<TrustedDocumentsManifest> {
  const problems: string[] = [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  for (const file of files) {
    const expected = path.basename(file, '.graphql');
    let document;
    try {
      document = parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
      continue;
    }
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (operations.length !== 1 || operations[0].kind !== Kind.OPERATION_DEFINITION) {
      problems.push(`${file}: holds ${operations.length} operations; one per file.`);
      continue;
    }
    if (operations[0].name?.value !== expected) {
      problems.push(`${file}: the operation is named "${operations[0].name?.value ?? ''}"; name it ${expected}, like its file.`);
      continue;
    }
    for (const error of validate(schema, document)) problems.push(`${file}: ${error.message}`);
  }
  if (problems.length > 0) throw new Error(`Trusted documents are invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  // Only valid files reach the generator (it ends the process on a problem it finds itself).
  const manifest = await generatePersistedQueryManifest({ documents: files.map((file) => path.join(dir, file)) }, undefined);
  return manifest as TrustedDocumentsManifest;
}
