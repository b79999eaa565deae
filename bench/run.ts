import fs from 'node:fs';
import path from 'node:path';
import { benchStatistics, renderStatisticsMarkdown, seedingRecord, STATISTICS_BENCH_ENV, writeStatisticsReport } from './statistics';
import { openPools } from '../tools/databases';
import { ensureSeeded } from '../scripts/seeding';
import { readConfig } from '../scripts/config';
import { readOptions, type BenchOptions } from './options';
import { sampleData, type Samples } from './samples';
import { BenchServices, type Services, type Target } from './services';
import { measure, warmUp, type Operation } from './measure';
import { birthWorkload, defineWorkloads, type Workload } from './workloads';
import { auditBirths } from './birth-audit';
import { benchCredentials, PERSONAS, registrarOf, type Credentials } from './credentials';
import type { TokenClaims } from '../tools/dev-keys';
import type { AgencyDatabases } from '../tools/databases';
import { cpuBreakdown, describeMachine, renderMarkdown, summarize, writeReport, type RecordedMeasurement, type Report, type Role, type Section } from './report';

/**
 * npm run bench: the whole federation on this machine (PostgreSQL, three subgraphs, the Apollo gateway and
 * Hive Gateway over the same supergraph), each workload measured on both gateways in alternation and on
 * the owning subgraph alone, then bench/results/<date>-<citizens>.{json,md}. See bench/README.md.
 */
const BACKGROUND_CONNECTIONS = 2;
const RESULTS_DIR = path.resolve(__dirname, 'results');

const log = (line: string) => console.error(`[bench] ${line}`);

async function main() {
  let options: BenchOptions;
  try {
    options = readOptions();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  }
  const startedAt = new Date();
  const machine = describeMachine();
  const services = new BenchServices(
    log,
    (what) => {
      log(`${what}; stopping everything.`);
      void finish(1);
    },
    options.profileDir,
  );
  const finish = async (code: number, immediately = false) => {
    await services.stop({ immediately });
    process.exit(code);
  };
  process.on('SIGINT', () => void finish(130, true));
  process.on('SIGTERM', () => void finish(143, true));

  try {
    log(`starting PostgreSQL on .data/bench-${options.citizens}…`);
    const databases = await services.startDatabases(options.citizens);
    const pools = openPools(databases.urls);
    let samples: Samples;
    try {
      const { seededSeconds } = await ensureSeeded(pools, { citizens: options.citizens, seed: readConfig().seed, log });
      // Kept beside the data: the statistics bench compares the read model's rebuild with it.
      if (seededSeconds !== null) fs.writeFileSync(seedingRecord(options.citizens), JSON.stringify({ seconds: seededSeconds, at: new Date().toISOString() }) + '\n');
      samples = await sampleData(pools);
    } finally {
      await pools.end();
    }
    if (options.statistics) {
      const report = await benchStatistics(
        { citizens: options.citizens, rounds: options.rounds, rebuild: options.rebuild, lagSamples: 5 },
        databases,
        samples,
        () => services.startServers(true, { statisticsEnv: STATISTICS_BENCH_ENV.statistics, gatewayEnv: STATISTICS_BENCH_ENV.gateway }),
        log,
      );
      const files = writeStatisticsReport(report, RESULTS_DIR);
      console.log(renderStatisticsMarkdown(report));
      log(`results in ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.markdown)}`);
      await finish(0);
      return;
    }
    // With both configurations, they alternate in mirrored pairs of rounds (on, off, off, on, on, off…), each
    // round on freshly started servers, so that neither gains from running later or earlier: the very first
    // round runs on a cold PostgreSQL and page cache, and a drift in the machine's load favours whichever
    // configuration runs when it is quieter. An even number of rounds cancels both.
    const perRound = options.security.length > 1 ? { ...options, rounds: 1 } : options;
    const rounds = options.security.length > 1 ? options.rounds : 1;
    const sections: Section[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      const order = round % 2 === 1 ? options.security : [...options.security].reverse();
      for (const security of order) {
        log(`starting the subgraphs and the gateways with access control ${security}${rounds > 1 ? ` (round ${round}/${rounds})` : ''}…`);
        const running = await services.startServers(security === 'on');
        const measured = await runWorkloads(perRound, running, samples, databases, await benchCredentials(security === 'on'));
        await services.stopServers();
        for (const section of measured) mergeRound(sections, section, round);
      }
    }
    const comparison = compareSecurity(sections);
    if (comparison) sections.push(comparison);
    const report: Report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      citizens: options.citizens,
      options,
      warmUpSeconds: options.warmUp,
      machine,
      samples: {
        livingCodes: samples.livingCodes.length,
        households: samples.households.length,
        legacyIdNumbers: samples.legacyIdNumbers.length,
        names: samples.names.length,
      },
      sections,
    };
    const files = writeReport(report, RESULTS_DIR);
    console.log(renderMarkdown(report));
    log(`results in ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.markdown)}`);
    await finish(0);
  } catch (error) {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await finish(1);
  }
}

