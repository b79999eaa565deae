import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph, CompositionError, readSupergraphConfig, SUPERGRAPH_GRAPHQL } from '../lib/compose';

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
