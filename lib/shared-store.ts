import Redis from 'ioredis';
import { redactUrl } from './env';
import type { Logger } from './log';

/**
 * The store that replicas of one service share (REDIS_URL, REDIS_TIMEOUT_MS): the gateway replicas' rate limits
 * (gateway/rate-limit.ts) and the subgraph replicas' memory of accepted credentials (lib/service-auth.ts
 * SharedReplayCache). Unset, each process keeps both in its own memory, as one process needs.
 *
 * The connection never makes a request wait on Redis for long: a command while disconnected fails at once (no
 * offline queue), one that gets no answer fails after REDIS_TIMEOUT_MS, and the client reconnects on its own in
 * the background. What a failure then means is each user's decision: the replay cache refuses the credential
 * (fail closed), the rate limiter falls back to a per-process limit.
 */
export interface SharedStoreSettings {
  url: string;
  /** REDIS_TIMEOUT_MS: how long a command may go unanswered before it counts as failed. */
  timeoutMs: number;
}

export interface SharedStore {
  client: Redis;
  /** Connected and answering as far as the client knows (no round trip: health checks call it often). */
  ready(): boolean;
  close(): Promise<void>;
}

export function connectSharedStore(settings: SharedStoreSettings, options: { name: string; log: Pick<Logger, 'info' | 'warn'> }): SharedStore {
  const { url } = settings;
  const { log } = options;
  const client = new Redis(url, {
    connectionName: `citizen-graph-${options.name}`,
    enableOfflineQueue: false,
    commandTimeout: settings.timeoutMs,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    // Reconnects for ever, backing off to one attempt every 2 s.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  // Said once per outage, not once per reconnection attempt.
  let reported = false;
  client.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    log.warn(`shared store ${redactUrl(url)} unreachable: ${error.message}`);
  });
  client.on('ready', () => {
    if (reported) log.info(`shared store ${redactUrl(url)} reachable again`);
    reported = false;
  });
  return {
    client,
    ready: () => client.status === 'ready',
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
