/**
 * A minimal browser frontend of Citizen Graph: plain DOM, Apollo Client 4, the typed documents graphql-codegen
 * generates into ./gql from the published schema, and trusted documents sent by id only.
 *
 * What it needs is in the page's URL fragment, which the browser never sends to any server:
 *
 *   index.html#gateway=https://api.example.gov.vn/graphql&token=<JWT>&screen=search&name=Nguyễn&first=10
 *
 * Screens (and their variables): citizen (code), search (name, birthProvince, first), household (number),
 * birth (registrationNumber), audit (personalCode), me (the citizen's own record and access log; the code comes
 * from the token). test/frontend-app.test.ts bundles this file with esbuild and drives it in headless Chromium.
 */
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { citizenGraphTypePolicies } from './cache-policies';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
// The gateway's manifest of this application's operations: the link reads only each operation's name and id.
import manifest from '../../../gateway/trusted-documents/operations.json';
import {
  AuditLogDocument,
  BirthRegistrationDocument,
  HouseholdDocument,
  MyAccessLogDocument,
  MyRecordDocument,
  SearchCitizensDocument,
  UnifiedCitizenDocument,
} from './gql/graphql';

const params = new URLSearchParams(location.hash.slice(1));
const param = (name: string): string | undefined => params.get(name) ?? undefined;

function citizenGraphClient(gateway: string, token: string): ApolloClient {
  return new ApolloClient({
    link: ApolloLink.from([
      // Sends { extensions: { persistedQuery: { sha256Hash: <the manifest's id> } } }, never the query text: in
      // production the gateway runs only the documents its manifests hold.
      new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest })),
      new HttpLink({ uri: gateway, headers: { authorization: `Bearer ${token}` } }),
    ]),
    cache: new InMemoryCache({ typePolicies: citizenGraphTypePolicies }),
  });
}

/** An element with text (textContent: data from the graph is never parsed as HTML) or children. */
function el(tag: string, attributes: Record<string, string>, ...content: (Node | string | null | undefined)[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const part of content) if (part !== null && part !== undefined) element.append(part);
  return element;
}
const list = (items: (Node | string)[]) => el('ul', {}, ...items.map((item) => el('li', {}, item)));

/** A refusal or failure as the gateway coded it (FORBIDDEN, NOT_OWN_RECORD, AGENCY_UNAVAILABLE, ...). */
function errorView(error: unknown): HTMLElement {
  let code = 'NETWORK_ERROR';
  let message = String(error);
  if (CombinedGraphQLErrors.is(error)) {
    code = String(error.errors[0]?.extensions?.code ?? 'GRAPHQL_ERROR');
    message = error.errors[0]?.message ?? message;
  } else if (ServerError.is(error)) {
    // A refusal with a 4xx status (GraphQL-over-HTTP): the body still carries the GraphQL error.
    try {
      const first = JSON.parse(error.bodyText).errors?.[0];
      code = String(first?.extensions?.code ?? `HTTP_${error.statusCode}`);
      message = first?.message ?? message;
    } catch {
      code = `HTTP_${error.statusCode}`;
    }
  }
  return el('p', { class: 'error', 'data-code': code }, `${code}: ${message}`);
}

async function citizenScreen(client: ApolloClient): Promise<HTMLElement> {
  const { data } = await client.query({ query: UnifiedCitizenDocument, variables: { code: param('code')! } });
  const citizen = data?.citizen;
  if (!citizen) return el('p', {}, 'No citizen has this personal code.');
  // Fields of other agencies are null when that agency could not answer (AGENCY_UNAVAILABLE).
  const card = citizen.identityCard ? `${citizen.identityCard.kind} ${citizen.identityCard.number} (${citizen.identityCard.status})` : 'no valid card';
  const home = citizen.permanentResidence?.address;
  return el(
    'section',
    {},
    el('h2', { class: 'name' }, citizen.fullName),
    list([
      `Personal code: ${citizen.personalCode}`,
      `Born ${citizen.dateOfBirth}, ${citizen.sex}`,
      `Identity card: ${card}`,
      `Permanent residence: ${home ? [home.street, home.ward, home.district, home.provinceName].join(', ') : 'none'}`,
      `Birth registration: ${citizen.birthRegistration?.registrationNumber ?? 'none'}`,
      // Null when the birth registry could not answer.
      `Parents: ${citizen.parents?.map((p) => p.personalCode).join(', ') ?? 'unavailable'}`,
      `Children: ${citizen.children?.map((c) => c.personalCode).join(', ') ?? 'unavailable'}`,
    ]),
  );
}

