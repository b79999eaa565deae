import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generatePersistedQueryManifest } from '@apollo/generate-persisted-query-manifest';
import { parse, type DocumentNode } from 'graphql';
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { citizenGraphTypePolicies } from '../examples/frontend/src/cache-policies';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import { OPERATIONS_DIR, OPERATIONS_MANIFEST, readManifest, sha256Hex, type TrustedDocumentsManifest } from '../lib/trusted-documents';
import { startFederation, type TestFederation } from './support/federation';
import { productionGateway } from './support/service-credentials';
import { citizenWithParentsAndChildren, householdOfSize, openFixtures, type Fixtures } from './support/fixtures';
import { bearer, PERSONAS } from './support/tokens';

/**
 * A frontend as a team would build it: a real Apollo Client 4 (in Node), with Apollo's persisted-query link and
 * the ids of the project's own client manifest, over real HTTP to the gateway in production mode (trusted
 * documents required). Nothing in the client is adapted to Citizen Graph.
 */
let federation: TestFederation;
let f: Fixtures;
let me: { code: string; parents: string[]; children: string[] };
const manifest = readManifest(OPERATIONS_MANIFEST);
/** A second frontend application, its manifest made by the generator from its own source, with ids of its own. */
let portal: TrustedDocumentsManifest;
const PORTAL_OPERATION = `# The citizen portal's family page.
query PortalFamily($code: PersonalCode!) { citizen(personalCode: $code) { personalCode children { personalCode fullName } } }`;

/** What the frontend's source holds: the operation files as written (the client transforms them itself). */
const operation = (name: string): DocumentNode => parse(fs.readFileSync(path.join(OPERATIONS_DIR, `${name}.graphql`), 'utf8'));

beforeAll(async () => {
  // The gateway's folder of client manifests: the project's own, and the portal's, as its build wrote it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trusted-documents-'));
  fs.writeFileSync(path.join(dir, 'portal-source.graphql'), PORTAL_OPERATION);
  portal = (await generatePersistedQueryManifest(
    { documents: [path.join(dir, 'portal-source.graphql')], createOperationId: (body, { operationName }) => `portal/${operationName}/${sha256Hex(body).slice(0, 16)}` },
    undefined,
  )) as TrustedDocumentsManifest;
  const manifests = path.join(dir, 'manifests');
  fs.mkdirSync(manifests);
  fs.copyFileSync(OPERATIONS_MANIFEST, path.join(manifests, 'operations.json'));
  fs.writeFileSync(path.join(manifests, 'citizen-portal.json'), JSON.stringify(portal));
  const production = await productionGateway();
  federation = await startFederation({
    serviceKeys: production.serviceKeys,
    // Production as configured there (trusted documents required by default); a generous subgraph timeout so that a
    // busy test machine does not turn an answer into AGENCY_UNAVAILABLE.
    gatewayEnv: { ...production.env, TRUSTED_DOCUMENTS_DIR: manifests },
  });
  f = openFixtures();
  me = await citizenWithParentsAndChildren(f, 'apollo-client');
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
});

interface Client {
  client: ApolloClient;
  /** The bodies the client sent, in order. */
  sent: Record<string, any>[];
}

async function apolloClient(persona: Parameters<typeof bearer>[0], clientManifest: TrustedDocumentsManifest = manifest): Promise<Client> {
  const sent: Record<string, any>[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    sent.push(JSON.parse(String(init?.body)));
    return fetch(input, init);
  };
  const client = new ApolloClient({
    link: ApolloLink.from([
      new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => clientManifest })),
      new HttpLink({ uri: federation.gatewayUrl, headers: await bearer(persona), fetch: recordingFetch }),
    ]),
    cache: new InMemoryCache({ typePolicies: citizenGraphTypePolicies }),
  });
  return { client, sent };
}

const idOf = (name: string) => manifest.operations.find((o) => o.name === name)!.id;
const citizenKey = (code: string) => `Citizen:${JSON.stringify({ personalCode: code })}`;

