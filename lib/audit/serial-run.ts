/**
 * Background work of the audit trail that must never run twice at once (the gateway's checkpoints, an agency's
 * outbox shipping): one run at a time, in order. A run asked for while one is going waits for it and then
 * runs afresh (it may have missed what made the caller ask); every `intervalMs` once started (0: never, only
 * when asked); and a last run when stopped (at shutdown). A failed run is logged, and the next one tries again.
 */
export interface SerialRun<T> {
  /** Runs the work now (after any run in progress). */
  run(): Promise<T>;
  /** Every intervalMs from now on (the timer does not keep the process alive). */
  start(): void;
  /** Stops the timer and runs the work a last time. */
  stop(): Promise<void>;
}

export interface SerialRunOptions {
  intervalMs: number;
  log?: (message: string, error: unknown) => void;
  /** What the log says when a timed run fails, and when the last one does. */
  failure: { timed: string; last: string };
}

export function serialRun<T>(once: () => Promise<T>, options: SerialRunOptions): SerialRun<T> {
  let timer: NodeJS.Timeout | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const run = () => {
    const next = queue.then(once);
    queue = next.catch(() => null);
    return next;
  };
  return {
    run,
    start() {
      if (timer || options.intervalMs <= 0) return;
      timer = setInterval(() => {
        run().catch((error) => options.log?.(options.failure.timed, error));
      }, options.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await run().catch((error) => options.log?.(options.failure.last, error));
    },
  };
}
