import type { createBirthRegistrySubgraph } from '../../subgraphs/birth-registry/server';
import { readConfig as gatewayConfig } from '../../gateway/config';
import { createGateway, type GatewayObservers } from '../../gateway/server';
import { agency, AGENCIES, type Agency } from '../../lib/agencies';
import type { AgencySubgraph } from '../../lib/agency-subgraph';
import type { Env } from '../../lib/env';
import { createStatisticsSubgraph, type StatisticsSubgraph } from '../../subgraphs/statistics/server';
import { readConfig as statisticsConfig } from '../../subgraphs/statistics/config';
import type { RunningSubgraph } from '../../lib/subgraph-server';
import type { StatementCounter } from '../../lib/statement-counter';
import fs from 'node:fs';
import { testDatabases } from './databases';
import { bearer, PERSONAS } from './tokens';
import { readMutationOwners } from '../../lib/access/schema-classification';
import { SUPERGRAPH_GRAPHQL } from '../../tools/compose';
import type { ServiceKeyFiles } from '../../tools/service-keys';

type AnySubgraph = AgencySubgraph<unknown, unknown, unknown>;

/**
 * An agency's subgraph, assembled from its own folder as its index.ts does (its config.ts reads the settings, its
 * server.ts exports createSubgraph): every agency of lib/agencies.ts, with no list of them here.
 */
function createSubgraphOf(id: Agency['id'], env: Env): Promise<AnySubgraph> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { readConfig } = require(`../../subgraphs/${id}/config`) as { readConfig(env: Env): unknown };
  const { createSubgraph } = require(`../../subgraphs/${id}/server`) as { createSubgraph(config: unknown): Promise<AnySubgraph> };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return createSubgraph(readConfig(env));
}

/** Statement counts of a test's expectation: the agencies it names, and 0 for every other agency of lib/agencies.ts. */
export function statements(counts: Partial<Record<Agency['id'], number>> = {}): Record<Agency['id'], number> {
  return Object.fromEntries(AGENCIES.map((a) => [a.id, counts[a.id] ?? 0])) as Record<Agency['id'], number>;
}

/**
 * The real federation for a test: every agency's subgraph (lib/agencies.ts) and the gateway, each on its own HTTP port
 * (port 0: the OS picks), over the test run's PostgreSQL, each connecting as its own database role. In-process so tests can read each agency
 * database's statement counter, but every call crosses real HTTP exactly as in production.
 */
export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  data?: Data | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestFederation {
  gatewayUrl: string;
  gatewayBase: string;
  subgraphUrls: Record<Agency['id'], string>;
  /** The statistics subgraph's URL (not an agency's). */
  statisticsUrl: string;
  query<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<Data>>;
  /** Runs `action` and returns how many SQL statements each agency database received meanwhile. */
  countStatements(action: () => Promise<unknown>): Promise<Record<Agency['id'], number>>;
  stopSubgraph(id: Agency['id']): Promise<void>;
  /** The birth registry's services and database, for running its background completion in a test. */
  birthRegistry: Awaited<ReturnType<typeof createBirthRegistrySubgraph>>;
  /** The statistics subgraph: `refresh()` applies the agencies' change logs now (no timer runs in tests). */
  statistics: StatisticsSubgraph;
  stop(): Promise<void>;
}

const mutationOwners = readMutationOwners(fs.readFileSync(SUPERGRAPH_GRAPHQL, 'utf8'));

/**
 * The caller a test request goes as:
 *   no headers                    the default reader (an investigator under a court order: sees a whole record)
 *   headers with x-actor          a registrar of the agency that owns the mutation, named by x-actor (the actor
 *                                 recorded with the write), as the write tests were first written
 *   headers with authorization    exactly that
 *   other headers                 no token at all
 */
