import { readConfig } from './config';
import { createGateway } from './server';
import { failedToStart } from '../lib/log';
import { serveMetrics } from '../lib/metrics';

/** Runs the gateway as its own process, its metrics on a listener of their own. */
async function main() {
  const config = readConfig();
  const gateway = await createGateway(config);
  const running = await gateway.listen();
  gateway.metrics.collectProcessMetrics();
  const metrics = await serveMetrics(gateway.metrics.registry, config.metrics);
  // Scripts and tests read the URL off this line ("ready at <url>"): keep the words.
  gateway.log.info({ url: running.url, metricsUrl: metrics.url }, `Citizen Graph gateway ready at ${running.url} (metrics at ${metrics.url})`);
  const stop = async () => {
    await running.stop();
    await metrics.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(failedToStart('gateway'));
