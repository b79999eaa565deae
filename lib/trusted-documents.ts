import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { CODE_ROOT } from './env';

/**
 * Trusted documents: the operations the frontends send, known ahead of time, as client manifests in the
 * format `@apollo/generate-persisted-query-manifest` writes (`apollo-persisted-query-manifest`, version 1):
 * one manifest file per frontend application, all in one folder the gateway reads (TRUSTED_DOCUMENTS_DIR).
 * An operation's `id` is what the application's client sends (Apollo Client's persisted-query link with
 * `generatePersistedQueryIdsFromManifest`: the manifest's id, by default the hex SHA-256 of `body`), and
 * `body` is the text that client would send, `__typename` added to every selection set (Apollo Client adds it
 * for its normalised cache): the gateway runs exactly that text.
 *
 * The project's own operations (operations/*.graphql) are one such application, built by `npm run documents`
 * (tools/trusted-documents-build.ts, build time only: this module is what the running gateway loads).
 */
export const OPERATIONS_DIR = path.join(CODE_ROOT, 'operations');
/** The folder of client manifests the gateway reads by default. */
export const TRUSTED_DOCUMENTS_DIR = path.join(CODE_ROOT, 'gateway', 'trusted-documents');
/** The manifest of operations/*.graphql, one application among those of the folder. */
export const OPERATIONS_MANIFEST = path.join(TRUSTED_DOCUMENTS_DIR, 'operations.json');

export type OperationType = 'query' | 'mutation' | 'subscription';

export interface TrustedDocument {
  id: string;
  name: string;
  type: OperationType;
  body: string;
}

export interface TrustedDocumentsManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: TrustedDocument[];
}

/** A trusted document as the gateway keeps it: the manifest entry and the application (file) it came from. */
export interface KnownDocument extends TrustedDocument {
  application: string;
}

export const sha256Hex = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

const HEX_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/;
/** Ids may be anything a manifest's createOperationId makes, printable and bounded. */
const ANY_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * An id as the gateway looks it up: a SHA-256 in any of its spellings (`<hex>`, `sha256:<hex>` as GraphQL over
 * HTTP's persisted documents write it, either case) becomes lowercase hex; any other id stays as it is.
 */
export function normaliseDocumentId(id: string): string {
  const hex = HEX_ID.exec(id);
  return hex ? hex[1].toLowerCase() : id;
}

export const manifestText = (manifest: TrustedDocumentsManifest) => `${JSON.stringify(manifest, null, 2)}\n`;

/** One manifest file, checked: its format, and each operation's fields, id and body (which must parse). */
export function readManifest(file: string): TrustedDocumentsManifest {
  const where = path.basename(file);
  let manifest: TrustedDocumentsManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as TrustedDocumentsManifest;
  } catch (error) {
    throw new Error(`${where}: not a readable JSON manifest (${(error as Error).message}).`);
  }
  if (manifest?.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1 || !Array.isArray(manifest.operations)) {
    throw new Error(`${where} is not a persisted-query manifest (format "apollo-persisted-query-manifest", version 1, operations).`);
  }
  for (const [index, operation] of manifest.operations.entries()) {
    const at = `${where}: operation ${index} (${typeof operation?.name === 'string' ? operation.name : 'unnamed'})`;
    if (typeof operation?.id !== 'string' || !ANY_ID.test(operation.id)) throw new Error(`${at} has no usable id (1 to 256 printable characters).`);
    if (typeof operation.name !== 'string' || typeof operation.body !== 'string' || !['query', 'mutation', 'subscription'].includes(operation.type)) {
      throw new Error(`${at} needs a name, a type (query, mutation or subscription) and a body.`);
    }
    // The generator's default id is the SHA-256 of the body; an id of that form that is not is a damaged file.
    if (HEX_ID.test(operation.id) && normaliseDocumentId(operation.id) !== sha256Hex(operation.body)) {
      throw new Error(`${at}: its id looks like a SHA-256 but is not the SHA-256 of its body.`);
    }
    try {
      parse(operation.body);
    } catch (error) {
      throw new Error(`${at}: its body does not parse (${(error as Error).message}).`);
    }
  }
  return manifest;
}

/** The manifests of a folder: every `*.json` file in it, by file name; the application is the file's name. */
export function manifestFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder of trusted-document manifests.`);
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => path.join(dir, file));
}

/**
 * Every trusted document of the folder, by (normalised) id. Applications may share an operation (same id,
 * same body); two different bodies under one id are refused, naming both files, as is a folder with none.
 */
export function loadTrustedDocuments(dir: string): Map<string, KnownDocument> {
  const byId = new Map<string, KnownDocument>();
  const files = manifestFiles(dir);
  if (files.length === 0) throw new Error(`${dir} holds no manifest (*.json): no operation could run.`);
  for (const file of files) {
    const application = path.basename(file, '.json');
    for (const operation of readManifest(file).operations) {
      const id = normaliseDocumentId(operation.id);
      const known = byId.get(id);
      if (known && known.body !== operation.body) {
        throw new Error(`The id ${operation.id} names different documents in ${known.application}.json (${known.name}) and ${application}.json (${operation.name}).`);
      }
      if (!known) byId.set(id, { ...operation, application });
    }
  }
  return byId;
}

/** The body of one of the project's own operations, as its manifest holds it: what a client sends, and what the tests and the bench send. */
export function operationBody(name: string, file = OPERATIONS_MANIFEST): string {
  const operation = readManifest(file).operations.find((o) => o.name === name);
  if (!operation) throw new Error(`${path.basename(file)} has no operation ${name}: add operations/${name}.graphql and run npm run documents.`);
  return operation.body;
}
