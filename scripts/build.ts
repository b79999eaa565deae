import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * npm run build: the production build in dist/, which mirrors the repository so that every path the code
 * finds from its own folder (`__dirname`) holds there too. tsc compiles the production processes
 * (tsconfig.build.json), then the files they read at run time are copied beside the JavaScript. Production
 * then needs only dist/, package.json and package-lock.json, installed with `npm ci --omit=dev --omit=optional`
 * (README, "Building and running in production").
 */
const root = path.resolve(__dirname, '..');
const BUILD_DIR = path.join(root, 'dist');

/**
 * What the production processes read at run time besides their JavaScript, as paths from the repository's
 * folder (`*` matches within one folder, a final `**` everything below). Each must match something.
 */
const RUNTIME_FILES = [
  'supergraph.graphql', // the gateway's SUPERGRAPH_PATH by default
  'gateway/trusted-documents/*.json', // the gateway's TRUSTED_DOCUMENTS_DIR by default
  'gateway/ide/*', // the IDE's page and its bootstrap script (gateway/ide.ts)
  'gateway/ide/examples/*.graphql', // the IDE's saved analyst examples (gateway/ide-examples.ts)
  'gateway/statistics-page/*', // the statistics page and its script (gateway/statistics-page.ts)
  'lib/access/access-policy.yaml', // the access policy (lib/access/policy-file.ts)
  'operations/*.graphql', // the IDE's examples (gateway/ide-examples.ts)
  'subgraphs/*/schema.graphql', // each subgraph's schema (lib/subgraph-server.ts, lib/agency-subgraph.ts)
  'prisma/*/migrations/**', // the SQL that dist/scripts/migrate.js applies (lib/agencies.ts)
] as const;

/** The files a pattern of RUNTIME_FILES names, relative to `from`. */
function matchFiles(from: string, pattern: string): string[] {
  const expand = (dir: string, segments: string[]): string[] => {
    const [segment, ...rest] = segments;
    if (segment === '**') return listAll(dir);
    const matches = segment.includes('*') ? fs.readdirSync(path.join(from, dir)).filter((name) => wildcard(segment).test(name)) : [segment];
    return matches.flatMap((name) => {
      const relative = path.join(dir, name);
      const absolute = path.join(from, relative);
      if (!fs.existsSync(absolute)) return [];
      if (rest.length === 0) return fs.statSync(absolute).isFile() ? [relative] : [];
      return fs.statSync(absolute).isDirectory() ? expand(relative, rest) : [];
    });
  };
  const listAll = (dir: string): string[] =>
    fs.readdirSync(path.join(from, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.join(dir, entry.name);
      return entry.isDirectory() ? listAll(relative) : [relative];
    });
  return expand('', pattern.split('/')).sort();
}

const wildcard = (segment: string) => new RegExp(`^${segment.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);

function build() {
  fs.rmSync(BUILD_DIR, { recursive: true, force: true });
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  let copied = 0;
  for (const pattern of RUNTIME_FILES) {
    const files = matchFiles(root, pattern);
    if (files.length === 0) throw new Error(`nothing matches ${pattern} (scripts/build.ts RUNTIME_FILES)`);
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(BUILD_DIR, file)), { recursive: true });
      fs.copyFileSync(path.join(root, file), path.join(BUILD_DIR, file));
      copied++;
    }
  }
  console.log(`built ${path.relative(process.cwd(), BUILD_DIR) || '.'}/: the production processes compiled, and ${copied} files they read at run time`);
}

try {
  build();
} catch (error) {
  console.error('[build] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
}
