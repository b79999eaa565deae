import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openPools } from '../tools/databases';
import { AGENCIES, agency } from '../lib/agencies';
import { ensureSeeded } from '../scripts/seeding';
import { readConfig } from '../scripts/config';
import { sampleData } from './samples';
import { BenchServices } from './services';
import { measure, warmUp, type Measurement } from './measure';
import { defineWorkloads } from './workloads';
import { benchCredentials, PERSONAS } from './credentials';
import { describeMachine } from './report';

/**
 * W1 (the unified view) with one agency hung, against W1 with every agency answering: does a hung agency slow
 * the others' answers? The hung agency is a TCP peer in this process that accepts the gateway's connections and
 * never answers; the Apollo gateway is sent there for that agency (SUBGRAPH_<NAME>_URL) and otherwise runs as
 * `npm run bench` runs it (access control on). The warm-up lets the gateway's circuit breaker open (the first
 * calls wait SUBGRAPH_TIMEOUT_MS); during the measurement a probe every SUBGRAPH_BREAKER_PROBE_AFTER_MS waits it
 * out too. Each W1 answer then lacks the hung agency's fields (AGENCY_UNAVAILABLE: counted among the errors).
 *
 *   npx tsx bench/hung-subgraph.ts [--subgraph birth-registry] [--duration 10] [--warmup 10] [--rounds 1] [--connections 20] [--citizens 10000]
 *                                  [--without-breaker]   (the hung case with SUBGRAPH_BREAKER_FAILURES=0: as before the breaker)
 *
 * With --rounds 2 or more the two configurations alternate in mirrored pairs (normal, hung, hung, normal, ...).
 * Writes bench/results/<date>-<citizens>-hung-<subgraph>.{json,md}.
 */
const log = (line: string) => console.error(`[bench] ${line}`);
const RESULTS_DIR = path.resolve(__dirname, 'results');

