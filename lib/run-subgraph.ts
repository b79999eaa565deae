import type { SubgraphConfig } from './subgraph-config';
import type { AgencySubgraph } from './agency-subgraph';
import { serveMetrics } from './metrics';
import { stopOnSignals } from './shutdown';

/**
 * Runs a subgraph as its own process: listen, serve its metrics apart, say where, and on SIGTERM/SIGINT stop as
 * lib/shutdown.ts says (not ready, grace, finish what is in flight, then background work, writers, pools, metrics).
 */
export async function runSubgraph<Config extends SubgraphConfig, C, L, S>(config: Config, create: (config: Config) => Promise<AgencySubgraph<C, L, S>>) {
  const subgraph = await create(config);
  const { server, startBackground, log } = subgraph;
  const running = await server.listen(config.port, config.host);
  subgraph.metrics.collectProcessMetrics();
  const metrics = await serveMetrics(subgraph.metrics.registry, config.metrics);
  const stopBackground = startBackground();
  // Scripts and tests read the URL off this line ("ready at <url>"): keep the words.
  log.info({ url: running.url, metricsUrl: metrics.url }, `${config.agency.title} subgraph ready at ${running.url} (metrics at ${metrics.url})`);
  stopOnSignals({
    ...config.shutdown,
    service: config.agency.id,
    listening: running,
    log,
    close: async () => {
      stopBackground();
      await subgraph.close();
      await metrics.close();
    },
  });
}
