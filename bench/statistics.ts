import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { MEASURES, type Measure } from '../subgraphs/statistics/measures';
import { checkRequest } from '../subgraphs/statistics/query';
import { groupings } from '../subgraphs/statistics/cubes';
import { refreshStatistics, type SourcePools } from '../subgraphs/statistics/refresh';
import { pseudonymiser, readSecret, ensureSecret } from '../subgraphs/statistics/pseudonyms';
import { AGENCIES } from '../lib/agencies';
import type { AgencyDatabases } from '../tools/databases';
import { BENCH_STATISTICS_SECRET_FILE, type Services } from './services';
import { benchCredentials, PERSONAS, registrarOf } from './credentials';
import { birthWorkload } from './workloads';
import type { Samples } from './samples';

/**
 * `npm run bench -- --statistics`: issue 13's targets for the analysts' statistics service, through the Apollo gateway
 * with access control on (an analyst's bearer token, sealed subgraphs, audit records), at the population the bench
 * was seeded with:
 *   - every measure by every grouping of one to three of its dimensions (asOf today), each asked `rounds` times:
 *     the target is 1 s for each;
 *   - the rebuild of the read model from scratch, against the time the population took to seed;
 *   - the refresh lag: from a birth registered through the gateway (which writes to the birth registry and, for the
 *     child's citizen record, to residents) to the first statistics answer whose sources include both changes.
 * Groupings the service refuses before computing (more cells than STATISTICS_MAX_CELLS) are counted, not timed.
 */
export interface StatisticsBenchOptions {
  citizens: number;
  rounds: number;
  /** Build the read model from scratch even if it has been built (it is always built when it never was). */
  rebuild: boolean;
  /** Births registered to measure the refresh lag. */
  lagSamples: number;
}

/** What a slow statistics query may take here: the service's and gateway's production limits (4 s and 5 s) would cut the measurement short. */
export const STATISTICS_BENCH_ENV = {
  statistics: {
    STATISTICS_REFRESH_INTERVAL_MS: '5000',
    STATISTICS_DB_STATEMENT_TIMEOUT_MS: '110000',
    STATISTICS_QUERY_BUDGET: '10000000',
    SUBGRAPH_TIMEOUT_MS: '115000',
  },
  gateway: { SUBGRAPH_TIMEOUT_MS: '115000' },
};

const TARGET_MS = 1000;
const LAG_TARGET_MS = 60_000;
const LAG_POLL_MS = 250;

export interface GroupingTiming {
  measure: string;
  groupBy: string[];
  /** Client-side wall time of each round, ms (null: the request failed). */
  ms: (number | null)[];
  cells: number | null;
  error: string | null;
}

export interface StatisticsReport {
  citizens: number;
  startedAt: string;
  finishedAt: string;
  /** The rebuild from scratch, or (cubesOnly) a new day's first refresh building the cubes; null when neither ran. */
  rebuild: { seconds: number; rebuilt: boolean; cubesOnly: boolean } | null;
  seedingSeconds: number | null;
  groupings: GroupingTiming[];
  refusedByCellLimit: { measure: string; groupBy: string[] }[];
  lag: { samples: number[]; error: string | null };
}

/** Where the bench notes how long a population took to seed (scripts/seeding.ts via bench/run.ts). */
export const seedingRecord = (citizens: number) => path.resolve(__dirname, `../.data/bench-${citizens}/seeding.json`);

export async function benchStatistics(
  options: StatisticsBenchOptions,
  databases: AgencyDatabases,
  samples: Samples,
  startServers: () => Promise<Services>,
  log: (line: string) => void,
): Promise<StatisticsReport> {
  const startedAt = new Date().toISOString();
  const rebuild = await buildReadModel(options, databases, log);
  const services = await startServers();
  const credentials = await benchCredentials(true);
  const analyst = await credentials.gateway(PERSONAS.analyst);
  const url = services.gateways.apollo.url;
  const ask = (query: string) => post(url, analyst, query);

  const timed: GroupingTiming[] = [];
  const refused: { measure: string; groupBy: string[] }[] = [];
  const principal = { role: 'ANALYST', purpose: 'STATISTICS' } as never;
  for (const [name, measure] of Object.entries(MEASURES)) {
    for (const groupBy of groupings(Object.keys(measure.dimensions), 3)) {
      try {
        checkRequest(name, measure, { groupBy }, principal, { maxCells: 20_000 });
      } catch {
        refused.push({ measure: measure.field, groupBy });
        continue;
      }
      timed.push(await timeGrouping(ask, measure, groupBy, options.rounds));
      const last = timed[timed.length - 1];
      log(`${measure.field}(${groupBy.join(', ')}): ${last.ms.map((ms) => (ms === null ? 'failed' : `${ms} ms`)).join(', ')}${last.error ? ` (${last.error})` : ''}`);
    }
  }

  const registrar = registrarOf('birth-registry', `bench:statistics-lag-${Date.now().toString(36)}`);
  const lag = await measureLag(url, await credentials.gateway(registrar), ask, samples, registrar.sub, options.lagSamples, log);
  return {
    citizens: options.citizens,
    startedAt,
    finishedAt: new Date().toISOString(),
    rebuild,
    seedingSeconds: readSeedingSeconds(options.citizens),
    groupings: timed,
    refusedByCellLimit: refused,
    lag,
  };
}

