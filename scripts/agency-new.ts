import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AGENCIES, STATISTICS_DEFAULT_METRICS_PORT, STATISTICS_DEFAULT_PORT } from '../lib/agencies';
import { agencyManifests } from '../tools/agency-manifests';
import * as template from './agency-template';

/**
 * npm run agency:new -- <id> --title "…" [--ddl file.sql] [--holds "…"] [--vi-title "…"] [--vi-holds "…"]
 *
 * Adds an agency: its Prisma folder (schema.prisma, a first migration from the DDL given or a placeholder table,
 * the change-log tables every agency has, migration_lock.toml), a seeding hook (prisma/<id>/seed.ts), its subgraph
 * folder (schema.graphql with the federation header and @classified, config, context, server, index, resolvers,
 * loaders, models), a test (test/<id>.test.ts), and its entry in the two places that list agencies:
 * lib/agencies.ts (everything else derives from it) and supergraph.yaml (composition's input, rover's format);
 * tsconfig.build.json gets its entry point. Everything is checked before anything is written: a refused command
 * changes nothing. Then: npm run generate && npm run compose, and the agency runs under npm start.
 */
export class AgencyRefused extends Error {}

const ROOT = path.resolve(__dirname, '..');
const ID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Names a new agency may not take: services and databases of Citizen Graph's own, PostgreSQL's. */
const RESERVED = new Set(['gateway', 'audit', 'audit-verifier', 'postgres', 'template0', 'template1', 'lib', 'support', 'generated']);

export interface NewAgency {
  id: string;
  title: string;
  holds?: string;
  viTitle?: string;
  viHolds?: string;
  /** The agency's DDL as it exists (its first migration); none: a placeholder table. */
  ddl?: string;
}

export function namesOf(id: string, title: string): template.AgencyNames {
  const words = id.split('-');
  const pascal = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return { id, title, pascal, camel: pascal[0].toLowerCase() + pascal.slice(1), envPrefix: words.join('_').toUpperCase(), database: words.join('_') };
}

function checkId(id: string | undefined, root: string): string {
  if (!id) throw new AgencyRefused('Name the agency: npm run agency:new -- <id> --title "…" (an id such as health-insurance).');
  if (!ID.test(id) || id.length > 40) {
    throw new AgencyRefused(
      `"${id.slice(0, 60)}" is not an agency id: lowercase letters and digits in words joined by single hyphens, starting with a letter, at most 40 characters (e.g. health-insurance).`,
    );
  }
  if (AGENCIES.some((a) => a.id === id)) throw new AgencyRefused(`The agency "${id}" exists already (lib/agencies.ts).`);
  if (RESERVED.has(id)) throw new AgencyRefused(`"${id}" is a name Citizen Graph uses itself; choose another id.`);
  const names = namesOf(id, '');
  const clash = AGENCIES.find((a) => a.database === names.database || a.envPrefix === names.envPrefix);
  if (clash) throw new AgencyRefused(`"${id}" would share its database or variables (${names.envPrefix}_*) with ${clash.id}.`);
  for (const dir of [`subgraphs/${id}`, `prisma/${id}`, `test/${id}.test.ts`]) {
    if (fs.existsSync(path.join(root, dir))) throw new AgencyRefused(`${dir} exists already: remove it or choose another id.`);
  }
  return id;
}

