import net from 'node:net';

/**
 * A TCP relay in front of a real server (a test's PostgreSQL), so that a test can take that server away from
 * one client alone, the way it goes away in production, without touching the server the other tests share:
 * `stopListening()` makes the port refuse connections (connection refused, as a database that is down), and
 * `upstreamPorts()` names the relay's own connections to the server, so that the server can end them itself
 * (pg_terminate_backend on the backends whose client_port they are). `hold()` keeps what clients send from
 * the server until `release()`, connections stay open: a request is then in flight, for as long as the test wants
 * (what a slow database or agency looks like from the client).
 */
export interface TcpProxy {
  port: number;
  /** The local ports of the relay's connections to the server (PostgreSQL's pg_stat_activity.client_port). */
  upstreamPorts(): number[];
  /** From now on, bytes clients send are kept here, not forwarded (new connections included). */
  hold(): void;
  /** Bytes kept since hold(): above 0 once a client sent something that is now waiting. */
  heldBytes(): number;
  /** Forwards what was kept, in order, and everything from now on. */
  release(): void;
  stopListening(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let holding = false;
  let held: { upstream: net.Socket; chunk: Buffer }[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (holding) held.push({ upstream, chunk });
      else upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | null = null;
  // Refuses new connections at once; the ones open stay until the server or the client ends them (close's
  // callback waits for those, which is what stop() is for).
  const stopListening = async () => {
    closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    upstreamPorts: () => [...pairs].map((p) => p.upstream.localPort).filter((port): port is number => port !== undefined),
    hold: () => void (holding = true),
    heldBytes: () => held.reduce((total, { chunk }) => total + chunk.length, 0),
    release: () => {
      holding = false;
      for (const { upstream, chunk } of held.splice(0)) if (!upstream.destroyed) upstream.write(chunk);
    },
    stopListening,
    async stop() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await stopListening();
      await closed;
    },
  };
}

/** The same database URL, through the relay. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString();
}
