import fs from 'node:fs';
import path from 'node:path';
import { parse, type GraphQLSchema } from 'graphql';
import YAML from 'yaml';
import { composeServices } from '@apollo/composition';
import { unclassifiedFields } from './composition-classification';

/**
 * Composition in JavaScript from supergraph.yaml (rover's format). Errors come back all at once, one
 * indented line each; a partly composed supergraph is never written or served.
 */
export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  schemaFile: string;
}

export const ROOT = path.resolve(__dirname, '..');
export const SUPERGRAPH_YAML = path.join(ROOT, 'supergraph.yaml');
export const SUPERGRAPH_GRAPHQL = path.join(ROOT, 'supergraph.graphql');

export class CompositionError extends Error {
  constructor(readonly problems: string[]) {
    super(`Composition failed:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'CompositionError';
  }
}

export function readSupergraphConfig(file = SUPERGRAPH_YAML): SubgraphEntry[] {
  const config = YAML.parse(fs.readFileSync(file, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  const entries = Object.entries(config.subgraphs ?? {});
  if (entries.length === 0) throw new CompositionError([`${file} lists no subgraphs.`]);
  return entries.map(([name, entry]) => {
    if (!entry.routing_url || !entry.schema?.file) {
      throw new CompositionError([`subgraph ${name}: routing_url and schema.file are required.`]);
    }
    return { name, routingUrl: entry.routing_url, schemaFile: path.resolve(path.dirname(file), entry.schema.file) };
  });
}

/** One composition of the subgraphs: the supergraph's SDL and its API schema. */
export interface Composition {
  supergraphSdl: string;
  /** The API schema clients see (the supergraph without federation machinery or @inaccessible elements). */
  apiSchema: GraphQLSchema;
  /** Composition's hints (e.g. INCONSISTENT_DESCRIPTION): composed anyway, but worth fixing. */
  hints: { code: string; message: string }[];
}

export function compose(entries = readSupergraphConfig()): Composition {
  const services = entries.map((entry) => ({ name: entry.name, url: entry.routingUrl, typeDefs: parse(fs.readFileSync(entry.schemaFile, 'utf8')) }));
  // A field nobody classified would be served unchecked and unaudited by its subgraph: refused here, so that
  // npm run compose and the suite fail before such a schema is ever served (tools/composition-classification.ts).
  const unclassified = services.flatMap((service) => unclassifiedFields(service.name, service.typeDefs));
  if (unclassified.length > 0) throw new CompositionError(unclassified);
  const result = composeServices(services);
  if (result.errors) {
    throw new CompositionError(result.errors.map((error) => error.message.replace(/\n/g, ' ')));
  }
  return {
    supergraphSdl: `${result.supergraphSdl.trimEnd()}\n`,
    apiSchema: result.schema.toAPISchema().toGraphQLJSSchema(),
    hints: result.hints.map((hint) => ({ code: hint.definition.code, message: hint.message })),
  };
}

export const composeSupergraph = (entries = readSupergraphConfig()): string => compose(entries).supergraphSdl;

export const composeApiSchema = (entries = readSupergraphConfig()): GraphQLSchema => compose(entries).apiSchema;
