import type { IncomingMessage } from 'node:http';

/**
 * The server log's lines for refused credentials (401): one JSON line per refusal with its reason and the
 * client's address, at most `perSecond` lines a second; the lines a flood would add beyond that are
 * counted and reported in one line when the next second starts, so a flood of forged tokens cannot
 * drown the log (or the disk) and is still visible as a number. The gateway logs refused bearer tokens,
 * each subgraph refused service credentials. Refusals by policy (403) are audited instead
 * (gateway/access-policy.ts, lib/access/subgraph-access.ts): those name a verified caller.
 */
export type RefusalLog = (reason: string, req: IncomingMessage) => void;

export function createRefusalLog(options: { perSecond?: number; write?: (line: string) => void } = {}): RefusalLog {
  const perSecond = options.perSecond ?? 10;
  const write = options.write ?? ((line: string) => console.error(line));
  let second = 0;
  let written = 0;
  let suppressed = 0;
  return (reason, req) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      if (suppressed > 0) write(JSON.stringify({ level: 'warn', msg: 'credentials refused (not logged one by one)', count: suppressed, second }));
      second = now;
      written = 0;
      suppressed = 0;
    }
    if (written >= perSecond) {
      suppressed += 1;
      return;
    }
    written += 1;
    write(JSON.stringify({ level: 'warn', msg: 'credential refused', reason, client: req.socket?.remoteAddress ?? null, at: new Date().toISOString() }));
  };
}