async function runWorkloads(
  options: BenchOptions,
  services: Services,
  samples: Samples,
  databases: AgencyDatabases,
  credentials: Credentials,
): Promise<Section[]> {
  const workloads = defineWorkloads(samples);
  const sections: Section[] = [];
  // Who each workload's load goes as: the whole record under a court order, statistics as an analyst.
  const as = async (workload: Workload, persona: TokenClaims): Promise<Workload> => ({
    ...workload,
    headers: { ...workload.headers, ...(await credentials.gateway(persona)) },
    subgraphHeaders: credentials.subgraph(persona, workload.subgraph.id),
  });
  for (const id of options.workloads) {
    let section: Section;
    if (id === 'W6') {
      section = await measureBirths(samples, options, services, databases, credentials);
    } else {
      const persona = id === 'W5' ? PERSONAS.analyst : id === 'W7' ? PERSONAS.clerk : PERSONAS.reader;
      section = await measureWorkload(await as(workloads[id], persona), options, services);
    }
    sections.push(labelled(section, services.security));
    // W5 is also the background load under which W1 is measured again, as a frontend sees it while an analyst queries.
    if (id === 'W5') {
      const w1 = await as(workloads.W1, PERSONAS.reader);
      const w5 = await as(workloads.W5, PERSONAS.analyst);
      sections.push(labelled(await measureUnderBackground(w1, w5, options, services, sections), services.security));
    }
  }
  return sections;
}

/** Adds a round's section to the one already measured for the same workload and configuration. */
function mergeRound(sections: Section[], section: Section, round: number): void {
  const earlier = sections.find((s) => s.id === section.id && s.security === section.security);
  const measurements = section.measurements.map((m) => ({ ...m, round }));
  if (!earlier) {
    sections.push({ ...section, measurements });
    return;
  }
  const merged = summarize({ ...earlier, measurements: [...earlier.measurements, ...measurements] }, { ...labelsOf(earlier), ...labelsOf(section) });
  sections[sections.indexOf(earlier)] = { ...merged, note: section.note ?? earlier.note };
}

const labelsOf = (section: Section) =>
  Object.fromEntries(Object.entries(section.summary).map(([role, summary]) => [role, summary!.target])) as Record<Role, string>;

/** A section of one configuration, said in its title (the report then holds both). */
function labelled(section: Section, security: boolean): Section {
  return { ...section, security: security ? 'on' : 'off', title: `${section.title} — access control ${security ? 'on' : 'off'}` };
}

/**
 * W1 with access control on and off, same machine, same run: how much the whole of it (tokens, the policy
 * check, sealed subgraphs, per-field guards, audit records) costs the unified view.
 */
