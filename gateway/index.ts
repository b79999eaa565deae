import { readConfig } from './config';
import { createGateway } from './server';

/** Runs the gateway as its own process. */
async function main() {
  const config = readConfig();
  const gateway = await createGateway(config);
  const running = await gateway.listen();
  console.log(`[gateway] Citizen Graph gateway ready at ${running.url}`);
  const stop = async () => {
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error('[gateway] failed to start:', error);
  process.exit(1);
});
