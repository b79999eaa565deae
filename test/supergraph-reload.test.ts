import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { startFederation, type TestFederation } from './support/federation';
import { eventually } from './support/eventually';
import { bearer, PERSONAS } from './support/tokens';
import { shownCitizen } from './support/fixtures';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import type { SupergraphStatus } from '../gateway/supergraph';

/**
 * The gateway follows its supergraph file (gateway/supergraph.ts): a changed, valid supergraph is served without
 * a restart, the gateway's own tables (access classifications) with it; a broken one is refused and logged, and
 * the supergraph loaded before keeps being served (GET /health/dependencies counts the refusals). (That every replica of a cluster picks it up: test/cluster.test.ts.)
 */
const committed = fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8');
const CITIZEN_DESCRIPTION = '"""One citizen by personal code; null when no citizen has this code."""';
const FULL_NAME = 'fullName: String! @join__field(graph: RESIDENTS)';

let dir: string;
let file: string;
let federation: TestFederation;
let code: string;
/** national-id as this gateway reaches it: a relay the test can make hang. */
let nationalId: TcpProxy;

/** Replaces the file whole, as deployment tools do (write beside it, rename over it). */
function writeSupergraph(text: string) {
  const next = `${file}.${crypto.randomUUID()}`;
  fs.writeFileSync(next, text);
  fs.renameSync(next, file);
}

const withMarker = (marker: string) => {
  expect(committed).toContain(CITIZEN_DESCRIPTION);
  return committed.replace(CITIZEN_DESCRIPTION, `"""One citizen by personal code; null when no citizen has this code. (${marker})"""`);
};

async function citizenDescription(): Promise<string | undefined> {
  const answer = await federation.query<any>('{ __type(name: "Query") { fields { name description } } }');
  return answer.data?.__type?.fields.find((field: { name: string }) => field.name === 'citizen')?.description;
}

/** What the gateway says it serves (GET /health/dependencies): the supergraph's id, the files it refused. */
const served = async () => ((await (await fetch(`${federation.gatewayBase}/health/dependencies`)).json()) as { supergraph: SupergraphStatus }).supergraph;

const asClerk = async () => federation.query<any>('query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }', { code }, await bearer(PERSONAS.clerk));

