import { runSubgraph } from '../../lib/run-subgraph';
import { readConfig } from './config';
import { createNationalIdSubgraph } from './server';

runSubgraph(readConfig(), createNationalIdSubgraph).catch((error) => {
  console.error('[national-id] failed to start:', error);
  process.exit(1);
});
