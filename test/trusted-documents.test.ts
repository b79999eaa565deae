import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import { ApolloClient, ApolloLink, InMemoryCache, Observable } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { generatePersistedQueryIdsAtRuntime } from '@apollo/persisted-query-lists';
import { composeApiSchema } from '../tools/compose';
import { REPOSITORY_ROOT } from '../lib/env';
import {
  loadTrustedDocuments,
  manifestText,
  normaliseDocumentId,
  OPERATIONS_DIR,
  OPERATIONS_MANIFEST,
  readManifest,
  sha256Hex,
  TRUSTED_DOCUMENTS_DIR,
  type TrustedDocumentsManifest,
} from '../lib/trusted-documents';
import { buildOperationsManifest } from '../tools/trusted-documents-build';
import { readConfig } from '../gateway/config';

/**
 * Trusted documents as client manifests (`@apollo/generate-persisted-query-manifest`'s format), one per frontend
 * application in a folder: the project's own (operations/) is built by the generator itself and must be current;
 * its ids are those Apollo Client computes from the text it sends; the folder is read strictly.
 */
const manifest = readManifest(OPERATIONS_MANIFEST);

describe("the manifest of the project's own operations", () => {
  it('is committed exactly as operations/*.graphql build (run `npm run documents` after changing an operation)', async () => {
    expect(fs.readFileSync(OPERATIONS_MANIFEST, 'utf8')).toBe(manifestText(await buildOperationsManifest(composeApiSchema())));
  });

  it('holds every operation file, under its name, in the generator format', () => {
    const files = fs.readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).map((f) => path.basename(f, '.graphql')).sort();
    expect(manifest.operations.map((o) => o.name).sort()).toEqual(files);
    expect(manifest).toMatchObject({ format: 'apollo-persisted-query-manifest', version: 1 });
    for (const operation of manifest.operations) {
      expect(operation.id).toBe(sha256Hex(operation.body));
      // Apollo Client's normalised cache needs __typename in every selection set; the text the gateway runs has it.
      expect(operation.body).toMatch(/__typename/);
    }
  });

  it('gives each operation the id that Apollo Client 4 computes from the text it sends', async () => {
    // A real client, its persisted-query link hashing at run time what it is about to send (as a client
    // without a manifest would), and a last link that only records what would go over the wire.
    const sent: { name: string; hash: string }[] = [];
    const record = new ApolloLink((operation) => {
      const persisted = operation.extensions.persistedQuery as { sha256Hash: string };
      sent.push({ name: operation.operationName!, hash: persisted.sha256Hash });
      return new Observable((observer) => {
        observer.next({ data: null });
        observer.complete();
      });
    });
    const hashing = new PersistedQueryLink(generatePersistedQueryIdsAtRuntime({ sha256: sha256Hex }));
    const client = new ApolloClient({ cache: new InMemoryCache(), link: ApolloLink.from([hashing, record]) });
    for (const file of fs.readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql'))) {
      const document = parse(fs.readFileSync(path.join(OPERATIONS_DIR, file), 'utf8'));
      const kind = document.definitions[0].kind === 'OperationDefinition' ? document.definitions[0].operation : 'query';
      if (kind === 'mutation') await client.mutate({ mutation: document, fetchPolicy: 'no-cache' });
      else await client.query({ query: document, fetchPolicy: 'no-cache' });
    }
    expect(sent.length).toBe(manifest.operations.length);
    for (const { name, hash } of sent) expect(hash).toBe(manifest.operations.find((o) => o.name === name)!.id);
  });

  it('refuses operation files that break the rules or the schema, naming each file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operations-'));
    fs.writeFileSync(path.join(dir, 'Wrong.graphql'), 'query Wrong { citizen(personalCode: "001099000001") { noSuchField } }');
    fs.writeFileSync(path.join(dir, 'Misnamed.graphql'), 'query Other { __typename }');
    fs.writeFileSync(path.join(dir, 'Two.graphql'), 'query Two { __typename } query Three { __typename }');
    await expect(buildOperationsManifest(composeApiSchema(), dir)).rejects.toThrow(
      /Misnamed\.graphql: the operation is named "Other"[\s\S]*Two\.graphql: holds 2 operations[\s\S]*Wrong\.graphql: Cannot query field "noSuchField"/,
    );
  });
});

