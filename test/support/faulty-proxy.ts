import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of a subgraph that fails the way networks fail, on command:
 *   pass           forwards everything
 *   refuse         drops each connection without an answer (the service is down)
 *   lose-answers   forwards the request, lets the service finish it, then drops the connection instead of
 *                  passing the answer on (a timeout after the other side committed)
 */
export type ProxyMode = 'pass' | 'refuse' | 'lose-answers';

export interface FaultyProxy {
  url: string;
  mode: ProxyMode;
  /** Requests that reached the service behind the proxy. */
  forwarded: number;
  stop(): Promise<void>;
}

export async function startFaultyProxy(targetUrl: string): Promise<FaultyProxy> {
  const target = new URL(targetUrl);
  const proxy: FaultyProxy = { url: '', mode: 'pass', forwarded: 0, stop: async () => undefined };
  const server = http.createServer((req, res) => {
    if (proxy.mode === 'refuse') return void req.socket.destroy();
    const mode = proxy.mode;
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
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
  proxy.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
