import { readConfig } from './config';
import { createGateway } from './server';
import { failedToStart } from '../lib/log';
import { serveMetrics } from '../lib/metrics';
import { stopOnSignals } from '../lib/shutdown';

/**
 * Runs the gateway as its own process, its metrics on a listener of their own; SIGTERM/SIGINT stop it as
 * lib/shutdown.ts says (not ready, grace, finish what is in flight, audit writer and checkpoint, metrics last).
 */
async function main() {
  const config = readConfig();
  const gateway = await createGateway(config);
  const running = await gateway.listen();
  gateway.metrics.collectProcessMetrics();
  const metrics = await serveMetrics(gateway.metrics.registry, config.metrics);
  // Scripts and tests read the URL off this line ("ready at <url>"): keep the words.
  gateway.log.info({ url: running.url, metricsUrl: metrics.url }, `Citizen Graph gateway ready at ${running.url} (metrics at ${metrics.url})`);
  stopOnSignals({ ...config.shutdown, service: 'gateway', listening: running, close: () => metrics.close(), log: gateway.log });
}

main().catch(failedToStart('gateway'));
