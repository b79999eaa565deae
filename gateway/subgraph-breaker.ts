import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll } from 'cockatiel';
import type { HttpAnswer } from '../lib/http-client';

/**
 * A circuit breaker per subgraph. A subgraph that stops answering (it hangs, its host is gone, its balancer
 * has no replica left) would otherwise make every request wait the full subgraph timeout for its part: with
 * the breaker, after `failures` calls in a row got no answer, calls to it fail at once (the gateway answers
 * AGENCY_UNAVAILABLE for its fields and the other agencies' data as soon as they give it), and after
 * `probeAfterMs` one call goes through as a probe: its answer closes the breaker, its failure opens it again
 * for another `probeAfterMs`. While the probe is on its way, the other calls keep failing at once.
 *
 * Only "no answer" counts: a call that threw (a timeout, a refused or dropped connection, a TLS refusal)
 * or a balancer's own 502/503/504 (no JSON: the subgraph behind it never answered). A GraphQL error, a 4xx
 * or a subgraph's own 503 (AUDIT_UNAVAILABLE, its database down) is the agency answering, and it is
 * reported as such.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  /** Calls in a row without an answer that open the breaker; 0: no breaker. */
  failures: number;
  /** How long an open breaker fails calls at once before it lets one through as a probe. */
  probeAfterMs: number;
}

export interface SubgraphBreakerOptions extends BreakerSettings {
  subgraph: string;
  /** Every change of state (observe's gauge, tests). */
  onStateChange?: (subgraph: string, state: BreakerState) => void;
  log: (message: string) => void;
}

/** Thrown instead of calling a subgraph whose breaker is open (or half-open with its probe on its way). */
export class SubgraphSkipped extends Error {
  constructor(readonly subgraph: string) {
    super(`subgraph ${subgraph} skipped: circuit open`);
    this.name = 'SubgraphSkipped';
  }
}

export type Guard = (call: () => Promise<HttpAnswer>) => Promise<HttpAnswer>;

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/** A balancer that could not reach any replica answers 502/503/504 with a page of its own, not GraphQL. */
function isBalancerFailure(answer: unknown): boolean {
  const { status, headers } = answer as HttpAnswer;
  return (status === 502 || status === 503 || status === 504) && !/json/i.test(String(headers['content-type'] ?? ''));
}

export function subgraphBreaker(options: SubgraphBreakerOptions): Guard {
  if (options.failures === 0) return (call) => call();
  const policy = circuitBreaker(handleAll.orWhenResult(isBalancerFailure), {
    breaker: new ConsecutiveBreaker(options.failures),
    halfOpenAfter: options.probeAfterMs,
  });
  policy.onStateChange((state) => {
    const name = STATE_NAMES[state];
    options.log(
      name === 'open'
        ? `subgraph ${options.subgraph} circuit open: its calls fail at once; one goes through as a probe after ${options.probeAfterMs} ms`
        : name === 'half-open'
          ? `subgraph ${options.subgraph} circuit half-open: one call goes through as a probe`
          : `subgraph ${options.subgraph} circuit closed: it answers again`,
    );
    options.onStateChange?.(options.subgraph, name);
  });
  return async (call) => {
    // cockatiel lets the calls made during a probe wait for it and then try again themselves: with a hung
    // subgraph each would wait as long as the probe. Here they fail at once, as when the breaker is open.
    if (policy.state === CircuitState.HalfOpen) throw new SubgraphSkipped(options.subgraph);
    try {
      return await policy.execute(call);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new SubgraphSkipped(options.subgraph);
      throw error;
    }
  };
}