function compareSecurity(sections: Section[]): Section | null {
  const on = sections.find((s) => s.id === 'W1' && s.security === 'on')?.summary.apollo;
  const off = sections.find((s) => s.id === 'W1' && s.security === 'off')?.summary.apollo;
  if (!on || !off) return null;
  const ratio = on.rps / off.rps;
  return {
    id: 'W1 on/off',
    title: 'Unified view through the Apollo gateway: access control on vs off',
    measurements: [],
    summary: {},
    ratios: {},
    unavailable:
      `On: ${on.rps.toFixed(1)} req/s, p50 ${on.p50Ms.toFixed(1)} ms, p99 ${on.p99Ms.toFixed(1)} ms. ` +
      `Off: ${off.rps.toFixed(1)} req/s, p50 ${off.p50Ms.toFixed(1)} ms, p99 ${off.p99Ms.toFixed(1)} ms. ` +
      `Throughput with it on: ${(ratio * 100).toFixed(1)}% of off (${((1 - ratio) * 100).toFixed(1)}% lost; the target allows at most 20%). ` +
      `What it costs per request, on minus off, by process: ${cpuBreakdown(difference(on.cpuMsPerRequest, off.cpuMsPerRequest))}.`,
  };
}

function difference(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return Object.fromEntries([...names].map((name) => [name, (a[name] ?? 0) - (b[name] ?? 0)]));
}

/** A workload on Apollo, Hive and the owning subgraph alone: A, H, S in every round, each after its warm-up. */
async function measureWorkload(workload: Workload, options: BenchOptions, services: Services): Promise<Section> {
  const subgraph = services.subgraphs[workload.subgraph.id];
  const plans: Plan[] = [
    { role: 'apollo', target: services.gateways.apollo, operation: workload },
    ...(services.gateways.hive ? [{ role: 'hive' as const, target: services.gateways.hive, operation: workload }] : []),
    { role: 'subgraph', target: subgraph, operation: { query: workload.subgraph.query, variables: workload.variables, headersFor: workload.subgraphHeaders } },
  ];
  const measurements = await runPlans(workload.id, plans, options, services);
  return summarize(
    { id: workload.id, title: workload.title, query: workload.query, subgraph: workload.subgraph, measurements, summary: {}, ratios: {} },
    labels(`${workload.subgraph.id} subgraph alone`),
  );
}

async function measureUnderBackground(
  w1: Workload,
  w5: Workload,
  options: BenchOptions,
  services: Services,
  earlier: Section[],
): Promise<Section> {
  const id = 'W1+W5';
  const background = { ...w5, connections: BACKGROUND_CONNECTIONS };
  const plans: Plan[] = [
    { role: 'apollo', target: services.gateways.apollo, operation: w1 },
    ...(services.gateways.hive ? [{ role: 'hive' as const, target: services.gateways.hive, operation: w1 }] : []),
  ];
  const measurements = await runPlans(id, plans, options, services, background);
  const section = summarize(
    {
      id,
      title: `${w1.title}, while W5 runs in the background (${BACKGROUND_CONNECTIONS} connections)`,
      query: w1.query,
      measurements,
      summary: {},
      ratios: {},
    },
    labels('—'),
  );
  const alone = earlier.find((s) => s.id === 'W1');
  const compare = (role: 'apollo' | 'hive', name: string) => {
    const withBackground = section.summary[role]?.p99Ms.toFixed(1) ?? '—';
    const without = alone?.summary[role]?.p99Ms.toFixed(1);
    const backgroundRps = mean(measurements.filter((m) => m.role === role).map((m) => m.background?.rps ?? 0));
    return `${name} ${without ?? '(W1 not run)'} → ${withBackground} ms (W5 background: ${backgroundRps.toFixed(1)} req/s)`;
  };
  section.note =
    `W1 p99 without → with W5 in the background: ${compare('apollo', 'Apollo')}; ${compare('hive', 'Hive')}. ` +
    'Errors include the background requests; SQL and subgraph calls per request count W1 and W5 requests together.';
  return section;
}

