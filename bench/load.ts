import autocannon from 'autocannon';

/**
 * One autocannon run of one GraphQL operation against one URL. Each request gets fresh variables
 * (`setupRequest`), and each response body is checked (`onResponse`): an HTTP 200 whose JSON carries
 * `errors` is a failed request for a frontend, so it counts as an error like a non-2xx or a broken connection.
 */
export interface LoadSpec {
  url: string;
  query: string;
  variables: () => Record<string, unknown>;
  headers?: Record<string, string>;
  /** Headers that depend on each request's body (a subgraph credential is signed over it). */
  headersFor?: (body: string) => Record<string, string>;
  connections: number;
  /** Seconds; a background load runs until stopped instead. */
  duration: number;
}

export interface LoadResult {
  /** Mean of autocannon's per-second request counts. */
  rps: number;
  p50Ms: number;
  /** From the response times of every request of the run (autocannon's summary has p90 and p97.5, no p95). */
  p95Ms: number;
  p99Ms: number;
  /** Responses received, whatever their status. */
  completed: number;
  /** Requests written, including those still in flight when the run ended (the server processes them too). */
  sent: number;
  durationS: number;
  errors: { connection: number; timeouts: number; non2xx: number; graphql: number; total: number };
  /** The first few GraphQL error messages or bad bodies, to say what went wrong. */
  errorSamples: string[];
}

export interface RunningLoad {
  /** Ends the run early (a background load); `done` then resolves within a second. */
  stop(): void;
  done: Promise<LoadResult>;
}

const ERROR_SAMPLES = 5;

export function startLoad(spec: LoadSpec): RunningLoad {
  let graphqlErrors = 0;
  const errorSamples: string[] = [];
  const failed = (what: string) => {
    graphqlErrors += 1;
    if (errorSamples.length < ERROR_SAMPLES) errorSamples.push(what.slice(0, 300));
  };

  const responseTimes: number[] = [];
  let instance!: autocannon.Instance;
  const done = new Promise<LoadResult>((resolve, reject) => {
    instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.duration,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...spec.headers },
        requests: [
          {
            setupRequest: (request) => {
              const body = JSON.stringify({ query: spec.query, variables: spec.variables() });
              return { ...request, body, ...(spec.headersFor ? { headers: { ...request.headers, ...spec.headersFor(body) } } : {}) };
            },
            onResponse: (status, body) => {
              if (status >= 200 && status < 300) checkBody(body, failed);
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const total = result.errors + result.non2xx + graphqlErrors;
        resolve({
          rps: result.requests.average,
          p50Ms: result.latency.p50,
          p95Ms: percentile(responseTimes, 0.95),
          p99Ms: result.latency.p99,
          completed: result.requests.total,
          sent: result.requests.sent,
          durationS: result.duration,
          errors: { connection: result.errors - result.timeouts, timeouts: result.timeouts, non2xx: result.non2xx, graphql: graphqlErrors, total },
          errorSamples,
        });
      },
    );
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => responseTimes.push(responseTimeMs));
  return { stop: () => instance.stop(), done };
}

/** The nearest-rank percentile (0 < q ≤ 1) of the values, in their unit; 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * A GraphQL response failed when it is not JSON, has no `data`, or has `errors`. Bodies run to ~100 KB
 * (W3) and the harness shares the machine's cores with what it measures, so the full parse is kept for
 * bodies that mention `"errors"` at all; none of the operations selects a field of that name.
 */
function checkBody(body: string, failed: (what: string) => void): void {
  if (!body.includes('"errors"')) {
    if (!body.startsWith('{') || !body.includes('"data"')) failed(`not a GraphQL response: ${body}`);
    return;
  }
  try {
    const parsed = JSON.parse(body) as { errors?: { message?: string }[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) failed(parsed.errors.map((e) => e.message).join('; '));
  } catch {
    failed(`unparseable body: ${body}`);
  }
}