describe('the folder of client manifests the gateway reads', () => {
  const body = 'query Mine {\n  __typename\n}';
  const entry = (over: Partial<TrustedDocumentsManifest['operations'][number]> = {}) => ({ id: sha256Hex(body), name: 'Mine', type: 'query' as const, body, ...over });
  const folder = (files: Record<string, unknown>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifests-'));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    return dir;
  };
  const pq = (...operations: unknown[]) => ({ format: 'apollo-persisted-query-manifest', version: 1, operations });

  it('is the default TRUSTED_DOCUMENTS_DIR, and holds the project manifest', () => {
    expect(readConfig({}).trustedDocumentsDir).toBe(TRUSTED_DOCUMENTS_DIR);
    expect(readConfig({ TRUSTED_DOCUMENTS_DIR: '/srv/manifests' }).trustedDocumentsDir).toBe('/srv/manifests');
    expect(loadTrustedDocuments(TRUSTED_DOCUMENTS_DIR).get(manifest.operations[0].id)?.application).toBe('operations');
  });

  it('refuses the single-manifest setting of earlier versions rather than ignore it', () => {
    expect(() => readConfig({ TRUSTED_DOCUMENTS_PATH: 'gateway/trusted-documents.json' })).toThrow(/TRUSTED_DOCUMENTS_PATH is no longer read.*TRUSTED_DOCUMENTS_DIR/);
  });

  it('reads one manifest per application; applications may share an operation, and custom ids are kept as they are', () => {
    const dir = folder({
      'counter-app.json': pq(entry()),
      'citizen-portal.json': pq(entry(), entry({ id: 'portal:Mine:v2', name: 'MineAgain', body: 'query MineAgain {\n  __typename\n}' })),
      'README.md': 'not a manifest',
    });
    const documents = loadTrustedDocuments(dir);
    expect([...documents.keys()].sort()).toEqual([sha256Hex(body), 'portal:Mine:v2'].sort());
    expect(documents.get('portal:Mine:v2')).toMatchObject({ name: 'MineAgain', application: 'citizen-portal' });
  });

  it.each([
    ['one id for two different texts', { 'a.json': pq(entry({ id: 'same' })), 'b.json': pq(entry({ id: 'same', body: 'query Other {\n  __typename\n}' })) }, /id same names different documents in a\.json \(Mine\) and b\.json \(Mine\)/],
    ['a SHA-256 id that is not that of its body', { 'a.json': pq(entry({ id: 'f'.repeat(64) })) }, /a\.json: operation 0 \(Mine\).*not the SHA-256 of its body/],
    ['a body that does not parse', { 'a.json': pq(entry({ id: 'x', body: 'query {' })) }, /does not parse/],
    ['another JSON file', { 'a.json': { operations: [] } }, /a\.json is not a persisted-query manifest/],
    ['broken JSON', { 'a.json': '{' }, /a\.json: not a readable JSON manifest/],
    ['an operation without a type', { 'a.json': pq({ id: 'x', name: 'X', body }) }, /needs a name, a type/],
    ['an id of 300 characters', { 'a.json': pq(entry({ id: 'x'.repeat(300) })) }, /no usable id/],
    ['no manifest at all', {}, /holds no manifest/],
  ])('refuses a folder with %s, naming the file', (_what, files, message) => {
    expect(() => loadTrustedDocuments(folder(files))).toThrow(message);
  });

  it('looks a SHA-256 id up in any of its spellings', () => {
    const hex = 'AB'.repeat(32);
    expect(normaliseDocumentId(hex)).toBe('ab'.repeat(32));
    expect(normaliseDocumentId(`sha256:${hex}`)).toBe('ab'.repeat(32));
    expect(normaliseDocumentId('portal:Mine:v2')).toBe('portal:Mine:v2');
  });
});

describe('what the running gateway loads', () => {
  it('leaves the build-time code out: no composition of ours, no manifest generator, no client', () => {
    const script = `require('./gateway/server.ts'); require('./gateway/config.ts');
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify(['tools/compose.ts', 'tools/trusted-documents-build.ts', '@apollo/generate-persisted-query-manifest', '@apollo/client/'].filter((m) => loaded.some((file) => file.includes(m)))));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPOSITORY_ROOT, encoding: 'utf8' });
    expect(JSON.parse(output.trim().split('\n').pop()!)).toEqual([]);
  });
});
