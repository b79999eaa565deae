import type { Pool } from 'pg';
import type { Caller } from '../../lib/caller';
import type { AccessRecord } from '../../lib/access/subgraph-access';
import type { StatisticsConfig } from './config';
import type { QueryBudget } from './budget';

/** What a statistics resolver works with: the read model, the caller, the request's access record. */
export interface Context {
  store: Pool;
  config: StatisticsConfig;
  budget: QueryBudget;
  caller: Caller;
  access: AccessRecord;
}
