import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { buildSchema, getNamedType, parse, Source, TypeInfo, visit, visitWithTypeInfo, type GraphQLSchema } from 'graphql';
import { CriticalityLevel, diff, validate, type Change } from '@graphql-inspector/core';
import { ROOT } from '../tools/compose';
import { manifestFiles, readManifest, TRUSTED_DOCUMENTS_DIR } from '../lib/trusted-documents';

/**
 * The schema-change check (npm run schema:check): the API schema the subgraphs compose to now, against the
 * last released one (schema/released.graphql, written by npm run schema:release), with @graphql-inspector/core.
 *
 * - Every change is classified breaking, dangerous or safe (inspector's criticality levels).
 * - Every operation of every client manifest (the trusted documents of TRUSTED_DOCUMENTS_DIR, and any other
 *   folder of manifests named with --clients) is validated against the new schema; those that would no longer
 *   run are named, with the reason.
 * - The check fails on a breaking change that schema/acknowledged-changes.yaml does not acknowledge with a
 *   reason, and on any client operation the new schema breaks (acknowledged or not: a client that would get
 *   errors has to change, or its manifest go, before the schema does). Dangerous changes are reported only.
 */
export const RELEASED_SCHEMA = path.join(ROOT, 'schema', 'released.graphql');
export const ACKNOWLEDGEMENTS_FILE = path.join(ROOT, 'schema', 'acknowledged-changes.yaml');

export type ChangeLevel = 'BREAKING' | 'DANGEROUS' | 'SAFE';

export interface ReportedChange {
  level: ChangeLevel;
  /** What an acknowledgement names: the change's kind and where, e.g. "FIELD_REMOVED Citizen.legacyIdNumbers". */
  key: string;
  message: string;
  /** The reason given in the acknowledgements file, when there is one. */
  acknowledged?: string;
  /**
   * Client operations that use what changed (by the released schema), e.g. those selecting a retyped field:
   * they still validate, but read something else than they were written for.
   */
  usedBy: string[];
}

export interface BrokenOperation {
  /** The manifest file (the client application) the operation belongs to. */
  client: string;
  operation: string;
  errors: string[];
}

export interface Acknowledgement {
  change: string;
  reason: string;
}

export interface SchemaCheckReport {
  changes: ReportedChange[];
  brokenOperations: BrokenOperation[];
  /** Acknowledgements that match no change any more (the change was undone, or released): worth removing. */
  unusedAcknowledgements: string[];
  ok: boolean;
}

export interface ClientOperation {
  client: string;
  name: string;
  body: string;
}

const LEVELS: Record<CriticalityLevel, ChangeLevel> = {
  [CriticalityLevel.Breaking]: 'BREAKING',
  [CriticalityLevel.Dangerous]: 'DANGEROUS',
  [CriticalityLevel.NonBreaking]: 'SAFE',
};

export const changeKey = (change: Pick<Change, 'type' | 'path'>) => `${change.type} ${change.path ?? ''}`.trim();

/** The acknowledgements file: a list of { change, reason }; a missing reason is an error, not a pass. */
export function readAcknowledgements(file = ACKNOWLEDGEMENTS_FILE): Acknowledgement[] {
  if (!fs.existsSync(file)) return [];
  const parsed = (YAML.parse(fs.readFileSync(file, 'utf8')) ?? {}) as { acknowledged?: unknown };
  const list = parsed.acknowledged ?? [];
  if (!Array.isArray(list)) throw new Error(`${path.relative(ROOT, file)}: "acknowledged" must be a list of { change, reason }`);
  return list.map((entry: unknown, index) => {
    const { change, reason } = (entry ?? {}) as { change?: unknown; reason?: unknown };
    if (typeof change !== 'string' || change.trim() === '') {
      throw new Error(`${path.relative(ROOT, file)}: entry ${index + 1} names no change (e.g. "FIELD_REMOVED Citizen.legacyIdNumbers")`);
    }
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      throw new Error(`${path.relative(ROOT, file)}: the acknowledgement of ${change} gives no reason (a sentence saying why the break is accepted)`);
    }
    return { change: change.trim(), reason: reason.trim() };
  });
}

/** Every operation of every manifest in the folders given (TRUSTED_DOCUMENTS_DIR by default). */
export function readClientOperations(dirs: readonly string[] = [TRUSTED_DOCUMENTS_DIR]): ClientOperation[] {
  return dirs.flatMap((dir) =>
    manifestFiles(dir).flatMap((file) =>
      readManifest(file).operations.map((operation) => ({ client: path.relative(ROOT, file), name: operation.name, body: operation.body })),
    ),
  );
}

