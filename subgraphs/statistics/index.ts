import { failedToStart } from '../../lib/log';
import { serveMetrics } from '../../lib/metrics';
import { stopOnSignals } from '../../lib/shutdown';
import { readConfig } from './config';
import { createStatisticsSubgraph, STATISTICS_SUBGRAPH } from './server';

/**
 * The statistics subgraph as its own process, stopped as every subgraph is (lib/shutdown.ts): listen, serve its
 * metrics apart, refresh the read model in the background; on SIGTERM/SIGINT not ready, grace, finish what is in
 * flight, then the refresher, the audit writer and the pools.
 */
async function main() {
  const config = readConfig();
  const subgraph = await createStatisticsSubgraph(config);
  const running = await subgraph.server.listen(config.port, config.host);
  subgraph.metrics.collectProcessMetrics();
  const metrics = await serveMetrics(subgraph.metrics.registry, config.metrics);
  const stopBackground = subgraph.startBackground();
  // Scripts and tests read the URL off this line ("ready at <url>"): keep the words.
  subgraph.log.info({ url: running.url, metricsUrl: metrics.url }, `Statistics subgraph ready at ${running.url} (metrics at ${metrics.url})`);
  stopOnSignals({
    ...config.shutdown,
    service: STATISTICS_SUBGRAPH,
    listening: running,
    log: subgraph.log,
    close: async () => {
      stopBackground();
      await subgraph.close();
      await metrics.close();
    },
  });
}

main().catch(failedToStart('statistics'));
