import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layout's promise to a newcomer: `lib/` is what the running gateway and subgraphs import (type-only
 * imports included), and development tooling (demo data, the embedded PostgreSQL, the migration runner,
 * composition, key making, the cluster and its balancer) lives in `tools/`, which no service imports.
 * The production jobs (scripts/migrate.ts, scripts/audit-verify.ts) may use tools: test/runtime-dependencies
 * checks which packages they pull in.
 */
const root = path.resolve(__dirname, '..');

function serviceEntryPoints(): string[] {
  const subgraphs = fs.readdirSync(path.join(root, 'subgraphs')).filter((name) => fs.existsSync(path.join(root, 'subgraphs', name, 'index.ts')));
  return ['gateway/index.ts', ...subgraphs.map((name) => `subgraphs/${name}/index.ts`)];
}

/** The project file a relative specifier names, or null for a package or a generated file outside the graph. */
function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = path.join(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(path.join(root, candidate))) return path.normalize(candidate);
  }
  return null;
}

/** Every project module the entry points reach through import, export-from, require and import(), types included. */
function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(root, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      const target = resolve(file, fileName);
      if (target && !target.includes('/generated/')) queue.push(target);
    }
  }
  return seen;
}

function typescriptFilesUnder(folder: string): string[] {
  return fs.readdirSync(path.join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(folder, entry.name);
    if (entry.isDirectory()) return typescriptFilesUnder(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

const services = reachable(serviceEntryPoints());

it('finds the gateway and every subgraph, and follows their imports through lib/', () => {
  expect(serviceEntryPoints()).toEqual(expect.arrayContaining(['gateway/index.ts', 'subgraphs/residents/index.ts']));
  expect(services.has('lib/access/policy.ts')).toBe(true);
  // Type-only imports count: the audit entry's shape is part of what the services run on.
  expect(services.has('lib/access/audit-entry.ts')).toBe(true);
});

it('keeps in lib/ only what the running services import', () => {
  const notImported = typescriptFilesUnder('lib').filter((file) => !services.has(file));
  expect({ notImported, hint: 'development tooling belongs in tools/' }).toEqual({ notImported: [], hint: 'development tooling belongs in tools/' });
});

it('lets no running service import development tooling', () => {
  const tooling = [...services].filter((file) => file.startsWith('tools/'));
  expect(tooling).toEqual([]);
});
