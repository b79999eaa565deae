import type { IncomingMessage } from 'node:http';
import type { Logger } from './log';

/**
 * The server log's lines for refused credentials (401): one warning per refusal with its reason and the
 * client's address, at most `perSecond` lines a second; the lines a flood would add beyond that are
 * counted and reported in one line when the next second starts, so a flood of forged tokens cannot
 * drown the log (or the disk) and is still visible as a number. The gateway logs refused bearer tokens,
 * each subgraph refused service credentials (never the token itself). Refusals by policy (403) are audited
 * instead (gateway/access-policy.ts, lib/access/subgraph-access.ts): those name a verified caller.
 */
export type RefusalLog = (reason: string, req: IncomingMessage) => void;

/** Where the lines go: the service's log (lib/log.ts). */
type WarningLog = Pick<Logger, 'warn'>;

export function createRefusalLog(options: { perSecond?: number; log: WarningLog }): RefusalLog {
  const perSecond = options.perSecond ?? 10;
  const log = options.log;
  let second = 0;
  let written = 0;
  let suppressed = 0;
  return (reason, req) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      if (suppressed > 0) log.warn({ count: suppressed, second }, 'credentials refused (not logged one by one)');
      second = now;
      written = 0;
      suppressed = 0;
    }
    if (written >= perSecond) {
      suppressed += 1;
      return;
    }
    written += 1;
    log.warn({ reason, client: req.socket?.remoteAddress ?? null }, 'credential refused');
  };
}
