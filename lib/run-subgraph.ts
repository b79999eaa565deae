import type { SubgraphConfig } from './subgraph-config';
import type { AgencySubgraph } from './agency-subgraph';
import { serveMetrics } from './metrics';

/** Runs a subgraph as its own process: listen, serve its metrics apart, say where, stop cleanly on SIGINT/SIGTERM. */
export async function runSubgraph<Config extends SubgraphConfig, C, L, S>(config: Config, create: (config: Config) => Promise<AgencySubgraph<C, L, S>>) {
  const subgraph = await create(config);
  const { server, startBackground, log } = subgraph;
  const running = await server.listen(config.port, config.host);
  subgraph.metrics.collectProcessMetrics();
  const metrics = await serveMetrics(subgraph.metrics.registry, config.metrics);
  const stopBackground = startBackground();
  // Scripts and tests read the URL off this line ("ready at <url>"): keep the words.
  log.info({ url: running.url, metricsUrl: metrics.url }, `${config.agency.title} subgraph ready at ${running.url} (metrics at ${metrics.url})`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopBackground();
    await running.stop();
    await subgraph.close();
    await metrics.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
