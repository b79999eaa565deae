import { runSubgraph } from '../../lib/run-subgraph';
import { readConfig } from './config';
import { createBirthRegistrySubgraph } from './server';

runSubgraph(readConfig(), createBirthRegistrySubgraph).catch((error) => {
  console.error('[birth-registry] failed to start:', error);
  process.exit(1);
});