/** The read model built from scratch, in this process, with the refresher's own code and the statistics role's connections. */
async function buildReadModel(options: StatisticsBenchOptions, databases: AgencyDatabases, log: (line: string) => void): Promise<StatisticsReport['rebuild']> {
  const urls = databases.statisticsServiceUrls;
  const store = new Pool({ connectionString: urls.database, max: 3 });
  const sources = Object.fromEntries(AGENCIES.map((a) => [a.id, new Pool({ connectionString: urls.sources[a.id], max: 2 })])) as SourcePools;
  try {
    const built = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM st_nguon');
    const secret = pseudonymiser(readSecret(ensureSecret(BENCH_STATISTICS_SECRET_FILE)));
    if (!options.rebuild && Number(built.rows[0].n) > 0) {
      log('the statistics read model is built; not rebuilding (--rebuild to time a rebuild); bringing it and its cubes up to date…');
      // Today's cubes, if this day (or this code's set of cubes) has none yet: the refresh builds them, timed as a new day's first refresh.
      const started = Date.now();
      const result = await refreshStatistics(store, sources, secret, { log });
      const seconds = (Date.now() - started) / 1000;
      if (result.cubesBuilt) log(`today's cubes built in ${seconds.toFixed(1)} s: ${JSON.stringify(result.cubesBuilt)}`);
      return { seconds, rebuilt: false, cubesOnly: result.cubesBuilt !== null };
    }
    log('building the statistics read model from scratch…');
    const started = Date.now();
    const result = await refreshStatistics(store, sources, secret, { rebuild: true, log });
    const seconds = (Date.now() - started) / 1000;
    log(`read model built in ${seconds.toFixed(1)} s`);
    return { seconds, rebuilt: result.rebuilt, cubesOnly: false };
  } finally {
    await Promise.all([store.end(), ...Object.values(sources).map((p) => p.end())]);
  }
}

function readSeedingSeconds(citizens: number): number | null {
  try {
    const record = JSON.parse(fs.readFileSync(seedingRecord(citizens), 'utf8')) as { seconds?: unknown };
    return typeof record.seconds === 'number' ? record.seconds : null;
  } catch {
    return null;
  }
}

interface Answer {
  data?: Record<string, { cells: unknown[]; sources?: { agency: string; upTo: string }[] } | null> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(url: string, headers: Record<string, string>, query: string, variables?: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(180_000),
  });
  return (await response.json()) as Answer;
}

async function timeGrouping(ask: (query: string) => Promise<Answer>, measure: Measure, groupBy: string[], rounds: number): Promise<GroupingTiming> {
  const query = `{ t: ${measure.field}(groupBy: [${groupBy.join(', ')}]) { asOf dataAsOf total cells { count values { code } } } }`;
  const ms: (number | null)[] = [];
  let cells: number | null = null;
  let error: string | null = null;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    try {
      const answer = await ask(query);
      const elapsed = Math.round(performance.now() - started);
      if (answer.errors?.length || !answer.data?.t) {
        error = answer.errors?.[0] ? `${answer.errors[0].extensions?.code ?? ''} ${answer.errors[0].message}`.trim() : 'no data';
        ms.push(null);
      } else {
        ms.push(elapsed);
        cells = answer.data.t.cells.length;
      }
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      ms.push(null);
    }
  }
  return { measure: measure.field, groupBy, ms, cells, error };
}

/**
 * From each birth's answer to the first statistics answer whose sources (the birth registry's and residents' change
 * logs) are applied up to a time after the birth was sent: what an analyst waits to see it.
 */
