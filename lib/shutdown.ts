import type { Listening } from './listen';
import type { Logger } from './log';

/**
 * How a process (the gateway, each subgraph) stops on SIGTERM or SIGINT, in the order that loses no request
 * behind a load balancer:
 *   1. not ready at once: GET /health/ready answers 503, so the balancer's health check takes it out of rotation;
 *   2. for `graceMs` it keeps serving whatever still reaches it (the balancer has not noticed yet);
 *   3. it stops accepting, and finishes the requests in flight (the gateway's audit writes included);
 *   4. `close`: background work, writers, pools (the gateway's last audit checkpoint);
 *   5. exit 0.
 * If that takes longer than `timeoutMs` from the signal, it logs what was left and exits 1: an orchestrator
 * waiting on it (Kubernetes' terminationGracePeriodSeconds, npm start) is not left waiting for ever.
 * A second signal while stopping ends the grace at once (an operator who knows nothing routes to the process any
 * more; npm start and npm run cluster, whose Ctrl-C reaches a child from the terminal and from the script); the
 * requests in flight still finish. Nothing else changes.
 */
export interface ShutdownSettings {
  /** SHUTDOWN_GRACE_MS: how long a draining process keeps serving before it stops accepting. */
  graceMs: number;
  /** SHUTDOWN_TIMEOUT_MS: the longest the whole sequence may take. */
  timeoutMs: number;
}

export interface ShutdownOptions extends ShutdownSettings {
  service: string;
  listening: Listening;
  /** After the server has stopped: what the process owns besides it. */
  close?: () => Promise<void>;
  /** The process's log (lib/log.ts): each step at info, a stop gone wrong at error. */
  log: Pick<Logger, 'info' | 'error'>;
  /** For tests: what ending the process means. */
  exit?: (code: number) => never | void;
}

export type ShutdownStage = 'serving' | 'grace' | 'finishing requests in flight' | 'closing pools and writers' | 'stopped';

/** Installs the handlers; returns the sequence itself, for a caller that stops the process another way. */
export function stopOnSignals(options: ShutdownOptions): () => Promise<void> {
  const { log } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stage: ShutdownStage = 'serving';
  let stopping: Promise<void> | null = null;
  let endGrace: (() => void) | null = null;

  const sequence = async () => {
    const deadline = setTimeout(() => {
      log.error(
        { stage, inFlight: options.listening.inFlight() },
        `not stopped ${options.timeoutMs} ms after the signal (SHUTDOWN_TIMEOUT_MS), while ${stage}, ${options.listening.inFlight()} request(s) in flight: exiting with code 1`,
      );
      exit(1);
    }, options.timeoutMs);
    try {
      stage = 'grace';
      options.listening.drain();
      if (options.graceMs > 0) {
        log.info(`stopping: not ready; serving ${options.graceMs} ms more so the load balancer notices (SHUTDOWN_GRACE_MS)`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.graceMs);
          endGrace = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        endGrace = null;
      }
      stage = 'finishing requests in flight';
      log.info(`stopping: no new connections; finishing ${options.listening.inFlight()} request(s) in flight`);
      await options.listening.stop();
      stage = 'closing pools and writers';
      await options.close?.();
      stage = 'stopped';
      clearTimeout(deadline);
      log.info('stopped');
      exit(0);
    } catch (error) {
      clearTimeout(deadline);
      log.error({ err: error, stage }, `stopping failed while ${stage}`);
      exit(1);
    }
  };
  const stop = () => (stopping ??= sequence());
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) return void stop();
    if (endGrace) {
      log.info(`${signal} again: the grace ends now`);
      endGrace();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return stop;
}