/**
 * W6, registerBirth: on the Apollo gateway and on the birth-registry subgraph alone (which makes the same
 * service call to residents), then an audit of both databases for duplicates. Not on Hive Gateway: it does
 * not pass the client's x-actor header to the subgraphs without a configuration of its own, and a write
 * without an actor is refused.
 */
async function measureBirths(samples: Samples, options: BenchOptions, services: Services, databases: AgencyDatabases, credentials: Credentials): Promise<Section> {
  const registrar = `bench:w6-${Date.now().toString(36)}`;
  const workload = birthWorkload(samples, registrar);
  const persona = registrarOf('birth-registry', registrar);
  const plans: Plan[] = [
    { role: 'apollo', target: services.gateways.apollo, operation: { ...workload, headers: await credentials.gateway(persona) } },
    { role: 'subgraph', target: services.subgraphs['birth-registry'], operation: { ...workload, headersFor: credentials.subgraph(persona, 'birth-registry') } },
  ];
  const measurements = await runPlans(workload.id, plans, options, services);
  const pools = openPools(databases.urls);
  let audit;
  try {
    audit = await auditBirths(pools, registrar);
  } finally {
    await pools.end();
  }
  const section = summarize(
    { id: workload.id, title: workload.title, query: workload.query, subgraph: workload.subgraph, measurements, summary: {}, ratios: {} },
    labels('birth-registry subgraph alone'),
  );
  section.note =
    `Afterwards, in both databases (warm-ups included): ${audit.requests} birth requests recorded, ${audit.registered} registered with a code, ` +
    `${audit.pending} pending, ${audit.heldForReview} held for review; ${audit.codesIssued} codes issued and ${audit.citizensCreated} citizens created; ` +
    `duplicates found: ${audit.duplicates} (orphan codes: ${audit.orphanCodes}). Not run on Hive Gateway (see bench/README.md).`;
  log(`W6 audit: ${JSON.stringify(audit)}`);
  return section;
}

interface Plan {
  role: Role;
  target: Target;
  operation: Operation;
}

async function runPlans(
  id: string,
  plans: Plan[],
  options: BenchOptions,
  services: Services,
  background?: Operation & { connections: number },
): Promise<RecordedMeasurement[]> {
  const measurements: RecordedMeasurement[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const plan of plans) {
      // Right before each measurement, so that every one starts from the same warm state (planner caches,
      // JIT, kept-alive sockets and database connections in use) whatever ran on the other targets meanwhile.
      const warm = await warmUp(plan.target, plan.operation, options.connections, options.warmUp);
      if (warm.errors.total > 0) {
        log(`${id} warm-up on ${plan.target.name}: ${warm.errors.total} errors, e.g. ${warm.errorSamples[0] ?? 'connection errors'}`);
      }
      const measured = await measure({
        target: plan.target,
        operation: plan.operation,
        connections: options.connections,
        duration: options.duration,
        metricsUrls: services.metricsUrls,
        background,
        processes: services.processes,
        postmasterPid: services.postmasterPid,
      });
      measurements.push({ ...measured, role: plan.role, round, warmUpErrors: warm.errors.total });
      log(
        `${id} round ${round}/${options.rounds} ${plan.target.name}: ${measured.rps.toFixed(1)} req/s, p50 ${measured.p50Ms} ms, p95 ${Math.round(measured.p95Ms)} ms, p99 ${measured.p99Ms} ms, ` +
          `${measured.errors.total} errors${measured.errorSamples[0] ? ` (${measured.errorSamples[0]})` : ''}, ` +
          `${measured.sqlPerRequest.toFixed(2)} SQL/request`,
      );
    }
  }
  return measurements;
}

const labels = (subgraph: string): Record<Role, string> => ({ apollo: 'Apollo gateway', hive: 'Hive Gateway', subgraph });
const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

void main();