async function measureLag(
  url: string,
  registrarHeaders: Record<string, string>,
  ask: (query: string) => Promise<Answer>,
  samples: Samples,
  registrar: string,
  count: number,
  log: (line: string) => void,
): Promise<StatisticsReport['lag']> {
  const births = birthWorkload(samples, registrar);
  const lags: number[] = [];
  const poll = '{ t: birthStatistics(groupBy: [PROVINCE]) { cells { count } sources { agency upTo } } }';
  const sent = new Set<unknown>();
  // A fresh birth each time: W6's workload repeats an earlier request now and then (an idempotent retry changes nothing).
  const fresh = () => {
    for (;;) {
      const variables = births.variables() as { input: { idempotencyKey: string } };
      if (!sent.has(variables.input.idempotencyKey)) {
        sent.add(variables.input.idempotencyKey);
        return variables;
      }
    }
  };
  for (let i = 0; i < count; i++) {
    const sentAt = new Date();
    const written = await post(url, registrarHeaders, births.query, fresh());
    if (written.errors?.length) return { samples: lags, error: `registerBirth: ${written.errors[0].extensions?.code ?? ''} ${written.errors[0].message}` };
    const writtenAt = Date.now();
    for (;;) {
      const answer = await ask(poll);
      const sources = answer.data?.t?.sources ?? [];
      const upTo = (agency: string) => Date.parse(sources.find((s) => s.agency === agency)?.upTo ?? '');
      if (['birth-registry', 'residents'].every((agency) => upTo(agency) >= sentAt.getTime() - 1000)) break;
      if (Date.now() - writtenAt > 5 * LAG_TARGET_MS) return { samples: lags, error: `birth ${i + 1} not in the statistics after ${(5 * LAG_TARGET_MS) / 1000} s` };
      await new Promise((resolve) => setTimeout(resolve, LAG_POLL_MS));
    }
    lags.push(Date.now() - writtenAt);
    log(`refresh lag, birth ${i + 1}/${count}: ${lags[lags.length - 1]} ms`);
    // Apart, so that each birth meets the refresher at another point of its interval.
    await new Promise((resolve) => setTimeout(resolve, 1700));
  }
  return { samples: lags, error: null };
}

const quantile = (values: number[], q: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

export function renderStatisticsMarkdown(report: StatisticsReport): string {
  const lines: string[] = [];
  lines.push(`# Statistics at ${report.citizens.toLocaleString('en')} citizens`, '');
  lines.push(`${report.startedAt} – ${report.finishedAt}. Through the Apollo gateway, access control on, as an analyst; asOf today; ms of wall time per request.`, '');
  const rebuild = report.rebuild?.rebuilt
    ? `${report.rebuild.seconds.toFixed(1)} s`
    : `not timed in this run (already built)${report.rebuild?.cubesOnly ? `; today's cubes built in ${report.rebuild.seconds.toFixed(1)} s` : ''}`;
  const seeding = report.seedingSeconds === null ? 'not recorded' : `${report.seedingSeconds.toFixed(1)} s`;
  lines.push(`**Read model from scratch:** ${rebuild}; seeding the population took ${seeding}.`, '');
  const lag = report.lag.samples;
  lines.push(
    `**Refresh lag** (birth registered → in the statistics; target ${LAG_TARGET_MS / 1000} s): ` +
      (lag.length ? `${lag.length} births, median ${quantile(lag, 0.5)} ms, max ${Math.max(...lag)} ms` : 'none measured') +
      (report.lag.error ? ` — ${report.lag.error}` : ''),
    '',
  );
  lines.push('| measure | dims | groupings | within 1 s | median ms | p95 ms | max ms | slowest grouping | failed | refused (cells) |', '|---|--:|--:|--:|--:|--:|--:|---|--:|--:|');
  const measures = [...new Set(report.groupings.map((g) => g.measure))];
  for (const measure of measures) {
    for (const dims of [1, 2, 3]) {
      const rows = report.groupings.filter((g) => g.measure === measure && g.groupBy.length === dims);
      const refused = report.refusedByCellLimit.filter((g) => g.measure === measure && g.groupBy.length === dims).length;
      if (rows.length === 0 && refused === 0) continue;
      // A grouping's figure is its slowest round: the target holds for every answer, not the lucky ones.
      const worst = rows.map((g) => ({ g, ms: g.ms.some((m) => m === null) ? null : Math.max(...(g.ms as number[])) }));
      const ok = worst.filter((w) => w.ms !== null) as { g: GroupingTiming; ms: number }[];
      const values = ok.map((w) => w.ms);
      const slowest = ok.sort((a, b) => b.ms - a.ms)[0];
      lines.push(
        `| ${measure} | ${dims} | ${rows.length} | ${values.filter((v) => v <= TARGET_MS).length} | ${fmt(quantile(values, 0.5))} | ${fmt(quantile(values, 0.95))} | ` +
          `${values.length ? Math.max(...values) : '—'} | ${slowest ? slowest.g.groupBy.join(', ') : '—'} | ${worst.length - ok.length} | ${refused} |`,
      );
    }
  }
  const failures = report.groupings.filter((g) => g.error);
  if (failures.length) {
    lines.push('', '**Failures:**', '');
    for (const f of failures) lines.push(`- ${f.measure}(${f.groupBy.join(', ')}): ${f.error}`);
  }
  return lines.join('\n') + '\n';
}

const fmt = (n: number) => (Number.isNaN(n) ? '—' : String(n));

export function writeStatisticsReport(report: StatisticsReport, directory: string): { json: string; markdown: string } {
  fs.mkdirSync(directory, { recursive: true });
  const stem = path.join(directory, `${report.startedAt.slice(0, 10)}-${report.citizens}-statistics`);
  let base = stem;
  for (let n = 2; fs.existsSync(`${base}.json`); n += 1) base = `${stem}-${n}`;
  const files = { json: `${base}.json`, markdown: `${base}.md` };
  fs.writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(files.markdown, renderStatisticsMarkdown(report));
  return files;
}
