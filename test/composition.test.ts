import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeApiSchema, composeSupergraph, CompositionError, readSupergraphConfig, SUPERGRAPH_GRAPHQL } from '../lib/compose';
import { buildManifest, manifestText, readManifest, TRUSTED_DOCUMENTS_JSON } from '../lib/trusted-documents';

describe('the supergraph', () => {
  it('is committed exactly as the current subgraph schemas compose (run `npm run compose` after a schema change)', () => {
    expect(fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8')).toBe(composeSupergraph());
  });

  it('lists the three agencies with the routing URLs of supergraph.yaml', () => {
    expect(readSupergraphConfig().map((s) => s.name)).toEqual(['residents', 'national-id', 'birth-registry']);
    expect(fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8')).toMatch(/join__graph\(name: "national-id", url: "http:\/\/127\.0\.0\.1:4002\/graphql"\)/);
  });

  it('reports every composition error, one per line, and composes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    fs.writeFileSync(
      path.join(dir, 'a.graphql'),
      'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { a: Int }\ntype Citizen @key(fields: "personalCode") { personalCode: String! name: String! }',
    );
    fs.writeFileSync(
      path.join(dir, 'b.graphql'),
      'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { b: Int }\ntype Citizen @key(fields: "personalCode") { personalCode: Int! name: Int! }',
    );
    const entries = [
      { name: 'a', routingUrl: 'http://a/graphql', schemaFile: path.join(dir, 'a.graphql') },
      { name: 'b', routingUrl: 'http://b/graphql', schemaFile: path.join(dir, 'b.graphql') },
    ];
    expect(() => composeSupergraph(entries)).toThrow(CompositionError);
    try {
      composeSupergraph(entries);
    } catch (error) {
      const lines = (error as CompositionError).message.split('\n');
      expect(lines[0]).toBe('Composition failed:');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(lines.slice(1).every((line) => line.startsWith('  '))).toBe(true);
      expect((error as CompositionError).message).toMatch(/Citizen\.personalCode/);
    }
  });
});

describe('the trusted documents', () => {
  it('are committed exactly as operations/*.graphql build, valid against the schema (run `npm run documents` after a change)', () => {
    expect(fs.readFileSync(TRUSTED_DOCUMENTS_JSON, 'utf8')).toBe(manifestText(buildManifest(composeApiSchema())));
  });

  it('hold the frontends\' operations, each named like its file, with id sha256:<hex of its body>', () => {
    const names = readManifest().operations.map((o) => o.name);
    for (const name of ['UnifiedCitizen', 'CitizenList', 'Household', 'ByIdentityCard', 'CitizenStatistics', 'RegisterBirth', 'IssueIdentityCard', 'ReissuePersonalCode', 'RegisterPermanentResidence', 'MoveOut']) {
      expect(names).toContain(name);
    }
    expect(readManifest().operations.every((o) => /^sha256:[0-9a-f]{64}$/.test(o.id))).toBe(true);
  });

  it('refuse an operation file that is not valid against the schema, naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operations-'));
    fs.writeFileSync(path.join(dir, 'Wrong.graphql'), 'query Wrong { citizen(personalCode: "001099000001") { noSuchField } }');
    fs.writeFileSync(path.join(dir, 'Misnamed.graphql'), 'query Other { __typename }');
    expect(() => buildManifest(composeApiSchema(), dir)).toThrow(/Misnamed\.graphql: the operation is named "Other"[\s\S]*Wrong\.graphql: Cannot query field "noSuchField"/);
  });
});
