import { runSubgraph } from '../../lib/run-subgraph';
import { readConfig } from './config';
import { createResidentsSubgraph } from './server';

runSubgraph(readConfig(), createResidentsSubgraph).catch((error) => {
  console.error('[residents] failed to start:', error);
  process.exit(1);
});
