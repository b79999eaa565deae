import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { apiSchemaText } from '../tools/api-schema';
import { ROOT } from '../tools/compose';
import { checkSchema, readAcknowledgements, readClientOperations, RELEASED_SCHEMA, type ClientOperation } from '../scripts/schema-changes';

/**
 * npm run schema:check (scripts/schema-changes.ts): the API schema against the last release, with
 * @graphql-inspector/core. The first test is CI's gate: the schema the subgraphs compose to now may not break
 * the release without an acknowledgement, nor any client operation.
 */
const released = fs.readFileSync(RELEASED_SCHEMA, 'utf8');
const operations = readClientOperations();

/** The released schema without Citizen.legacyIdNumbers (its description included). */
const withoutLegacyIdNumbers = (sdl: string) => sdl.replace(/\n(\s*"""(?:(?!""")[\s\S])*"""\s*\n)?\s*legacyIdNumbers: \[String!\]\n/, '\n');
const birthDecadeAsString = (sdl: string) => sdl.replace(/(\n\s*birthDecade): Int\n/, '$1: String\n');

describe('npm run schema:check', () => {
  it('passes for the schema the subgraphs compose to now: no unacknowledged breaking change, every client operation valid', async () => {
    const report = await checkSchema({ released, current: apiSchemaText(), operations, acknowledgements: readAcknowledgements() });
    expect(report.brokenOperations).toEqual([]);
    expect(report.changes.filter((change) => change.level === 'BREAKING' && !change.acknowledged)).toEqual([]);
    expect(report.ok).toBe(true);
    // The trusted documents are checked: the project's own operations are among them.
    expect(operations.map((operation) => operation.name)).toEqual(expect.arrayContaining(['UnifiedCitizen', 'CitizenStatistics']));
  });

  it('fails on a removed field, naming every client operation it breaks', async () => {
    const current = withoutLegacyIdNumbers(released);
    expect(current).not.toBe(released);
    const report = await checkSchema({ released, current, operations, acknowledgements: [] });
    expect(report.ok).toBe(false);
    expect(report.changes).toEqual([expect.objectContaining({ level: 'BREAKING', key: 'FIELD_REMOVED Citizen.legacyIdNumbers' })]);
    const broken = report.brokenOperations.map((b) => b.operation);
    const users = operations.filter((operation) => /\blegacyIdNumbers\b/.test(operation.body)).map((operation) => operation.name);
    expect(users.length).toBeGreaterThan(0);
    expect(broken.sort()).toEqual([...users].sort());
    expect(report.brokenOperations[0].errors.join(' ')).toMatch(/Cannot query field "legacyIdNumbers" on type "Citizen"/);
  });

  it('fails on a retyped field, naming the operations that read it, and passes once the change is acknowledged with a reason', async () => {
    const current = birthDecadeAsString(released);
    expect(current).not.toBe(released);
    const report = await checkSchema({ released, current, operations, acknowledgements: [] });
    expect(report.ok).toBe(false);
    const [change] = report.changes;
    expect(change).toMatchObject({ level: 'BREAKING', key: 'FIELD_TYPE_CHANGED CitizenCount.birthDecade' });
    expect(change.usedBy).toContain('CitizenStatistics');
    // Still valid GraphQL, so no operation fails validation: only the acknowledgement decides.
    expect(report.brokenOperations).toEqual([]);
    const acknowledged = await checkSchema({
      released,
      current,
      operations,
      acknowledgements: [{ change: 'FIELD_TYPE_CHANGED CitizenCount.birthDecade', reason: 'Decades as labels ("1980s"); every client moved in 2026.12.' }],
    });
    expect(acknowledged.ok).toBe(true);
    expect(acknowledged.changes[0].acknowledged).toMatch(/Decades as labels/);
  });

  it('still fails when a removal is acknowledged but a client operation uses the field', async () => {
    const report = await checkSchema({
      released,
      current: withoutLegacyIdNumbers(released),
      operations,
      acknowledgements: [{ change: 'FIELD_REMOVED Citizen.legacyIdNumbers', reason: 'Legacy numbers move to identityCards { number }.' }],
    });
    expect(report.changes[0].acknowledged).toBeDefined();
    expect(report.brokenOperations.length).toBeGreaterThan(0);
    expect(report.ok).toBe(false);
  });

  it('passes an added field as a safe change, and reports an acknowledgement that matches nothing', async () => {
    const current = released.replace(/\ntype Citizen \{\n/, '\ntype Citizen {\n  nickname: String\n');
    expect(current).not.toBe(released);
    const report = await checkSchema({ released, current, operations, acknowledgements: [{ change: 'FIELD_REMOVED Citizen.gone', reason: 'An old acknowledgement.' }] });
    expect(report.changes).toEqual([expect.objectContaining({ level: 'SAFE', key: 'FIELD_ADDED Citizen.nickname' })]);
    expect(report.unusedAcknowledgements).toEqual(['FIELD_REMOVED Citizen.gone']);
    expect(report.ok).toBe(true);
  });

  it("checks other clients' manifests too, naming the client", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clients-'));
    fs.writeFileSync(
      path.join(dir, 'partner-portal.json'),
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: 'x', name: 'PartnerLegacy', type: 'query', body: 'query PartnerLegacy($c: PersonalCode!) { citizen(personalCode: $c) { legacyIdNumbers } }' }],
      }),
    );
    const partner: ClientOperation[] = readClientOperations([dir]);
    expect(partner).toHaveLength(1);
    const report = await checkSchema({ released, current: withoutLegacyIdNumbers(released), operations: partner, acknowledgements: [] });
    expect(report.brokenOperations).toEqual([expect.objectContaining({ operation: 'PartnerLegacy', client: expect.stringContaining('partner-portal.json') })]);
  });

  it('refuses an acknowledgement without a reason', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ack-')), 'acknowledged-changes.yaml');
    fs.writeFileSync(file, 'acknowledged:\n  - change: FIELD_REMOVED Citizen.legacyIdNumbers\n');
    expect(() => readAcknowledgements(file)).toThrow(/gives no reason/);
    fs.writeFileSync(file, 'acknowledged:\n  - reason: because we wanted to\n');
    expect(() => readAcknowledgements(file)).toThrow(/names no change/);
  });

  it('exits 1 from the command line on an unacknowledged breaking change (what fails CI)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'released-')), 'released.graphql');
    // The release had a field that the schema of today does not: today's schema removed it.
    fs.writeFileSync(file, released.replace(/\ntype Citizen \{\n/, '\ntype Citizen {\n  formerField: String\n'));
    const run = promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/schema-check.ts', '--released', file], { cwd: ROOT });
    await expect(run).rejects.toMatchObject({ code: 1, stdout: expect.stringMatching(/BREAKING\s+FIELD_REMOVED Citizen\.formerField.*NOT acknowledged/) });
  });
});
