/**
 * A steady load for tests that stop, kill or reconfigure things under traffic (test/cluster.test.ts): `clients`
 * loops, each sending one request at a time, the next as soon as the last is answered. So at any instant at most
 * `clients` requests are in flight, in the whole system: a bound tests use for what a crash may take with it.
 * Every request's outcome is kept with when it started and ended, for the test to count by phase.
 */
export interface Outcome {
  client: number;
  requestId: string;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** Why it failed: the HTTP status and the start of the body, or the network error. */
  detail?: string;
}

export interface SteadyLoad {
  readonly clients: number;
  readonly outcomes: readonly Outcome[];
  /** Outcomes of the requests that started at or after `time`. */
  startedSince(time: number): Outcome[];
  /** Outcomes of the requests that ended at or after `time` (those in flight at `time` included). */
  endedSince(time: number): Outcome[];
  /** Stops sending; resolves once every client's last request is answered. */
  stop(): Promise<void>;
}

export function startSteadyLoad(options: {
  clients: number;
  /** Sends one request; resolves ok or with why not (never rejects for a failed answer). */
  send: (client: number, requestId: string) => Promise<{ ok: boolean; detail?: string }>;
}): SteadyLoad {
  const outcomes: Outcome[] = [];
  let running = true;
  let sequence = 0;
  const loop = async (client: number) => {
    while (running) {
      const requestId = `cluster-load-${client}-${(sequence += 1)}`;
      const startedAt = Date.now();
      let result: { ok: boolean; detail?: string };
      try {
        result = await options.send(client, requestId);
      } catch (error) {
        result = { ok: false, detail: error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error) };
      }
      outcomes.push({ client, requestId, startedAt, endedAt: Date.now(), ...result });
    }
  };
  const loops = Array.from({ length: options.clients }, (_, client) => loop(client));
  return {
    clients: options.clients,
    outcomes,
    startedSince: (time) => outcomes.filter((o) => o.startedAt >= time),
    endedSince: (time) => outcomes.filter((o) => o.endedAt >= time),
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
