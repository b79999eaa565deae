import fs from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { SUPERGRAPH_GRAPHQL } from '../tools/compose';
import { OPERATIONS_MANIFEST } from '../lib/trusted-documents';
import { startFederation, type TestFederation } from './support/federation';
import { livingCardHoldersWithBirth, openFixtures, type Fixtures } from './support/fixtures';
import { mintToken, PERSONAS } from './support/tokens';
import { productionGateway } from './support/service-credentials';

/**
 * A bounded fuzz of the gateway in production mode: a few thousand operations generated from the schema
 * (random root fields, arguments of every kind and none, aliases, fragments, directives) and mutated
 * (the trusted documents' text with characters dropped, doubled and swapped; bodies of the wrong shape;
 * odd headers and broken tokens), sent over real HTTP. Whatever the request, the gateway must answer
 * with a client error or an answer, never a 5xx, never with its internals (stack frames, file paths, SQL,
 * subgraph URLs), and still be ready afterwards. Deterministic: the same seed sends the same requests.
 */
const REQUESTS = 3000;
const CONCURRENCY = 6;
const SEED = 20261201;

let federation: TestFederation;
let f: Fixtures;
let codes: string[];
let schema: GraphQLSchema;

beforeAll(async () => {
  // Production refuses development keys: the federation of this file trusts keys made as production's are.
  // The fuzz sends far more than a person would: the rate limit is tested elsewhere (gateway-hardening).
  const { env, serviceKeys } = await productionGateway();
  federation = await startFederation({ serviceKeys, gatewayEnv: { ...env, RATE_LIMIT_PER_SECOND: '0' } });
  f = openFixtures();
  codes = await livingCardHoldersWithBirth(f, 'fuzz', 5);
  schema = Supergraph.build(fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8')).apiSchema().toGraphQLJSSchema();
});

afterAll(async () => {
  await federation?.stop();
  await f?.end();
});

/** mulberry32: small, seeded, good enough to pick among choices. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof random>;

const ODD_STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  '001',
  '999',
  '12345',
  '00120034251',
  '0012003425140',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'toString',
  "' OR '1'='1",
  '%',
  '_',
  '\\',
  '%_%\\%',
  'Nguyễn',
  'Nguyen',
  'NGUYỄN THỊ',
  '🇻🇳🙂',
  '\u0000',
  '\u202e\u0301',
  'a'.repeat(300),
  'é'.repeat(2000),
  '9'.repeat(40),
  '2026-02-30',
  '2999-01-01',
  '1800-01-01',
  'HK001750855455',
  '001/2000/000013',
];

function stringValue(r: Random): string {
  if (r.chance(0.3)) return r.pick(codes);
  if (r.chance(0.1)) return String(r.int(1e12)).padStart(12, '0');
  return r.pick(ODD_STRINGS);
}

/** A GraphQL literal for an input type: usually of that type, sometimes not. */
function literal(r: Random, type: GraphQLInputType, depth = 0): string {
  if (r.chance(0.05)) return r.pick(['null', '1', '"x"', '[]', '{}', 'true', '1.5', '-2147483649', '$nope']);
  if (isNonNullType(type)) return literal(r, type.ofType as GraphQLInputType, depth);
  if (isListType(type)) {
    const n = r.pick([0, 1, 2, 3, 101]);
    return `[${Array.from({ length: n }, () => literal(r, type.ofType as GraphQLInputType, depth + 1)).join(', ')}]`;
  }
  if (isEnumType(type)) return r.chance(0.9) ? r.pick(type.getValues()).name : 'NOT_A_VALUE';
  if (isInputObjectType(type)) {
    if (depth > 3) return '{}';
    const fields = Object.values(type.getFields()).filter(() => r.chance(0.8));
    return `{ ${fields.map((field) => `${field.name}: ${literal(r, field.type, depth + 1)}`).join(', ')} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return String(r.pick([0, 1, -1, 20, 100, 101, 2147483647, 1e6]));
      case 'Boolean':
        return r.pick(['true', 'false']);
      default:
        return JSON.stringify(stringValue(r));
    }
  }
  return 'null';
}

function selection(r: Random, type: GraphQLObjectType, depth: number): string {
  const fields = Object.values(type.getFields());
  const chosen = Array.from({ length: 1 + r.int(4) }, () => r.pick(fields));
  const parts = chosen.map((field) => fieldText(r, field, depth));
  if (r.chance(0.1)) parts.push('__typename');
  if (r.chance(0.1)) parts.push(`... on ${type.name} { ${fieldText(r, r.pick(fields), depth)} }`);
  return parts.join(' ');
}

function fieldText(r: Random, field: GraphQLField<unknown, unknown>, depth: number): string {
  const alias = r.chance(0.1) ? `a${r.int(100)}: ` : '';
  const args = field.args.filter((a) => isNonNullType(a.type) || r.chance(0.5));
  const argText = args.length > 0 ? `(${args.map((a) => `${a.name}: ${literal(r, a.type)}`).join(', ')})` : '';
  const directive = r.chance(0.05) ? r.pick([' @skip(if: false)', ' @include(if: true)', ' @skip(if: true)', ' @deprecated', ' @nope']) : '';
  const named = getNamedType(field.type);
  const sub = isObjectType(named) ? (depth > 4 ? ' { __typename }' : ` { ${selection(r, named, depth + 1)} }`) : '';
  return `${alias}${field.name}${argText}${directive}${sub}`;
}

function generatedDocument(r: Random): string {
  const kind = r.chance(0.15) ? 'mutation' : 'query';
  const root = kind === 'mutation' ? schema.getMutationType()! : schema.getQueryType()!;
  const body = selection(r, root, 1);
  if (r.chance(0.15)) return `${kind} { ...F } fragment F on ${root.name} { ${body} }`;
  if (r.chance(0.1)) return `${kind} { ... on ${root.name} { ${body} } }`;
  return `${kind} { ${body} }`;
}

function mutatedText(r: Random, text: string): string {
  let out = text;
  for (let i = 0, n = 1 + r.int(4); i < n; i += 1) {
    const at = r.int(out.length + 1);
    const op = r.int(4);
    if (op === 0) out = out.slice(0, at) + out.slice(at + 1 + r.int(5));
    else if (op === 1) out = out.slice(0, at) + out.slice(at, at + 1 + r.int(20)).repeat(2) + out.slice(at);
    else if (op === 2) out = out.slice(0, at) + r.pick(['{', '}', '(', ')', '$', '"', '...', '@', '#', '\\u0000', 'query', 'fragment']) + out.slice(at);
    else out = out.slice(0, at) + r.pick(codes) + out.slice(at);
  }
  return out;
}

interface FuzzRequest {
  headers: Record<string, string>;
  body: string;
}

async function makeRequest(r: Random, tokens: Record<string, string>, manifest: Record<string, string>): Promise<FuzzRequest> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const who = r.pick(['analyst', 'analyst', 'analyst', 'clerk', 'citizen', 'investigator', 'auditor', 'broken', 'none']);
  if (who === 'broken') headers.authorization = r.pick([`Bearer ${tokens.analyst.slice(0, -3)}abc`, 'Bearer x.y.z', `Bearer ${tokens.clerk}${tokens.clerk}`, 'Basic Zm9vOmJhcg==', 'Bearer ']);
  else if (who !== 'none') headers.authorization = `Bearer ${tokens[who]}`;
  if (r.chance(0.1)) headers['x-purpose'] = r.pick(['STATISTICS', 'COURT_ORDER', '__proto__', 'x'.repeat(500)]);
  if (r.chance(0.05)) headers['x-request-id'] = r.pick(['ok-1', 'x'.repeat(300), '../../etc/passwd', '']);
  if (r.chance(0.05)) headers['x-case-reference'] = r.pick(['TA/1', 'a\tb', 'a'.repeat(100)]);
  const ids = Object.keys(manifest);
  const variables = () => (r.chance(0.8) ? { code: r.pick(codes), codes: [r.pick(codes)], number: stringValue(r), card: stringValue(r), first: r.pick([1, 20, 0, -5, 1000]) } : r.pick([null, [], 'x', 7, { code: 12 }]));
  const shape = r.int(10);
  let body: unknown;
  if (shape <= 4) body = { query: generatedDocument(r), variables: r.chance(0.2) ? variables() : undefined };
  else if (shape <= 6) body = { query: mutatedText(r, manifest[r.pick(ids)]), variables: variables() };
  else if (shape === 7) body = { documentId: r.chance(0.7) ? r.pick(ids) : `sha256:${'f'.repeat(64)}`, variables: variables() };
  else if (shape === 8) body = { extensions: { persistedQuery: { version: r.pick([1, 2, 'x']), sha256Hash: r.pick(ids).replace('sha256:', '') } }, variables: variables() };
  else body = r.pick([{ query: 7 }, { query: null }, { query: ['{ __typename }'] }, { operationName: 5, query: '{ __typename }' }, { query: '{ __typename }', variables: '{}' }, [], 'x', { query: '{'.repeat(3000) }]);
  return { headers, body: JSON.stringify(body) ?? 'null' };
}

const INTERNALS = /\bat [\w.<>]+ \(|\.(?:ts|js):\d+|\/work\/|node_modules|ECONN|prisma|syntax error at or near|relation "|127\.0\.0\.1:\d+|localhost:\d+|serviceName|stacktrace/i;

describe('the gateway under a bounded fuzz, in production mode', () => {
  it(`answers ${REQUESTS} generated and mutated requests without a 5xx or a leak, and stays ready`, async () => {
    const r = random(SEED);
    const tokens = {
      analyst: await mintToken(PERSONAS.analyst),
      clerk: await mintToken(PERSONAS.clerk),
      citizen: await mintToken(PERSONAS.citizen(codes[0])),
      investigator: await mintToken(PERSONAS.investigator),
      auditor: await mintToken(PERSONAS.auditor),
    };
    const operations = JSON.parse(fs.readFileSync(OPERATIONS_MANIFEST, 'utf8')).operations as { id: string; body: string }[];
    const manifest = Object.fromEntries(operations.map((o) => [o.id, o.body]));
    const requests: FuzzRequest[] = [];
    for (let i = 0; i < REQUESTS; i += 1) requests.push(await makeRequest(r, tokens, manifest));

    const statuses = new Map<number, number>();
    const faults: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const request = requests[next++];
        const response = await fetch(federation.gatewayUrl, { method: 'POST', headers: request.headers, body: request.body });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500 || INTERNALS.test(text)) faults.push(`${response.status} ${request.body.slice(0, 300)} -> ${text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(faults.slice(0, 5)).toEqual([]);
    // The fuzz reached the parts it is meant to: answers, and each kind of refusal.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 401, 403]));
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    const ready = await fetch(`${federation.gatewayBase}/health/ready`);
    expect(ready.status).toBe(200);
    // About answers, not speed: 3,000 requests take half a minute alone, and over a minute beside the rest of the
    // suite on a shared two-core machine, past jest's default of 60 s.
  }, 600_000);
});
