import fs from 'node:fs';
import path from 'node:path';
import { SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { readSupergraphRoutingUrls } from '../gateway/supergraph';

/**
 * The committed supergraph with its routing URLs pointed at the bench's subgraph ports. Both gateways
 * serve this same file, so they plan over exactly the same schema; only the `@join__graph(url:)` values differ
 * from the committed one, which keeps `npm start` on its usual ports untouched.
 */
export function writeBenchSupergraph(target: string, subgraphUrls: Readonly<Record<string, string>>): string {
  let sdl = fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8');
  const committed = readSupergraphRoutingUrls(sdl);
  for (const [name, url] of Object.entries(committed)) {
    const benchUrl = subgraphUrls[name];
    if (!benchUrl) throw new Error(`supergraph.graphql routes subgraph "${name}", which the bench does not start`);
    sdl = sdl.split(`url: ${JSON.stringify(url)}`).join(`url: ${JSON.stringify(benchUrl)}`);
  }
  // Checked rather than assumed: a formatting change in the composed file would otherwise leave the old ports.
  const written = readSupergraphRoutingUrls(sdl);
  for (const [name, url] of Object.entries(subgraphUrls)) {
    if (written[name] !== url) throw new Error(`could not point subgraph "${name}" at ${url} in the bench supergraph`);
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, sdl);
  return target;
}
