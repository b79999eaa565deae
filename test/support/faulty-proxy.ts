import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of a subgraph that fails the way networks fail, on command:
 *   pass           forwards everything
 *   refuse         drops each connection without an answer (the service is down)
 *   lose-answers   forwards the request, lets the service finish it, then drops the connection instead of
 *                  passing the answer on (a timeout after the other side committed)
 *   hang           keeps each request and its connection open without an answer (the service hangs), until
 *                  `release()` forwards the requests held to the service and passes their answers on
 */
export type ProxyMode = 'pass' | 'refuse' | 'lose-answers' | 'hang';

export interface FaultyProxy {
  url: string;
  mode: ProxyMode;
  /** Requests that reached the proxy, whatever it did with them. */
  received: number;
  /** Requests that reached the service behind the proxy. */
  forwarded: number;
  /** Requests held without an answer now (mode hang). */
  readonly held: number;
  /** Forwards every request held (the hang is over); set `mode` too, for the requests that come next. */
  release(): void;
  stop(): Promise<void>;
}

export async function startFaultyProxy(targetUrl: string): Promise<FaultyProxy> {
  const target = new URL(targetUrl);
  const held: (() => void)[] = [];
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, mode: ProxyMode) => {
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: req.headers },
      (response) => {
        proxy.forwarded += 1;
        if (mode === 'lose-answers') {
          response.resume();
          response.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };
  const proxy: FaultyProxy = {
    url: '',
    mode: 'pass',
    received: 0,
    forwarded: 0,
    get held() {
      return held.length;
    },
    release: () => {
      for (const send of held.splice(0)) send();
    },
    stop: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    proxy.received += 1;
    if (proxy.mode === 'refuse') return void req.socket.destroy();
    // The request's body waits, unread, in its stream until then.
    if (proxy.mode === 'hang') return void held.push(() => forward(req, res, 'pass'));
    forward(req, res, proxy.mode);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
  proxy.stop = () =>
    new Promise((resolve) => {
      held.length = 0;
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
