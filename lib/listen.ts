import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Whether a process should get traffic (GET /health/ready). `starting` until it listens, `ready` while it
 * serves, `draining` from the moment it is told to stop (SIGTERM): a balancer's health check then takes it out
 * of rotation while it still answers what reaches it (lib/shutdown.ts).
 */
export type ReadinessState = 'starting' | 'ready' | 'draining';

export class Readiness {
  private current: ReadinessState = 'starting';

  get state(): ReadinessState {
    return this.current;
  }

  get ready(): boolean {
    return this.current === 'ready';
  }

  /** Once listening; never back from draining (a drained process exits). */
  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  drain(): void {
    this.current = 'draining';
  }
}

/** A server listening on a port (0: the OS picks one, as tests do) and how to stop it. */
export interface Listening {
  url: string;
  port: number;
  /** Not ready from now on (GET /health/ready answers 503); the listener keeps accepting and serving. */
  drain(): void;
  /** Requests being answered now (health checks and metrics included). */
  inFlight(): number;
  /** Drains if not yet draining, stops accepting, finishes the requests in flight, then closes what the server owns. */
  stop(): Promise<void>;
}

export interface ListenOptions {
  /**
   * Stops the server: Apollo's drain plugin stops accepting, finishes the requests in flight and closes the
   * listener when `apollo.stop()` runs; then what the server owns (audit writer, pools) closes.
   */
  stop: () => Promise<void>;
  readiness: Readiness;
  port: number;
  host: string;
  scheme?: 'http' | 'https';
}

/** Listens, and stops in the order that loses no request (see ListenOptions.stop); idle keep-alive sockets are then closed at once. */
export function listen(httpServer: http.Server, options: ListenOptions): Promise<Listening> {
  let inFlight = 0;
  httpServer.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight += 1;
    res.once('close', () => void (inFlight -= 1));
  });
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      const actual = (httpServer.address() as AddressInfo).port;
      options.readiness.markReady();
      resolve({
        port: actual,
        url: `${options.scheme ?? 'http'}://${options.host}:${actual}/graphql`,
        drain: () => options.readiness.drain(),
        inFlight: () => inFlight,
        stop: async () => {
          options.readiness.drain();
          await options.stop();
          httpServer.closeAllConnections();
        },
      });
    });
  });
}