function readOptions() {
  const { values } = parseArgs({
    options: {
      subgraph: { type: 'string', default: 'birth-registry' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '1' },
      connections: { type: 'string', default: '20' },
      citizens: { type: 'string', default: '10000' },
      'without-breaker': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const hung = AGENCIES.find((a) => a.id === values.subgraph && a.id !== 'residents');
  // Residents answers the unified view's root field: with it hung there are no other agencies' data to wait for.
  if (!hung) throw new Error(`--subgraph must be national-id or birth-registry, not "${values.subgraph}"`);
  const positive = (name: string, raw: string) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not "${raw}"`);
    return value;
  };
  return {
    hung: hung.id,
    duration: positive('duration', values.duration),
    warmUp: positive('warmup', values.warmup),
    rounds: positive('rounds', values.rounds),
    connections: positive('connections', values.connections),
    citizens: positive('citizens', values.citizens),
    /** The hung case as before the circuit breaker: SUBGRAPH_BREAKER_FAILURES=0. */
    withoutBreaker: values['without-breaker'],
  };
}

/** A peer that takes every connection and never answers, as a hung process behind its port does. */
async function startHungPeer(): Promise<{ url: string; connections: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/graphql`,
    connections: () => accepted,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

type Configuration = 'normal' | 'hung';

/**
 * One request at a time until one comes back with every agency's data but the hung one's: freshly started
 * processes answer their first calls slowly (Prisma's query compiler, the JIT), and twenty of those at once on a
 * busy machine outlast SUBGRAPH_TIMEOUT_MS and open a healthy agency's circuit before anything is measured.
 */
async function prime(url: string, operation: { query: string; variables: () => Record<string, unknown>; headers?: Record<string, string> }, hungTitle: string | null) {
  for (let attempt = 1; attempt <= 60; attempt += 1) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operation.headers },
      body: JSON.stringify({ query: operation.query, variables: operation.variables() }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: { extensions?: { agency?: string } }[] };
    const others = (body.errors ?? []).filter((error) => error.extensions?.agency !== hungTitle);
    if (body.data && others.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error('the gateway did not give a complete answer in 60 tries');
}

async function main() {
  const options = readOptions();
  const machine = describeMachine();
  const startedAt = new Date();
  const services = new BenchServices(log, (what) => {
    log(`${what}; stopping everything.`);
    void services.stop().then(() => process.exit(1));
  });
  const finish = async (code: number) => {
    await services.stop({ immediately: code !== 0 });
    process.exit(code);
  };
  process.on('SIGINT', () => void finish(130));
  process.on('SIGTERM', () => void finish(143));
  const peer = await startHungPeer();
  try {
    const databases = await services.startDatabases(options.citizens);
    const pools = openPools(databases.urls);
    let samples;
    try {
      await ensureSeeded(pools, { citizens: options.citizens, seed: readConfig().seed, log });
      samples = await sampleData(pools);
    } finally {
      await pools.end();
    }
    const credentials = await benchCredentials(true);
    const w1 = defineWorkloads(samples).W1;
    const operation = { ...w1, headers: await credentials.gateway(PERSONAS.reader) };
    const measurements: (Measurement & { configuration: Configuration; round: number })[] = [];
    for (let round = 1; round <= options.rounds; round += 1) {
      const order: Configuration[] = round % 2 === 1 ? ['normal', 'hung'] : ['hung', 'normal'];
      for (const configuration of order) {
        const gatewayEnv =
          configuration === 'hung'
            ? { [`SUBGRAPH_${agency(options.hung).envPrefix}_URL`]: peer.url, ...(options.withoutBreaker ? { SUBGRAPH_BREAKER_FAILURES: '0' } : {}) }
            : undefined;
        log(`round ${round}/${options.rounds}: ${configuration === 'hung' ? `${options.hung} hung` : 'every agency answering'}…`);
        const running = await services.startServers(true, { gatewayEnv });
        const target = running.gateways.apollo;
        await prime(target.url, operation, configuration === 'hung' ? agency(options.hung).title : null);
        const warm = await warmUp(target, operation, options.connections, options.warmUp);
        log(`warm-up: ${warm.completed} requests, ${warm.errors.total} with errors`);
        const measured = await measure({
          target,
          operation,
          connections: options.connections,
          duration: options.duration,
          metricsUrls: running.metricsUrls,
          processes: running.processes,
          postmasterPid: running.postmasterPid,
        });
        log(
          `${configuration}: ${measured.rps.toFixed(1)} req/s, p50 ${measured.p50Ms} ms, p95 ${Math.round(measured.p95Ms)} ms, p99 ${measured.p99Ms} ms, ` +
            `${measured.errors.total} with errors${measured.errorSamples[0] ? ` (${measured.errorSamples[0].slice(0, 120)})` : ''}`,
        );
        measurements.push({ ...measured, configuration, round });
        await services.stopServers();
      }
    }
    const summary = summarize(measurements);
    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options,
      machine,
      hungPeerConnections: peer.connections(),
      summary,
      measurements,
    };
    const base = path.join(
      RESULTS_DIR,
      `${startedAt.toISOString().slice(0, 10)}-${options.citizens}-hung-${options.hung}${options.withoutBreaker ? '-without-breaker' : ''}`,
    );
    fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
    const markdown = render(options, summary, machine);
    fs.writeFileSync(`${base}.md`, markdown);
    console.log(markdown);
    log(`results in ${path.relative(process.cwd(), base)}.{json,md}`);
    await peer.stop();
    await finish(0);
  } catch (error) {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await peer.stop();
    await finish(1);
  }
}

interface Row {
  rounds: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  requests: number;
  withErrors: number;
}

function summarize(measurements: (Measurement & { configuration: Configuration })[]): Record<Configuration, Row> {
  const row = (configuration: Configuration): Row => {
    const rows = measurements.filter((m) => m.configuration === configuration);
    const mean = (pick: (m: Measurement) => number) => rows.reduce((sum, m) => sum + pick(m), 0) / rows.length;
    return {
      rounds: rows.length,
      rps: mean((m) => m.rps),
      p50Ms: mean((m) => m.p50Ms),
      p95Ms: mean((m) => m.p95Ms),
      p99Ms: mean((m) => m.p99Ms),
      requests: rows.reduce((sum, m) => sum + m.completed, 0),
      withErrors: rows.reduce((sum, m) => sum + m.errors.total, 0),
    };
  };
  return { normal: row('normal'), hung: row('hung') };
}

function render(options: ReturnType<typeof readOptions>, summary: Record<Configuration, Row>, machine: ReturnType<typeof describeMachine>): string {
  const { normal, hung } = summary;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  const line = (name: string, r: Row) =>
    `| ${name} | ${r.rps.toFixed(1)} | ${r.p50Ms.toFixed(1)} | ${r.p95Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.withErrors} of ${r.requests} |`;
  const within = ratio(hung.p50Ms, normal.p50Ms) <= 2 && ratio(hung.p95Ms, normal.p95Ms) <= 2;
  return [
    `# W1 with ${agency(options.hung).title} hung${options.withoutBreaker ? ', without the circuit breaker' : ''}`,
    '',
    `${options.citizens} citizens, ${options.connections} connections, ${options.duration} s per measurement after ${options.warmUp} s of warm-up, ` +
      `${options.rounds} round(s); ${machine.cpuCount} × ${machine.cpuModel}, load average at start ${machine.loadAverage.join(', ')}.`,
    '',
    '| W1 on the Apollo gateway | req/s | p50 ms | p95 ms | p99 ms | answers with errors |',
    '|---|---|---|---|---|---|',
    line('every agency answering', normal),
    line(`${options.hung} hung`, hung),
    '',
    `Hung ÷ normal: p50 ${ratio(hung.p50Ms, normal.p50Ms).toFixed(2)}, p95 ${ratio(hung.p95Ms, normal.p95Ms).toFixed(2)}, ` +
      `p99 ${ratio(hung.p99Ms, normal.p99Ms).toFixed(2)}, throughput ${ratio(hung.rps, normal.rps).toFixed(2)}: ` +
      `${within ? 'within' : 'NOT within'} 2× of normal (p50 and p95). With the agency hung every answer carries its AGENCY_UNAVAILABLE errors.`,
    '',
  ].join('\n');
}

void main();