beforeAll(async () => {
  ({ code } = await shownCitizen());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'citizen-graph-supergraph-'));
  file = path.join(dir, 'supergraph.graphql');
  fs.writeFileSync(file, committed);
  federation = await startFederation({
    gatewayEnv: { SUPERGRAPH_PATH: file, SUPERGRAPH_WATCH_INTERVAL_MS: '100' },
    routeThrough: {
      'national-id': async (url) => {
        const target = new URL(url);
        nationalId = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
        target.port = String(nationalId.port);
        return target.toString();
      },
    },
  });
});
afterAll(async () => {
  await federation?.stop();
  await nationalId?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('serves a changed supergraph without a restart', async () => {
  expect(await citizenDescription()).toBe('One citizen by personal code; null when no citizen has this code.');
  const before = await served();
  expect(before.id).toBe(crypto.createHash('sha256').update(committed).digest('hex').slice(0, 16));
  const marker = `reloaded ${crypto.randomUUID()}`;
  writeSupergraph(withMarker(marker));
  expect(await eventually(citizenDescription, (description) => description?.includes(marker) === true)).toContain(marker);
  expect((await served()).id).toBe(crypto.createHash('sha256').update(withMarker(marker)).digest('hex').slice(0, 16));
  expect((await asClerk()).data.citizen.fullName).toEqual(expect.any(String));
});

it('applies the access classifications of the new supergraph to the requests served under it', async () => {
  expect((await asClerk()).data.citizen.fullName).toEqual(expect.any(String)); // allowed, and remembered as allowed
  expect(committed).toContain(FULL_NAME);
  writeSupergraph(committed.replace(FULL_NAME, `${FULL_NAME} @classified(as: "SENSITIVE")`));
  const refused = await eventually(asClerk, (answer) => answer.status === 403);
  expect(refused.status).toBe(403);
  expect(refused.data).toBeUndefined();
  expect(refused.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', deniedFields: ['Citizen.fullName'] });
  // An investigator may see sensitive fields: the same field is still served to them.
  expect((await federation.query<any>('query ($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }', { code })).data.citizen.fullName).toEqual(
    expect.any(String),
  );
  writeSupergraph(committed);
  expect((await eventually(asClerk, (answer) => answer.status === 200)).data.citizen.fullName).toEqual(expect.any(String));
});

it.each([
  ['a file cut short', () => committed.slice(0, Math.floor(committed.length / 2))],
  ['a schema that is no supergraph', () => 'type Query { hello: String }\n'],
  ['a supergraph that does not build (a field of an unknown type)', () => committed.replace(FULL_NAME, 'fullName: NoSuchType! @join__field(graph: RESIDENTS)')],
  ['a field joined to a subgraph the supergraph does not have', () => committed.replace(FULL_NAME, 'fullName: String! @join__field(graph: NO_SUCH_GRAPH)')],
  ['an empty file', () => ''],
])('refuses %s (counted, and logged) and keeps serving the supergraph loaded before', async (_what, broken) => {
  const marker = `kept ${crypto.randomUUID()}`;
  writeSupergraph(withMarker(marker));
  expect(await eventually(citizenDescription, (description) => description?.includes(marker) === true)).toContain(marker);
  const kept = await served();
  writeSupergraph(broken());
  const after = await eventually(served, (status) => status.refusals > kept.refusals);
  expect(after.refusals).toBe(kept.refusals + 1);
  expect(after.lastRefusal!.reason.length).toBeGreaterThan(0);
  expect(after.id).toBe(kept.id);
  expect(await citizenDescription()).toContain(marker);
  expect((await asClerk()).data.citizen.fullName).toEqual(expect.any(String));
  // And the file is still followed: the next valid one is taken.
  const next = `after ${crypto.randomUUID()}`;
  writeSupergraph(withMarker(next));
  expect(await eventually(citizenDescription, (description) => description?.includes(next) === true)).toContain(next);
});

const NATIONAL_ID_GRAPH = /(NATIONAL_ID @join__graph\(name: "national-id", url: ")[^"]+(")/;

it('serves a new supergraph only once the subgraphs it routes anew answer, the one before meanwhile', async () => {
  const before = await served();
  nationalId.hold(); // national-id stops answering this gateway (its readiness check times out)
  const marker = `waiting ${crypto.randomUUID()}`;
  // national-id's routing URL changes in the new supergraph (this gateway still calls it where SUBGRAPH_NATIONAL_ID_URL says).
  expect(withMarker(marker)).toMatch(NATIONAL_ID_GRAPH);
  const rerouted = withMarker(marker).replace(NATIONAL_ID_GRAPH, '$1http://national-id.internal:4002/graphql$2');
  writeSupergraph(rerouted);
  const waiting = await eventually(served, (status) => status.refusals > before.refusals);
  expect(waiting.id).toBe(before.id);
  expect(waiting.lastRefusal!.reason).toMatch(/its subgraphs do not answer yet: national-id;/);
  expect(await citizenDescription()).not.toContain(marker);
  // Requests keep being answered under the supergraph loaded before (national-id's part aside, as it hangs).
  expect((await asClerk()).data.citizen.fullName).toEqual(expect.any(String));
  nationalId.release();
  expect(await eventually(citizenDescription, (description) => description?.includes(marker) === true)).toContain(marker);
  const after = await served();
  expect(after.id).toBe(crypto.createHash('sha256').update(rerouted).digest('hex').slice(0, 16));
  // Refused once while it waited, not at every look.
  expect(after.refusals).toBe(before.refusals + 1);
});

it('does not wait on a subgraph it already routes to the same way: one agency down holds no recomposition back', async () => {
  nationalId.hold();
  try {
    const marker = `unchanged routing ${crypto.randomUUID()}`;
    // Routed as the supergraph served now routes it (the test before moved national-id's URL).
    writeSupergraph(withMarker(marker).replace(NATIONAL_ID_GRAPH, '$1http://national-id.internal:4002/graphql$2'));
    expect(await eventually(citizenDescription, (description) => description?.includes(marker) === true)).toContain(marker);
  } finally {
    nationalId.release();
  }
});
