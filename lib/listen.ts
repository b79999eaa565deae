import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on a port (0: the OS picks one, as tests do) and how to stop it. */
export interface Listening {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Listens, and stops in the order that loses no request: Apollo's drain plugin finishes the requests in
 * flight and closes the server when `stopApollo` runs; idle keep-alive sockets are then closed at once.
 */
export function listen(httpServer: http.Server, stopApollo: () => Promise<void>, port: number, host: string, scheme: 'http' | 'https' = 'http'): Promise<Listening> {
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      const actual = (httpServer.address() as AddressInfo).port;
      resolve({
        port: actual,
        url: `${scheme}://${host}:${actual}/graphql`,
        stop: async () => {
          await stopApollo();
          httpServer.closeAllConnections();
        },
      });
    });
  });
}