export async function checkSchema(options: {
  released: GraphQLSchema | string;
  current: GraphQLSchema | string;
  operations: readonly ClientOperation[];
  acknowledgements: readonly Acknowledgement[];
}): Promise<SchemaCheckReport> {
  const asSchema = (schema: GraphQLSchema | string) => (typeof schema === 'string' ? buildSchema(schema) : schema);
  const current = asSchema(options.current);
  const reasons = new Map(options.acknowledgements.map((a) => [a.change, a.reason]));
  const released = asSchema(options.released);
  const usage = coordinatesUsed(released, options.operations);
  const changes = (await diff(released, current)).map((change): ReportedChange => {
    const key = changeKey(change);
    const reason = reasons.get(key);
    // "Citizen.legacyIdNumbers", "Query.citizen.personalCode" (an argument): the field's coordinate is the first two parts.
    const coordinate = (change.path ?? '').split('.').slice(0, 2).join('.');
    const usedBy = [...(usage.get(coordinate) ?? [])].sort();
    return { level: LEVELS[change.criticality.level], key, message: change.message, usedBy, ...(reason ? { acknowledged: reason } : {}) };
  });
  const sources = options.operations.map((operation) => new Source(operation.body, `${operation.client}#${operation.name}`));
  const byName = new Map(sources.map((source, index) => [source, options.operations[index]]));
  // Deprecated fields still work: a client using one is told by the IDE and codegen, not failed here.
  const invalid = validate(current, sources, { strictDeprecated: false, strictFragments: true });
  const brokenOperations = invalid
    .filter((document) => document.errors.length > 0)
    .map((document) => {
      const operation = byName.get(document.source)!;
      return { client: operation.client, operation: operation.name, errors: document.errors.map((error) => error.message) };
    });
  const keys = new Set(changes.map((change) => change.key));
  const unusedAcknowledgements = options.acknowledgements.map((a) => a.change).filter((change) => !keys.has(change));
  const unacknowledged = changes.some((change) => change.level === 'BREAKING' && !change.acknowledged);
  return { changes, brokenOperations, unusedAcknowledgements, ok: !unacknowledged && brokenOperations.length === 0 };
}

/** "Type.field" → the names of the client operations that select it, read with the schema they were written for. */
function coordinatesUsed(schema: GraphQLSchema, operations: readonly ClientOperation[]): Map<string, Set<string>> {
  const usage = new Map<string, Set<string>>();
  for (const operation of operations) {
    let document;
    try {
      document = parse(operation.body);
    } catch {
      continue; // validate() reports it
    }
    const typeInfo = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const parent = typeInfo.getParentType();
          if (!parent) return;
          const coordinate = `${getNamedType(parent).name}.${node.name.value}`;
          if (!usage.has(coordinate)) usage.set(coordinate, new Set());
          usage.get(coordinate)!.add(operation.name);
        },
      }),
    );
  }
  return usage;
}

/** The report as a reviewer reads it in CI's log. */
export function formatReport(report: SchemaCheckReport): string {
  const lines: string[] = [];
  const count = (level: ChangeLevel) => report.changes.filter((change) => change.level === level).length;
  lines.push(
    `API schema against the last release: ${count('BREAKING')} breaking, ${count('DANGEROUS')} dangerous, ${count('SAFE')} safe change(s).`,
  );
  for (const level of ['BREAKING', 'DANGEROUS', 'SAFE'] as const) {
    for (const change of report.changes.filter((c) => c.level === level)) {
      const note = level !== 'BREAKING' ? '' : change.acknowledged ? `  (acknowledged: ${change.acknowledged})` : '  (NOT acknowledged)';
      lines.push(`  ${level.padEnd(9)} ${change.key}: ${change.message}${note}`);
      if (level !== 'SAFE' && change.usedBy.length > 0) lines.push(`            used by: ${change.usedBy.join(', ')}`);
    }
  }
  if (report.brokenOperations.length > 0) {
    lines.push(`Client operations the new schema breaks: ${report.brokenOperations.length}`);
    for (const broken of report.brokenOperations) {
      lines.push(`  ${broken.operation} (${broken.client}): ${broken.errors.join(' ')}`);
    }
  } else {
    lines.push('Every client operation is valid against the new schema.');
  }
  for (const unused of report.unusedAcknowledgements) lines.push(`Note: the acknowledgement of "${unused}" matches no change; remove it.`);
  lines.push(
    report.ok
      ? 'Schema check passed.'
      : 'Schema check FAILED: acknowledge each breaking change with a reason in schema/acknowledged-changes.yaml, and update or remove every client operation it breaks.',
  );
  return lines.join('\n');
}