/** The code of a refusal, whichever way Apollo Client reports it (GraphQL errors in a graphql-response body, or an HTTP error). */
function refusalCode(error: unknown): unknown {
  if (CombinedGraphQLErrors.is(error)) return error.errors[0]?.extensions?.code;
  if (ServerError.is(error)) return JSON.parse(error.bodyText).errors?.[0]?.extensions?.code;
  throw error;
}

describe('Apollo Client 4 against the gateway in production mode', () => {
  it('runs the unified citizen view, sending only the id the manifest gives it, into a normalised cache', async () => {
    const { client, sent } = await apolloClient(PERSONAS.investigator);
    const { data } = await client.query({ query: operation('UnifiedCitizen'), variables: { code: me.code } });
    const citizen = (data as any).citizen;
    expect(citizen).toMatchObject({ __typename: 'Citizen', personalCode: me.code, fullName: expect.any(String), ethnicity: expect.any(String) });
    expect(citizen.parents.map((p: any) => p.personalCode).sort()).toEqual(me.parents);
    // The id alone went over the wire, the one the manifest holds: no text for the gateway to trust.
    expect(sent).toEqual([
      expect.objectContaining({ operationName: 'UnifiedCitizen', extensions: expect.objectContaining({ persistedQuery: { version: 1, sha256Hash: idOf('UnifiedCitizen') } }) }),
    ]);
    expect(sent[0].query).toBeUndefined();
    // The gateway ran the manifest's text, __typename included: each citizen has one entry of its own.
    const cache = client.cache.extract() as Record<string, any>;
    expect(cache[citizenKey(me.code)]).toMatchObject({ fullName: citizen.fullName });
    for (const parent of me.parents) expect(cache[citizenKey(parent)]).toEqual({ __typename: 'Citizen', personalCode: parent });
  });

  it('runs the household screen, each member a cache entry of its own', async () => {
    const household = await householdOfSize(f, 3);
    const { client } = await apolloClient(PERSONAS.clerk);
    const { data } = await client.query({ query: operation('Household'), variables: { number: household.number } });
    const members = (data as any).household.members;
    expect(members).toHaveLength(3);
    const cache = client.cache.extract() as Record<string, any>;
    expect(cache.ROOT_QUERY[`household({"number":"${household.number}"})`]).toEqual({ __ref: `Household:${JSON.stringify({ number: household.number })}` });
    for (const member of members) expect(cache[citizenKey(member.citizen.personalCode)]).toMatchObject({ fullName: member.citizen.fullName });
  });

  it('pages through a search with fetchMore, the pages merged in the cache as one list', async () => {
    const variables = { birthProvince: me.code.slice(0, 3), first: 3 };
    const { client } = await apolloClient(PERSONAS.clerk);
    const observable = client.watchQuery({ query: operation('SearchCitizens'), variables });
    // Watched, as a component would: fetchMore merges into what the watch shows.
    const subscription = observable.subscribe(() => undefined);
    try {
      const first = (await observable.refetch()).data as any;
      expect(first.searchCitizens.edges).toHaveLength(3);
      expect(first.searchCitizens.pageInfo.hasNextPage).toBe(true);
      await observable.fetchMore({ variables: { after: first.searchCitizens.pageInfo.endCursor } });
      const merged = client.readQuery({ query: operation('SearchCitizens'), variables }) as any;
      const codes = merged.searchCitizens.edges.map((e: any) => e.node.personalCode);
      // The same six, in the same order, as one page of six from a client of its own.
      const { client: other } = await apolloClient(PERSONAS.clerk);
      const six = (await other.query({ query: operation('SearchCitizens'), variables: { ...variables, first: 6 } })).data as any;
      expect(codes).toEqual(six.searchCitizens.edges.map((e: any) => e.node.personalCode));
      expect(new Set(codes).size).toBe(6);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('keeps one cache entry for a citizen two queries share (keyFields): the search row and the counter view read it', async () => {
    const { client, sent } = await apolloClient(PERSONAS.clerk);
    const search = { query: operation('SearchCitizens'), variables: { birthProvince: me.code.slice(0, 3), first: 1 } };
    const found = ((await client.query(search)).data as any).searchCitizens.edges[0].node;
    const counter = { query: operation('CounterCitizen'), variables: { code: found.personalCode } };
    const view = ((await client.query(counter)).data as any).citizen;
    expect(view.fullName).toBe(found.fullName);
    const entry = (client.cache.extract() as Record<string, any>)[citizenKey(found.personalCode)];
    // One entry holds what both asked for: the search's fields and the counter view's.
    expect(entry).toMatchObject({ deceased: found.deceased, identityCard: expect.anything(), personalCodeCheck: expect.anything() });
    // A change to it shows in both queries' results, and the counter view is answered from the cache alone.
    client.cache.modify({ id: client.cache.identify({ __typename: 'Citizen', personalCode: found.personalCode }), fields: { fullName: () => 'Đã sửa trong bộ nhớ đệm' } });
    const requests = sent.length;
    expect(((await client.query(counter)).data as any).citizen.fullName).toBe('Đã sửa trong bộ nhớ đệm');
    expect((client.readQuery(search) as any).searchCitizens.edges[0].node.fullName).toBe('Đã sửa trong bộ nhớ đệm');
    expect(sent.length).toBe(requests);
  });

  it("runs a citizen's self-service screens: their record with their relatives' names, and their access log", async () => {
    const { client } = await apolloClient(PERSONAS.citizen(me.code));
    const record = ((await client.query({ query: operation('MyRecord'), variables: { code: me.code } })).data as any).citizen;
    expect(record.children.map((c: any) => c.personalCode).sort()).toEqual(me.children);
    const cache = client.cache.extract() as Record<string, any>;
    // Of a relative, the cache holds what the gateway let through: the name and the code.
    for (const child of me.children) expect(Object.keys(cache[citizenKey(child)]).sort()).toEqual(['__typename', 'fullName', 'personalCode']);
    const log = ((await client.query({ query: operation('MyAccessLog'), variables: { first: 5 } })).data as any).myAccessLog;
    expect(log.entries.length).toBeGreaterThan(0);
  });

  it('runs another application’s operation by the id its own manifest gives it, beside the project’s', async () => {
    const { client, sent } = await apolloClient(PERSONAS.citizen(me.code), portal);
    const { data } = await client.query({ query: parse(PORTAL_OPERATION), variables: { code: me.code } });
    expect((data as any).citizen.children.map((c: any) => c.personalCode).sort()).toEqual(me.children);
    expect(sent[0].extensions.persistedQuery.sha256Hash).toMatch(/^portal\/PortalFamily\/[0-9a-f]{16}$/);
  });

  it('refuses an id no deployed manifest holds with TRUSTED_DOCUMENT_UNKNOWN, and the client does not fall back to the text', async () => {
    // A frontend built against a newer manifest than the gateway runs.
    const body = 'query Rogue($code: PersonalCode!) {\n  citizen(personalCode: $code) {\n    religion\n    __typename\n  }\n}';
    const newer = { ...manifest, operations: [...manifest.operations, { id: sha256Hex(body), name: 'Rogue', type: 'query' as const, body }] };
    const { client, sent } = await apolloClient(PERSONAS.clerk, newer);
    const refused = await client.query({ query: parse(body), variables: { code: me.code } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusalCode(refused)).toBe('TRUSTED_DOCUMENT_UNKNOWN');
    expect(sent).toHaveLength(1);
    expect(sent[0].query).toBeUndefined();
  });

  it('without the persisted-query link, the client’s text is trusted only when it is a manifest body byte for byte', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: federation.gatewayUrl, headers: await bearer(PERSONAS.clerk) }), cache: new InMemoryCache() });
    const refused = await client.query({ query: operation('CounterCitizen'), variables: { code: me.code } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    // It sends the manifest's very text (Apollo Client prints what the generator printed), which counts as trusted...
    expect(refused).toBeUndefined();
    // ...but a text of its own does not.
    // (network-only: the cache would answer this one from what CounterCitizen brought)
    const own = await client.query({ query: parse('query Mine($code: PersonalCode!) { citizen(personalCode: $code) { fullName } }'), variables: { code: me.code }, fetchPolicy: 'network-only' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusalCode(own)).toBe('TRUSTED_DOCUMENT_REQUIRED');
  });
});