async function credentialsFor(query: string, headers: Record<string, string> | undefined): Promise<Record<string, string>> {
  if (headers === undefined) return bearer(PERSONAS.investigator);
  const { 'x-actor': actor, ...rest } = headers;
  if (rest.authorization || actor === undefined) return rest;
  const mutation = /\bmutation\b[^{]*\{\s*(?:\w+\s*:\s*)?(\w+)/.exec(query)?.[1];
  const agency = (mutation && mutationOwners.get(mutation)) ?? 'residents';
  return { ...rest, ...(await bearer(PERSONAS.registrar(agency, actor))) };
}

export interface FederationOptions {
  gatewayEnv?: Record<string, string>;
  /** false: no authentication at the gateway, unsealed subgraphs (what benchmarks compare against). */
  security?: boolean;
  /** Puts something (a delaying proxy, say) between the gateway and a subgraph: gets its URL, returns the one to call. */
  routeThrough?: Partial<Record<Agency['id'], (subgraphUrl: string) => Promise<string>>>;
  /** The same between the other subgraphs and residents, for their service calls (code issuance, holder checks). */
  residentsServiceThrough?: (residentsUrl: string) => Promise<string>;
  /** The services' keys and trust file (default: the test run's, test/global-setup.ts). */
  serviceKeys?: ServiceKeyFiles;
  /** Settings for every subgraph over the test defaults (e.g. mutual TLS). */
  subgraphEnv?: Record<string, string>;
  /** What the gateway reports as it runs (its breakers' state changes). */
  gatewayObservers?: GatewayObservers;
  /** Settings of the statistics subgraph over the test defaults (disclosure parameters, budgets). */
  statisticsEnv?: Record<string, string>;
}

export async function startFederation(options: FederationOptions = {}): Promise<TestFederation> {
  // Every service connects as its own role, as npm start runs them (fixtures use the superuser's urls).
  const { serviceUrls } = testDatabases();
  const SUBGRAPH_SEALED = String(options.security !== false);
  const AUDIT_RECORDING = String(options.security !== false);
  const serviceKeys = options.serviceKeys ?? testDatabases().serviceKeys;
  /** One subgraph's settings: its own role's URLs, port 0, the run's keys, and what the test adds. */
  const env = (id: Agency['id'], extra: Record<string, string> = {}) => {
    const prefix = agency(id).envPrefix;
    return {
      [`${prefix}_DATABASE_URL`]: serviceUrls[id].database!,
      [`${prefix}_PORT`]: '0',
      SUBGRAPH_SEALED,
      AUDIT_DATABASE_URL: serviceUrls[id].audit,
      AUDIT_RECORDING,
      // No background timers in tests (they would compete with timing-sensitive tests): the outbox ships right
      // after each mutation, the gateway checkpoints at shutdown; the timers have tests of their own.
      AUDIT_OUTBOX_INTERVAL_MS: '0',
      SERVICE_TRUST_FILE: serviceKeys.trustFile,
      SERVICE_KEY_FILE: serviceKeys.keyFiles[id],
      // Warnings and errors only: a line per request from four services would bury jest's own output.
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // Calls between agencies (a card's holder check, a newborn's code): ample on a busy machine, as the gateway's
      // SUBGRAPH_TIMEOUT_MS below; a refused or lost call still fails at once.
      SERVICE_TIMEOUT_MS: '30000',
      ...extra,
      ...options.subgraphEnv,
    };
  };
  const residents = await createSubgraphOf('residents', env('residents'));
  // Residents listens first: the other subgraphs' service calls (holder checks) go to its URL.
  const residentsRunning = await residents.server.listen(0);
  const RESIDENTS_SERVICE_URL = (await options.residentsServiceThrough?.(residentsRunning.url)) ?? residentsRunning.url;
  const subgraphs = { residents } as Record<Agency['id'], AnySubgraph>;
  for (const a of AGENCIES) if (a.id !== 'residents') subgraphs[a.id] = await createSubgraphOf(a.id, env(a.id, { RESIDENTS_SERVICE_URL }));
  // The statistics subgraph: not an agency; its own store, the agencies read as its own role (test/global-setup.ts built it).
  const statisticsUrls = testDatabases().statisticsServiceUrls;
  const statistics = await createStatisticsSubgraph(
    statisticsConfig({
      STATISTICS_DATABASE_URL: statisticsUrls.database,
      ...Object.fromEntries(AGENCIES.map((a) => [`STATISTICS_SOURCE_${a.envPrefix}_URL`, statisticsUrls.sources[a.id]])),
      STATISTICS_SECRET_FILE: testDatabases().statisticsSecretFile,
      STATISTICS_PORT: '0',
      STATISTICS_REFRESH_INTERVAL_MS: '0',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      SUBGRAPH_SEALED,
      AUDIT_DATABASE_URL: statisticsUrls.audit,
      AUDIT_RECORDING,
      SERVICE_TRUST_FILE: serviceKeys.trustFile,
      // Mutual TLS and the like, as for every subgraph.
      ...options.subgraphEnv,
      ...options.statisticsEnv,
    }),
  );
  const statisticsRunning = await statistics.server.listen(0);
  const running = {} as Record<Agency['id'], RunningSubgraph | null>;
  const counters = {} as Record<Agency['id'], StatementCounter>;
  for (const a of AGENCIES) {
    running[a.id] = a.id === 'residents' ? residentsRunning : await subgraphs[a.id].server.listen(0);
    counters[a.id] = subgraphs[a.id].db.statements;
  }
  const subgraphUrls = Object.fromEntries(Object.entries(running).map(([id, r]) => [id, r!.url])) as Record<Agency['id'], string>;

  const routed = async (id: Agency['id']) => (await options.routeThrough?.[id]?.(subgraphUrls[id])) ?? subgraphUrls[id];
  const { jwksFile, checkpointKeyFile, checkpointFile } = testDatabases();
  const gateway = await createGateway(
    gatewayConfig({
      GATEWAY_PORT: '0',
      AUTH_JWKS_FILE: jwksFile,
      GATEWAY_SERVICE_KEY_FILE: serviceKeys.keyFiles.gateway,
      AUDIT_CHECKPOINT_KEY_FILE: checkpointKeyFile,
      AUDIT_CHECKPOINT_FILE: checkpointFile,
      AUDIT_CHECKPOINT_INTERVAL_MS: '0',
      AUTHENTICATION: String(options.security !== false),
      AUDIT_DATABASE_URL: serviceUrls.gateway.audit,
      AUDIT_RECORDING,
      ...Object.fromEntries(await Promise.all(AGENCIES.map(async (a) => [`SUBGRAPH_${a.envPrefix}_URL`, await routed(a.id)]))),
      SUBGRAPH_STATISTICS_URL: statisticsRunning.url,
      // Ample on a busy machine (CI beside a bench): a slow answer must not turn into AGENCY_UNAVAILABLE. Tests of
      // the timeout itself set their own.
      SUBGRAPH_TIMEOUT_MS: '30000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...options.gatewayEnv,
    }),
    options.gatewayObservers,
  );
  const gatewayRunning = await gateway.listen(0);

  const snapshot = () =>
    Object.fromEntries(Object.entries(counters).map(([id, counter]) => [id, counter.total])) as Record<Agency['id'], number>;

  return {
    gatewayUrl: gatewayRunning.url,
    gatewayBase: gatewayRunning.url.replace(/\/graphql$/, ''),
    subgraphUrls,
    statisticsUrl: statisticsRunning.url,
    birthRegistry: subgraphs['birth-registry'] as unknown as TestFederation['birthRegistry'],
    statistics,
    async query(query, variables, headers) {
      const response = await fetch(gatewayRunning.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await credentialsFor(query, headers)) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    async countStatements(action) {
      const before = snapshot();
      await action();
      const after = snapshot();
      return Object.fromEntries(Object.keys(after).map((id) => [id, after[id as Agency['id']] - before[id as Agency['id']]])) as Record<
        Agency['id'],
        number
      >;
    },
    async stopSubgraph(id) {
      await running[id]?.stop();
      running[id] = null;
    },
    async stop() {
      await gatewayRunning.stop();
      for (const [id, r] of Object.entries(running)) {
        await r?.stop();
        await subgraphs[id as Agency['id']].close();
      }
      await statisticsRunning.stop();
      await statistics.close();
    },
  };
}
