import { readConfig } from './config';
import { createStatisticsSubgraph } from './server';

/** The statistics subgraph as its own process: listen, refresh in the background, stop cleanly on SIGINT/SIGTERM. */
async function main() {
  const config = readConfig();
  const subgraph = await createStatisticsSubgraph(config);
  const running = await subgraph.server.listen(config.port, config.host);
  const stopBackground = subgraph.startBackground();
  console.log(`[statistics] statistics subgraph ready at ${running.url}`);
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

main().catch((error) => {
  console.error('[statistics] failed to start:', error);
  process.exit(1);
});
