import fs from 'node:fs';
import path from 'node:path';
import { getOperationAST, parse, type FieldNode } from 'graphql';
import { Pool } from 'pg';
import { checkOperation } from '../gateway/access-policy';
import { composeApiSchema, SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { readClassifications, readMutationOwners } from '../lib/access/schema-classification';
import { POLICY, type Purpose } from '../lib/access/policy';
import type { Principal, Role } from '../lib/access/principal';
import { REPOSITORY_ROOT } from '../lib/env';
import { OPERATIONS_MANIFEST, readManifest } from '../lib/trusted-documents';
import { startFederation, type TestFederation } from './support/federation';
import { citizenWithParentsAndChildren, openFixtures, type Fixtures } from './support/fixtures';
import { testDatabases } from './support/databases';
import { bearer } from './support/tokens';

/**
 * An operation for every screen: the README's table says who may run each trusted operation, and the policy
 * agrees; each screen's operation, sent by id to a gateway that requires trusted documents, answers every role
 * the table names and refuses (403, audited) every other.
 */
const manifest = readManifest(OPERATIONS_MANIFEST);
const operation = (name: string) => manifest.operations.find((o) => o.name === name)!;
const sdl = fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8');
const policyOptions = { classifications: readClassifications(sdl), mutationOwners: readMutationOwners(sdl) };
const schema = composeApiSchema();
const OWN = '001200342514';

const purposesOf = (purposes: Partial<Record<Purpose, unknown>>) => Object.keys(purposes) as Purpose[];
/** A caller of each role for a purpose: a clerk or registrar of the agency that owns what they write (residents by default). */
const principalFor = (role: Role, purpose: Purpose, agency = 'residents'): Principal => ({
  subject: `screens:${role.toLowerCase()}`,
  role,
  agency: role === 'CITIZEN' || role === 'ANALYST' || role === 'AUDITOR' ? null : role === 'INVESTIGATOR' ? 'police' : agency,
  personalCode: role === 'CITIZEN' ? OWN : null,
  purpose,
  caseReference: role === 'INVESTIGATOR' ? 'CA-HN/2026/77' : null,
  requestId: 'screens',
});

/** Every role and purpose the policy lets run the operation (the citizen asking about themself), as the README writes it. */
function whoMayRun(name: string): string {
  const document = parse(operation(name).body);
  const definition = getOperationAST(document)!;
  const variables = Object.fromEntries((definition.variableDefinitions ?? []).map((v) => [v.variable.name.value, OWN]));
  // A mutation's registrar works for the agency that owns it.
  const owner = definition.operation === 'mutation' ? policyOptions.mutationOwners.get((definition.selectionSet.selections[0] as FieldNode).name.value) : undefined;
  const allowed: string[] = [];
  for (const [role, purposes] of Object.entries(POLICY) as [Role, Partial<Record<Purpose, unknown>>][]) {
    const ok = purposesOf(purposes).filter((purpose) => {
      try {
        checkOperation(principalFor(role, purpose, owner), schema, document, definition, variables, policyOptions);
        return true;
      } catch {
        return false;
      }
    });
    if (ok.length > 0) allowed.push(`${role} (${ok.join(', ')})`);
  }
  return allowed.join(', ');
}

describe("the README's table of operations", () => {
  const readme = fs.readFileSync(path.join(REPOSITORY_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Screens, operations and trusted documents');
  const section = readme.slice(start, readme.indexOf('\n### ', start));
  const rows = new Map([...section.matchAll(/^\| `(\w+)` \| [^|]+ \| ([^|]+) \|$/gm)].map((m) => [m[1], m[2].trim()]));

  it('lists every query of the manifest with exactly the roles and purposes the policy lets run it', () => {
    const queries = manifest.operations.filter((o) => o.type === 'query').map((o) => o.name);
    expect([...rows.keys()].sort()).toEqual(queries.sort());
    for (const name of queries) expect(`${name}: ${rows.get(name)}`).toBe(`${name}: ${whoMayRun(name)}`);
  });

  it('is right that every mutation is for a registrar of the owning agency acting for CIVIL_REGISTRATION, and nobody else', () => {
    for (const mutation of manifest.operations.filter((o) => o.type === 'mutation')) expect(`${mutation.name}: ${whoMayRun(mutation.name)}`).toBe(`${mutation.name}: REGISTRAR (CIVIL_REGISTRATION)`);
  });
});

describe("each screen's operation, sent by id (trusted documents required)", () => {
  let federation: TestFederation;
  let f: Fixtures;
  let audit: Pool;
  let me: string;
  let variables: Record<string, Record<string, unknown>>;

  beforeAll(async () => {
    // A generous subgraph timeout: this is about who may run what, and a busy test machine must not turn an answer into AGENCY_UNAVAILABLE.
    federation = await startFederation({ gatewayEnv: { TRUSTED_DOCUMENTS: 'required' } });
    f = openFixtures();
    audit = new Pool({ connectionString: testDatabases().auditUrl, max: 2 });
    me = (await citizenWithParentsAndChildren(f, 'screens')).code;
    const { rows } = await f.birthRegistry.query<{ number: string }>('SELECT so_dang_ky AS number FROM dang_ky_khai_sinh WHERE so_dinh_danh_tre = $1', [me]);
    variables = {
      MyRecord: { code: me },
      MyAccessLog: { first: 5 },
      SearchCitizens: { birthProvince: me.slice(0, 3), first: 3 },
      AuditLog: { personalCode: me, first: 5 },
      BirthRegistration: { registrationNumber: rows[0].number },
    };
  });

  afterAll(async () => {
    await federation?.stop();
    await f?.end();
    await audit?.end();
  });

  const tokenClaims = (role: Role, purpose: Purpose) => {
    const p = principalFor(role, purpose);
    return {
      sub: p.subject,
      role,
      purpose,
      ...(p.agency ? { agency: p.agency } : {}),
      ...(role === 'CITIZEN' ? { personal_code: me } : {}),
      ...(p.caseReference ? { case_ref: p.caseReference } : {}),
    };
  };

  const run = async (name: string, role: Role, purpose: Purpose, requestId: string) => {
    const response = await fetch(federation.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...(await bearer(tokenClaims(role, purpose) as never)) },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: operation(name).id } }, variables: variables[name] }),
    });
    return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: { extensions?: Record<string, unknown> }[] } };
  };

  it.each(['MyRecord', 'MyAccessLog', 'SearchCitizens', 'AuditLog', 'BirthRegistration'])(
    '%s answers every role the table names, and refuses every other with 403 FORBIDDEN, audited',
    async (name) => {
      const allowed = new Map(whoMayRun(name).split(/, (?=[A-Z]+ \()/).map((entry) => [entry.split(' ')[0] as Role, entry.slice(entry.indexOf('(') + 1, -1).split(', ') as Purpose[]]));
      for (const [role, purposes] of Object.entries(POLICY) as [Role, Partial<Record<Purpose, unknown>>][]) {
        for (const purpose of allowed.get(role) ?? [purposesOf(purposes)[0]]) {
          const requestId = `screens-${name}-${role}-${purpose}-${Date.now()}`;
          const { status, body } = await run(name, role, purpose, requestId);
          if (allowed.has(role)) {
            expect({ role, purpose, status, errors: body.errors }).toEqual({ role, purpose, status: 200, errors: undefined });
            expect(Object.values(body.data!)[0]).not.toBeNull();
          } else {
            expect({ role, status, code: body.errors?.[0].extensions?.code }).toEqual({ role, status: 403, code: 'FORBIDDEN' });
            expect(body.data ?? null).toBeNull();
            const { rows } = await audit.query('SELECT agency, action, role FROM audit_log WHERE request_id = $1', [requestId]);
            expect(rows).toEqual([{ agency: 'gateway', action: 'REFUSED', role }]);
          }
        }
      }
    },
  );
});
