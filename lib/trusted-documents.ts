import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, print, validate, type GraphQLSchema } from 'graphql';
import { ROOT } from './compose';

/**
 * The trusted documents: the operations the frontends send, known ahead of time. Each lives in
 * `operations/<Name>.graphql` (one named operation per file, named like the file); `npm run documents`
 * writes them, validated against the gateway's API schema, to the manifest `gateway/trusted-documents.json`
 * (committed; a test fails when it is stale). The manifest has Apollo's persisted-query manifest shape;
 * an operation's id is `sha256:` + the hex SHA-256 of its body, the document as graphql-js prints it
 * (comments and layout of the file do not matter).
 */
export const OPERATIONS_DIR = path.join(ROOT, 'operations');
export const TRUSTED_DOCUMENTS_JSON = path.join(ROOT, 'gateway', 'trusted-documents.json');

export interface TrustedDocument {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface TrustedDocumentsManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: TrustedDocument[];
}

export const sha256Hex = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
export const documentId = (body: string) => `sha256:${sha256Hex(body)}`;

/** The body of an operation file: the document as graphql-js prints it. */
export function documentBody(source: string): string {
  return print(parse(source));
}

/** The body of operations/<name>.graphql (what the tests and the bench send). */
export function operationBody(name: string, dir = OPERATIONS_DIR): string {
  return documentBody(fs.readFileSync(path.join(dir, `${name}.graphql`), 'utf8'));
}

/** Reads every operations/*.graphql; throws naming every problem (and, given the schema, every invalid document). */
export function buildManifest(schema?: GraphQLSchema, dir = OPERATIONS_DIR): TrustedDocumentsManifest {
  const problems: string[] = [];
  const operations: TrustedDocument[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort()) {
    const expected = path.basename(file, '.graphql');
    let document;
    try {
      document = parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
      continue;
    }
    const definitions = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (definitions.length !== 1 || definitions[0].kind !== Kind.OPERATION_DEFINITION) {
      problems.push(`${file}: holds ${definitions.length} operations; one per file.`);
      continue;
    }
    const operation = definitions[0];
    if (operation.name?.value !== expected) {
      problems.push(`${file}: the operation is named "${operation.name?.value ?? ''}"; name it ${expected}, like its file.`);
      continue;
    }
    if (schema) {
      for (const error of validate(schema, document)) problems.push(`${file}: ${error.message}`);
    }
    const body = print(document);
    operations.push({ id: documentId(body), name: expected, type: operation.operation, body });
  }
  if (problems.length > 0) throw new Error(`Trusted documents are invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

export const manifestText = (manifest: TrustedDocumentsManifest) => `${JSON.stringify(manifest, null, 2)}\n`;

export function readManifest(file = TRUSTED_DOCUMENTS_JSON): TrustedDocumentsManifest {
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as TrustedDocumentsManifest;
  if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1 || !Array.isArray(manifest.operations)) {
    throw new Error(`${file} is not a trusted-documents manifest (apollo-persisted-query-manifest, version 1).`);
  }
  for (const operation of manifest.operations) {
    if (operation.id !== documentId(operation.body)) throw new Error(`${file}: the id of ${operation.name} is not the SHA-256 of its body.`);
  }
  return manifest;
}
