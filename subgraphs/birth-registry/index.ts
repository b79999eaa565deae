import { runSubgraph } from '../../lib/run-subgraph';
import { failedToStart } from '../../lib/log';
import { readConfig } from './config';
import { createBirthRegistrySubgraph } from './server';

runSubgraph(readConfig(), createBirthRegistrySubgraph).catch(failedToStart('birth-registry'));
