import type { SubgraphConfig } from './subgraph-config';
import type { AgencySubgraph } from './agency-subgraph';

/** Runs a subgraph as its own process: listen, print where, stop cleanly on SIGINT/SIGTERM. */
export async function runSubgraph<Config extends SubgraphConfig, C, L, S>(config: Config, create: (config: Config) => Promise<AgencySubgraph<C, L, S>>) {
  const subgraph = await create(config);
  const { server, startBackground } = subgraph;
  const running = await server.listen(config.port, config.host);
  const stopBackground = startBackground();
  console.log(`[${config.agency.id}] ${config.agency.title} subgraph ready at ${running.url}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopBackground();
    await running.stop();
    await subgraph.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