async function searchScreen(client: ApolloClient): Promise<HTMLElement> {
  const variables = { name: param('name'), birthProvince: param('birthProvince'), first: Number(param('first') ?? 20) };
  const search = client.watchQuery({ query: SearchCitizensDocument, variables });
  const section = el('section', {});
  // The watch re-renders on every change of the cached list: the first page, then each page fetchMore appends.
  search.subscribe(({ data, dataState, error }) => {
    if (error) return void section.replaceChildren(errorView(error));
    if (dataState !== 'complete') return;
    const found = data.searchCitizens;
    const rows = found.edges.map(({ node }) =>
      el('tr', { class: 'citizen' }, el('td', {}, node.personalCode), el('td', { class: 'name' }, node.fullName), el('td', {}, node.dateOfBirth)),
    );
    const more = el('button', { id: 'next-page' }, 'Next page');
    more.addEventListener('click', () => void search.fetchMore({ variables: { after: found.pageInfo.endCursor } }));
    section.replaceChildren(el('table', {}, ...rows), found.pageInfo.hasNextPage ? more : el('p', {}, 'No more results.'));
  });
  return section;
}

async function householdScreen(client: ApolloClient): Promise<HTMLElement> {
  const { data } = await client.query({ query: HouseholdDocument, variables: { number: param('number')! } });
  const household = data?.household;
  if (!household) return el('p', {}, 'No household has this number.');
  return el(
    'section',
    {},
    el('h2', {}, `Household ${household.number}`),
    el('p', {}, [household.address.street, household.address.ward, household.address.district, household.address.provinceName].join(', ')),
    list(household.members.map((m) => el('span', { class: 'member' }, `${m.citizen.fullName} (${m.relationshipToHead}, ${m.citizen.personalCode})`))),
  );
}

async function birthScreen(client: ApolloClient): Promise<HTMLElement> {
  const { data } = await client.query({ query: BirthRegistrationDocument, variables: { registrationNumber: param('registrationNumber')! } });
  const birth = data?.birthRegistration;
  if (!birth) return el('p', {}, 'No birth registration has this number.');
  return el(
    'section',
    {},
    el('h2', {}, `Birth registration ${birth.registrationNumber}`),
    list([
      `Registered on ${birth.registeredOn} by ${birth.registeringAuthority}`,
      `Child: ${birth.childName}, born ${birth.childDateOfBirth} in ${birth.placeOfBirth} (${birth.child?.personalCode ?? 'no personal code'})`,
      `Father: ${birth.father?.name ?? 'not registered'}`,
      `Mother: ${birth.mother?.name ?? 'not registered'}`,
    ]),
  );
}

async function auditScreen(client: ApolloClient): Promise<HTMLElement> {
  const { data } = await client.query({ query: AuditLogDocument, variables: { personalCode: param('personalCode'), first: 50 } });
  const entries = data?.auditLog.entries ?? [];
  return el(
    'section',
    {},
    el('h2', {}, `Audit log (${entries.length} entries)`),
    list(entries.map((e) => el('span', { class: 'audit-entry' }, `${e.at} ${e.subject} (${e.role}, ${e.purpose}) ${e.action} ${e.operation ?? ''} ${e.outcome}: ${e.persons.join(', ')}`))),
  );
}

/** The personal code a citizen's token names: the variable MyRecord needs (the gateway checks it is theirs). */
function ownCode(token: string): string {
  const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(payload)).personal_code;
}

async function selfServiceScreen(client: ApolloClient, token: string): Promise<HTMLElement> {
  const [{ data: record }, { data: log }] = await Promise.all([
    client.query({ query: MyRecordDocument, variables: { code: ownCode(token) } }),
    client.query({ query: MyAccessLogDocument, variables: { first: 20 } }),
  ]);
  const me = record?.citizen;
  if (!me) return el('p', {}, 'Your record was not found.');
  return el(
    'section',
    {},
    el('h2', { class: 'name' }, me.fullName),
    el('h3', {}, 'Parents'),
    list((me.parents ?? []).map((p) => el('span', { class: 'parent' }, `${p.fullName} (${p.personalCode})`))),
    el('h3', {}, 'Children'),
    list((me.children ?? []).map((c) => el('span', { class: 'child' }, `${c.fullName} (${c.personalCode})`))),
    el('h3', {}, 'Who accessed my data'),
    list((log?.myAccessLog.entries ?? []).map((e) => el('span', { class: 'access' }, `${e.at} ${e.agency ?? ''} ${e.action} ${e.purpose}: ${e.classes.join(', ')}`))),
  );
}

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  const gateway = param('gateway');
  const token = param('token');
  const screen = param('screen');
  if (!gateway || !token) return void root.replaceChildren(el('p', {}, 'Open this page with #gateway=<url>&token=<JWT>&screen=<screen>.'));
  const client = citizenGraphClient(gateway, token);
  const screens: Record<string, () => Promise<HTMLElement>> = {
    citizen: () => citizenScreen(client),
    search: () => searchScreen(client),
    household: () => householdScreen(client),
    birth: () => birthScreen(client),
    audit: () => auditScreen(client),
    me: () => selfServiceScreen(client, token),
  };
  const render = screen ? screens[screen] : undefined;
  if (!render) return void root.replaceChildren(el('p', {}, `Unknown screen; one of: ${Object.keys(screens).join(', ')}.`));
  root.replaceChildren(el('p', {}, 'Loading…'));
  root.replaceChildren(await render().catch(errorView));
  root.setAttribute('data-screen', screen!);
}

void main();
