import fs from 'node:fs';
import { AGENCIES } from '../lib/agencies';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph, CompositionError, readSupergraphConfig, SUPERGRAPH_GRAPHQL, type SubgraphEntry } from '../tools/compose';

describe('the supergraph', () => {
  it('is committed exactly as the current subgraph schemas compose (run `npm run compose` after a schema change)', () => {
    expect(fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8')).toBe(composeSupergraph());
  });

  it('lists every agency of lib/agencies.ts, in its order, then the statistics subgraph, with the routing URLs of supergraph.yaml', () => {
    expect(readSupergraphConfig().map((s) => s.name)).toEqual([...AGENCIES.map((a) => a.id), 'statistics']);
    expect(fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8')).toMatch(/join__graph\(name: "national-id", url: "http:\/\/127\.0\.0\.1:4002\/graphql"\)/);
  });

  it('reports every composition error, one per line, and composes nothing', () => {
    const entries = subgraphFiles({
      a: `type Query @classified(as: "BASIC_IDENTITY") { a: Int }\ntype Citizen @key(fields: "personalCode") @classified(as: "BASIC_IDENTITY") { personalCode: String! name: String! }`,
      b: `type Query @classified(as: "BASIC_IDENTITY") { b: Int }\ntype Citizen @key(fields: "personalCode") @classified(as: "BASIC_IDENTITY") { personalCode: Int! name: Int! }`,
    });
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

  describe('secure by default: a field without a classification in its own subgraph is refused', () => {
    const card = `type Query @classified(as: "BASIC_IDENTITY") { card(number: String!): Card }
type Card @classified(as: "SENSITIVE") { number: String! holder: Citizen! }`;
    const residents = `type Query @classified(as: "BASIC_IDENTITY") { citizen(personalCode: String!): Citizen }
type Citizen @key(fields: "personalCode") @classified(as: "BASIC_IDENTITY") { personalCode: String! fullName: String! }`;

    it("refuses a subgraph whose Citizen has no classification of its own, even when another subgraph's Citizen has one", () => {
      // What happened to a new agency: composition merged residents' type-level @classified into the new
      // subgraph's Citizen, so its fields looked classified in the supergraph while its own guard saw nothing.
      const entries = subgraphFiles({
        residents,
        insurance: `${card}\ntype Citizen @key(fields: "personalCode") { personalCode: String! insuranceNumber: String cards: [Card!]! }`,
      });
      expect(() => composeSupergraph(entries)).toThrow(CompositionError);
      const problems = compositionProblems(entries);
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^insurance: Citizen\.personalCode has no @classified/),
          expect.stringMatching(/^insurance: Citizen\.insuranceNumber has no @classified/),
          expect.stringMatching(/^insurance: Citizen\.cards has no @classified/),
        ]),
      );
      // Residents' and the card type's fields are classified: only the three unclassified fields are named.
      expect(problems).toHaveLength(3);
    });

    it('refuses a single unclassified field beside classified ones, and an unclassified root field', () => {
      const entries = subgraphFiles({
        residents: residents.replace('fullName: String!', 'fullName: String! @classified(as: "BASIC_IDENTITY")').replace(' @classified(as: "BASIC_IDENTITY") { personalCode', ' { personalCode'),
        insurance: `type Query { card(number: String!): Card @classified(as: "SENSITIVE") cardCount: Int }
type Card @classified(as: "SENSITIVE") { number: String! }`,
      });
      expect(compositionProblems(entries)).toEqual([
        expect.stringMatching(/^residents: Citizen\.personalCode has no @classified/),
        expect.stringMatching(/^insurance: Query\.cardCount has no @classified/),
      ]);
    });

    it('composes once every field is classified, on the field or on its type', () => {
      const entries = subgraphFiles({
        residents,
        insurance: `${card}\ntype Citizen @key(fields: "personalCode") @classified(as: "BASIC_IDENTITY") { personalCode: String! insuranceNumber: String @classified(as: "SENSITIVE") }`,
      });
      expect(composeSupergraph(entries)).toMatch(/type Card/);
    });

    it('refuses a classification that does not exist', () => {
      const entries = subgraphFiles({ residents, insurance: card.replace('"SENSITIVE"', '"HEALTH"') });
      expect(() => composeSupergraph(entries)).toThrow(/unknown classification: HEALTH/);
    });
  });
});

const HEADER = `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
  @link(url: "https://specs.citizen-graph.example/access/v1.0", import: ["@classified"])
  @composeDirective(name: "@classified")
directive @classified(as: String!) on OBJECT | FIELD_DEFINITION
`;

/** Writes each subgraph's SDL (with the federation and @classified header) to a temporary file: supergraph.yaml's entries. */
function subgraphFiles(schemas: Record<string, string>): SubgraphEntry[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-'));
  return Object.entries(schemas).map(([name, sdl]) => {
    const schemaFile = path.join(dir, `${name}.graphql`);
    fs.writeFileSync(schemaFile, `${HEADER}\n${sdl}\n`);
    return { name, routingUrl: `http://${name}/graphql`, schemaFile };
  });
}

function compositionProblems(entries: SubgraphEntry[]): string[] {
  try {
    composeSupergraph(entries);
  } catch (error) {
    if (error instanceof CompositionError) return error.problems;
    throw error;
  }
  return [];
}