function checkText(name: string, value: string | undefined, required: boolean): string | undefined {
  if (value === undefined) {
    if (required) throw new AgencyRefused(`--${name} "…" is required: how users know the agency, e.g. --${name} "Health Insurance Fund".`);
    return undefined;
  }
  const trimmed = value.trim();
  // It goes into TypeScript strings and GraphQL descriptions: one plain line.
  if (trimmed.length === 0 || trimmed.length > 100 || /[\n\r"'`\\$]/.test(trimmed)) {
    throw new AgencyRefused(`--${name} must be one line of 1 to 100 characters without quotes, backslashes or $.`);
  }
  return trimmed;
}

/** The CREATE TABLE names of a DDL, for the developer's list of tables to map. */
const tablesOf = (ddl: string) => [...ddl.matchAll(/create\s+table\s+(?:if\s+not\s+exists\s+)?("?[\w.]+"?)/gi)].map((m) => m[1].replace(/"/g, ''));

/** The header, Citizen's description and personalCode's, as the national-id subgraph declares them (the same in every subgraph). */
function sharedSchemaText(root: string): template.SharedSchemaText {
  const schema = fs.readFileSync(path.join(root, 'subgraphs/national-id/schema.graphql'), 'utf8');
  const header = /^[\s\S]*?\nscalar Date\n/.exec(schema)?.[0];
  const citizenDescription = /("""[^"]*""")\s*\ntype Citizen @key/.exec(schema)?.[1];
  const personalCodeDescription = /type Citizen @key[^{]*\{\n( *"""[^"]*""")\s*\n\s*personalCode: PersonalCode!/.exec(schema)?.[1];
  if (!header || !citizenDescription || !personalCodeDescription) throw new Error('subgraphs/national-id/schema.graphql no longer has the shape agency:new copies its header from.');
  return { header, citizenDescription, personalCodeDescription };
}

/** The change-log tables every agency database has (lib/change-log.ts, lib/audit/outbox.ts), as national-id's migrations create them. */
function changeLogMigration(root: string): string {
  const dir = path.join(root, 'prisma/national-id/migrations');
  return ['20261127100000_change_log', '20261203000000_change_log_outbox'].map((m) => fs.readFileSync(path.join(dir, m, 'migration.sql'), 'utf8').trimEnd()).join('\n\n') + '\n';
}

const stamp = (date: Date) => date.toISOString().replace(/\D/g, '').slice(0, 14);

/** Every file to write and every file to change, computed before anything is written. */
export function planAgency(input: NewAgency, root = ROOT, now = new Date()): Map<string, string> {
  const id = checkId(input.id, root);
  const title = checkText('title', input.title, true)!;
  const holds = checkText('holds', input.holds, false) ?? 'its records';
  const viTitle = checkText('vi-title', input.viTitle, false) ?? title;
  const viHolds = checkText('vi-holds', input.viHolds, false) ?? holds;
  if (input.ddl !== undefined && input.ddl.trim().length === 0) throw new AgencyRefused('The DDL file is empty.');
  const n = namesOf(id, title);
  const o = { placeholder: input.ddl === undefined };
  const files = new Map<string, string>();

  const init = stamp(now);
  const changeLog = stamp(new Date(now.getTime() + 1000));
  files.set(`prisma/${id}/schema.prisma`, template.prismaSchema(n, o, input.ddl ? tablesOf(input.ddl) : []));
  files.set(`prisma/${id}/migrations/${init}_init/migration.sql`, input.ddl ?? template.placeholderMigration(n));
  files.set(`prisma/${id}/migrations/${changeLog}_change_log/migration.sql`, changeLogMigration(root));
  files.set(`prisma/${id}/migrations/migration_lock.toml`, template.MIGRATION_LOCK);
  files.set(`prisma/${id}/seed.ts`, template.seedHook(n, o));
  files.set(`subgraphs/${id}/schema.graphql`, template.subgraphSchema(n, o, sharedSchemaText(root)));
  files.set(`subgraphs/${id}/config.ts`, template.configModule(n));
  files.set(`subgraphs/${id}/context.ts`, template.contextModule(n));
  files.set(`subgraphs/${id}/server.ts`, template.serverModule(n, o));
  files.set(`subgraphs/${id}/index.ts`, template.indexModule(n));
  files.set(`subgraphs/${id}/loaders.ts`, template.loadersModule(n, o));
  files.set(`subgraphs/${id}/models.ts`, template.modelsModule(n, o));
  files.set(`subgraphs/${id}/resolvers.ts`, template.resolversModule(n, o));
  files.set(`test/${id}.test.ts`, template.testModule(n, o));

  // lib/agencies.ts: the id in the union, the entry at the end of AGENCIES, the next free ports.
  const agenciesFile = fs.readFileSync(path.join(root, 'lib/agencies.ts'), 'utf8');
  const union = /(\n {2}id: '[a-z0-9-]+'(?: \| '[a-z0-9-]+')*);/.exec(agenciesFile);
  const listEnd = agenciesFile.indexOf('\n];', agenciesFile.indexOf('export const AGENCIES'));
  if (!union || listEnd < 0) throw new Error('lib/agencies.ts no longer has the shape agency:new edits (the id union, the AGENCIES list).');
  // The next ports after every subgraph's, the statistics subgraph's (not an agency) included.
  const port = Math.max(...AGENCIES.map((a) => a.defaultPort), STATISTICS_DEFAULT_PORT) + 1;
  const metricsPort = Math.max(...AGENCIES.map((a) => a.defaultMetricsPort), STATISTICS_DEFAULT_METRICS_PORT) + 1;
  const agencyEntry = `
  {
    id: '${id}',
    title: '${title}',
    holds: '${holds}',
    vi: { title: '${viTitle}', holds: '${viHolds}' },
    database: '${n.database}',
    envPrefix: '${n.envPrefix}',
    defaultPort: ${port},
    defaultMetricsPort: ${metricsPort},
    migrationsDir: path.join(root, 'prisma/${id}/migrations'),
  },`;
  const withEntry = agenciesFile.slice(0, listEnd) + agencyEntry + agenciesFile.slice(listEnd);
  files.set('lib/agencies.ts', withEntry.replace(union[0], `${union[1]} | '${id}';`));

  const supergraph = fs.readFileSync(path.join(root, 'supergraph.yaml'), 'utf8');
  // After the last agency, before the statistics subgraph (not an agency), which the composition test expects last.
  const entry = `  ${id}:\n    routing_url: http://127.0.0.1:${port}/graphql\n    schema:\n      file: ./subgraphs/${id}/schema.graphql\n`;
  const statisticsAt = supergraph.indexOf('\n  statistics:\n');
  files.set('supergraph.yaml', statisticsAt < 0 ? `${supergraph.trimEnd()}\n${entry}` : `${supergraph.slice(0, statisticsAt + 1)}${entry}${supergraph.slice(statisticsAt + 1)}`);

  const build = fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8');
  const lastSubgraph = [...build.matchAll(/\n(\s*)"subgraphs\/[a-z0-9-]+\/index\.ts",/g)].pop();
  if (!lastSubgraph) throw new Error('tsconfig.build.json no longer lists the subgraphs\' entry points.');
  const at = lastSubgraph.index! + lastSubgraph[0].length;
  files.set('tsconfig.build.json', `${build.slice(0, at)}\n${lastSubgraph[1]}"subgraphs/${id}/index.ts",${build.slice(at)}`);

  // Its deployment: the Kubernetes manifests and the image's ports (tools/agency-manifests.ts).
  for (const [file, text] of agencyManifests(root, { id, title, envPrefix: n.envPrefix, database: n.database, port, metricsPort })) files.set(file, text);
  return files;
}

export function writeAgency(files: Map<string, string>, root = ROOT): void {
  for (const [file, text] of files) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
}

let writing = false;

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { title: { type: 'string' }, ddl: { type: 'string' }, holds: { type: 'string' }, 'vi-title': { type: 'string' }, 'vi-holds': { type: 'string' } },
  });
  if (positionals.length > 1) throw new AgencyRefused(`One agency id at a time; got ${positionals.length}: ${positionals.join(' ')}.`);
  let ddl: string | undefined;
  if (values.ddl !== undefined) {
    if (!fs.existsSync(values.ddl) || !fs.statSync(values.ddl).isFile()) throw new AgencyRefused(`--ddl ${values.ddl}: no such file.`);
    ddl = fs.readFileSync(values.ddl, 'utf8');
  }
  const id = positionals[0];
  const files = planAgency({ id, title: values.title!, holds: values.holds, viTitle: values['vi-title'], viHolds: values['vi-holds'], ddl });
  const changed = [...files.keys()].filter((file) => fs.existsSync(path.join(ROOT, file)));
  const created = [...files.keys()].filter((file) => !changed.includes(file));
  writing = true;
  writeAgency(files);
  console.log(
    [
      `Added the agency ${id}:`,
      ...created.map((f) => `  created  ${f}`),
      ...changed.map((f) => `  changed  ${f}`),
      '',
      'Next:',
      `  1. ${ddl ? `map the DDL's tables in prisma/${id}/schema.prisma` : `replace the placeholder table: prisma/${id}/migrations/*_init/migration.sql and its model in prisma/${id}/schema.prisma`}`,
      `  2. add the agency's fields to Citizen (and its types) in subgraphs/${id}/schema.graphql, each classified`,
      `     (@classified on the type or the field), and their resolvers and loaders; fill prisma/${id}/seed.ts`,
      '  3. npm run generate && npm run compose && npm test; npm start runs it',
    ].join('\n'),
  );
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`[agency:new] ${error instanceof AgencyRefused ? 'refused: ' : 'failed: '}${error instanceof Error ? error.message : String(error)}`);
    console.error(writing ? 'Some files may have been written: see git status.' : 'Nothing was changed.');
    process.exit(1);
  }
}
