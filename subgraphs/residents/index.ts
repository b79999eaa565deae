import { runSubgraph } from '../../lib/run-subgraph';
import { failedToStart } from '../../lib/log';
import { readConfig } from './config';
import { createResidentsSubgraph } from './server';

runSubgraph(readConfig(), createResidentsSubgraph).catch(failedToStart('residents'));
