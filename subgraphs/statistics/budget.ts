import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { message } from '../../lib/i18n/messages';
import { ErrorCode } from '../../lib/graphql/errors';

/**
 * Each analyst's budget of statistics tables (STATISTICS_QUERY_BUDGET per STATISTICS_QUERY_BUDGET_PERIOD_S), by
 * token subject: it bounds how many tables one analyst can difference against each other. In memory, per process;
 * replicas of the subgraph would share it with rate-limiter-flexible's RateLimiterRedis (the same calls).
 */
export interface QueryBudget {
  /** Spends one table of the subject's budget; RATE_LIMITED (QUERY_BUDGET_EXHAUSTED) when none is left. */
  spend(subject: string): Promise<void>;
}

export function queryBudget(options: { queries: number; periodSeconds: number }): QueryBudget {
  const limiter = new RateLimiterMemory({ points: options.queries, duration: options.periodSeconds, keyPrefix: 'statistics' });
  return {
    async spend(subject) {
      try {
        await limiter.consume(subject, 1);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new GraphQLError(message('QUERY_BUDGET_EXHAUSTED', { budget: options.queries, periodSeconds: options.periodSeconds, retryAfterSeconds }), {
          extensions: { code: ErrorCode.RATE_LIMITED, reason: 'QUERY_BUDGET_EXHAUSTED', retryAfterSeconds },
        });
      }
    },
  };
}
