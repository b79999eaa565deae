import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchOptions } from './options';
import type { Measurement } from './measure';

/**
 * The results: every measurement as measured (JSON), and per workload the mean of the rounds for each
 * target, with the throughput ratios, as Markdown tables (README.md in this folder explains the columns).
 */
export type Role = 'apollo' | 'hive' | 'subgraph';

export interface RecordedMeasurement extends Measurement {
  role: Role;
  round: number;
  /** Errors during the warm-up just before; not in the figures, recorded so that none goes unseen. */
  warmUpErrors: number;
}

export interface Summary {
  target: string;
  rounds: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Summed over the rounds, not averaged: one error in any round is worth seeing. */
  errors: number;
  sqlPerRequest: number;
  subgraphCallsPerRequest: number;
  cpuPercent: number;
  peakRssMb: number;
  /** CPU milliseconds per request by process, mean of the rounds (a process absent from a round counts 0 there). */
  cpuMsPerRequest: Record<string, number>;
}

export interface Section {
  id: string;
  title: string;
  /** Why there are no measurements, when there are none. */
  unavailable?: string;
  /** A note printed under the table. */
  note?: string;
  /** The access-control configuration measured. */
  security?: 'on' | 'off';
  query?: string;
  subgraph?: { id: string; query: string };
  measurements: RecordedMeasurement[];
  summary: Partial<Record<Role, Summary>>;
  ratios: { apolloOverHive?: number; subgraphOverApollo?: number; subgraphOverHive?: number };
}

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  totalMemoryGb: number;
  node: string;
  os: string;
  /** At the start of the run: other work on the machine skews every figure, so it is recorded. */
  loadAverage: number[];
}

export interface Report {
  startedAt: string;
  finishedAt: string;
  citizens: number;
  options: BenchOptions;
  warmUpSeconds: number;
  machine: Machine;
  samples: Record<string, number>;
  sections: Section[];
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryGb: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((value) => round(value, 2)),
  };
}

/** Fills in a section's summary and ratios from its measurements. */
export function summarize(section: Section, targetLabels: Record<Role, string>): Section {
  const summary: Section['summary'] = {};
  for (const role of ['apollo', 'hive', 'subgraph'] as Role[]) {
    const rows = section.measurements.filter((m) => m.role === role);
    if (rows.length === 0) continue;
    const mean = (pick: (m: RecordedMeasurement) => number) => rows.reduce((sum, m) => sum + pick(m), 0) / rows.length;
    summary[role] = {
      target: targetLabels[role],
      rounds: rows.length,
      rps: mean((m) => m.rps),
      p50Ms: mean((m) => m.p50Ms),
      p95Ms: mean((m) => m.p95Ms),
      p99Ms: mean((m) => m.p99Ms),
      errors: rows.reduce((sum, m) => sum + m.errors.total + (m.background?.errors.total ?? 0), 0),
      sqlPerRequest: mean((m) => m.sqlPerRequest),
      subgraphCallsPerRequest: mean((m) => m.subgraphCallsPerRequest),
      cpuPercent: mean((m) => m.cpuPercent),
      peakRssMb: Math.max(...rows.map((m) => m.peakRssMb)),
      cpuMsPerRequest: Object.fromEntries(
        [...new Set(rows.flatMap((m) => Object.keys(m.cpuMsPerRequest ?? {})))].map((name) => [name, mean((m) => m.cpuMsPerRequest?.[name] ?? 0)]),
      ),
    };
  }
  const ratio = (a?: Summary, b?: Summary) => (a && b && b.rps > 0 ? a.rps / b.rps : undefined);
  return {
    ...section,
    summary,
    ratios: {
      apolloOverHive: ratio(summary.apollo, summary.hive),
      subgraphOverApollo: ratio(summary.subgraph, summary.apollo),
      subgraphOverHive: ratio(summary.subgraph, summary.hive),
    },
  };
}

