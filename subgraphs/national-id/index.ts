import { runSubgraph } from '../../lib/run-subgraph';
import { failedToStart } from '../../lib/log';
import { readConfig } from './config';
import { createNationalIdSubgraph } from './server';

runSubgraph(readConfig(), createNationalIdSubgraph).catch(failedToStart('national-id'));
