import fs from 'node:fs';
import path from 'node:path';

/**
 * Where a process's CPU time went, from a V8 .cpuprofile (node --cpu-prof): self time per function and
 * per package, the two views that say what to optimise. Usage: tsx bench/profile-summary.ts <file.cpuprofile>
 */
interface ProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Time not spent idle: the base of every share below. */
  busyMs: number;
  functions: { name: string; where: string; selfMs: number; share: number }[];
  packages: { name: string; selfMs: number; share: number }[];
}

/** node_modules/@scope/name or node_modules/name, the project's own folder, or V8/Node internals. */
function packageOf(url: string): string {
  if (!url) return '(V8: garbage collection, native, program)';
  if (url.startsWith('node:')) return 'node (core)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const local = url.replace(/^file:\/\//, '');
  return `citizen-graph: ${path.relative(path.resolve(__dirname, '..'), local).split(path.sep)[0]}`;
}

export function summariseProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const msPerSample = totalMs / Math.max(profile.samples.length, 1);
  const byFunction = new Map<string, { name: string; where: string; selfMs: number }>();
  const byPackage = new Map<string, number>();
  let idleMs = 0;
  for (const node of profile.nodes) {
    const selfMs = (node.hitCount ?? 0) * msPerSample;
    if (selfMs === 0) continue;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += selfMs;
      continue;
    }
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/main\//, '')}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, selfMs: 0 };
    entry.selfMs += selfMs;
    byFunction.set(key, entry);
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + selfMs);
  }
  const busyMs = totalMs - idleMs;
  const share = (ms: number) => ms / busyMs;
  return {
    totalMs,
    busyMs,
    functions: [...byFunction.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, share: share(f.selfMs) })),
    packages: [...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({ name, selfMs, share: share(selfMs) })),
  };
}

export function profileMarkdown(summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `Profile: ${(summary.totalMs / 1000).toFixed(1)} s of wall time, ${(summary.busyMs / 1000).toFixed(1)} s busy (shares are of the busy time).`,
    '',
    '| package | self time | share |',
    '|---|--:|--:|',
    ...summary.packages.map((p) => `| ${p.name} | ${p.selfMs.toFixed(0)} ms | ${pct(p.share)} |`),
    '',
    '| function | where | self time | share |',
    '|---|---|--:|--:|',
    ...summary.functions.map((f) => `| ${f.name} | ${f.where} | ${f.selfMs.toFixed(0)} ms | ${pct(f.share)} |`),
  ].join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile>');
    process.exit(2);
  }
  console.log(profileMarkdown(summariseProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile)));
}