export function renderMarkdown(report: Report): string {
  const { machine, options } = report;
  const lines = [
    `# Citizen Graph benchmark: ${report.startedAt.slice(0, 10)}, ${report.citizens.toLocaleString('en')} citizens`,
    '',
    `Machine: ${machine.cpuModel} × ${machine.cpuCount}, ${machine.totalMemoryGb} GiB, Node ${machine.node}, ${machine.os}; ` +
      `load average at start ${machine.loadAverage.join(' / ')}.`,
    `Each measurement: ${options.duration} s with ${options.connections} connections, right after a ${report.warmUpSeconds} s warm-up of the same target; ` +
      `figures are the mean of ${options.rounds} round${options.rounds === 1 ? '' : 's'} (errors: the sum). Gateways and subgraphs run on this machine, one process each.`,
    '',
  ];
  for (const section of report.sections) {
    lines.push(`## ${section.id}: ${section.title}`, '');
    if (section.unavailable) {
      lines.push(section.unavailable, '');
      continue;
    }
    lines.push(
      '| target | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/request | subgraph calls/request | CPU % | RSS MB | subgraph ÷ gateway req/s |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    );
    const overhead: Partial<Record<Role, number>> = { apollo: section.ratios.subgraphOverApollo, hive: section.ratios.subgraphOverHive };
    for (const role of ['apollo', 'hive', 'subgraph'] as Role[]) {
      const s = section.summary[role];
      if (!s) continue;
      lines.push(
        `| ${s.target} | ${rate(s.rps)} | ${ms(s.p50Ms)} | ${ms(s.p95Ms)} | ${ms(s.p99Ms)} | ${s.errors} | ${fixed(s.sqlPerRequest, 2)} | ` +
          `${fixed(s.subgraphCallsPerRequest, 2)} | ${fixed(s.cpuPercent, 0)} | ${fixed(s.peakRssMb, 0)} | ${overhead[role] === undefined ? '—' : fixed(overhead[role]!, 2)} |`,
      );
    }
    lines.push('');
    for (const role of ['apollo', 'hive', 'subgraph'] as Role[]) {
      const s = section.summary[role];
      if (s && Object.keys(s.cpuMsPerRequest).length > 0) lines.push(`CPU per request through ${s.target}: ${cpuBreakdown(s.cpuMsPerRequest)}.`, '');
    }
    if (section.ratios.apolloOverHive !== undefined) lines.push(`Apollo/Hive throughput: ${fixed(section.ratios.apolloOverHive, 2)}.`);
    if (section.note) lines.push(section.note);
    lines.push('');
  }
  return lines.join('\n');
}

export function writeReport(report: Report, directory: string): { json: string; markdown: string } {
  fs.mkdirSync(directory, { recursive: true });
  // A second run on the same day and size gets its own files (-2, -3…): a quick partial run must not
  // overwrite the day's full one.
  const stem = path.join(directory, `${localDate(new Date(report.startedAt))}-${report.citizens}`);
  let base = stem;
  for (let n = 2; fs.existsSync(`${base}.json`) || fs.existsSync(`${base}.md`); n += 1) base = `${stem}-${n}`;
  const files = { json: `${base}.json`, markdown: `${base}.md` };
  fs.writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(files.markdown, renderMarkdown(report));
  return files;
}

function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "total 28.3 ms: apollo gateway 8.2, residents subgraph 5.5, …", largest first, those under 0.05 ms left out. */
export function cpuBreakdown(msByProcess: Record<string, number>): string {
  const total = Object.values(msByProcess).reduce((sum, value) => sum + value, 0);
  const parts = Object.entries(msByProcess)
    .filter(([, value]) => Math.abs(value) >= 0.05)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .map(([name, value]) => `${name} ${fixed(value, 1)}`);
  return `total ${fixed(total, 1)} ms: ${parts.join(', ')}`;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const fixed = (value: number, digits: number) => value.toFixed(digits);
const rate = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
