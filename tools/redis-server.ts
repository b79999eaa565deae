import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/**
 * A Redis of our own (Debian's redis-server), for `npm run cluster` and the tests: on loopback, on the port given,
 * nothing saved to disk (`--save '' --appendonly no`: what it holds, rate-limit windows and remembered
 * credentials, lives seconds and is worthless after a restart). Never the machine's redis-server service.
 */
export interface LocalRedis {
  port: number;
  url: string;
  process: ChildProcess;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
}

export async function startLocalRedis(options: { port: number; bin?: string; log?: (line: string) => void }): Promise<LocalRedis> {
  const bin = options.bin ?? 'redis-server';
  const args = ['--port', String(options.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    options.log?.(chunk.toString().trimEnd());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) => reject(new Error(`${bin} could not start (Debian's redis-server package): ${error.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`${bin} exited (${signal ?? code}) before answering: ${output.trim()}`)));
  });
  failed.catch(() => undefined);
  await Promise.race([waitForPong(options.port, () => child.exitCode === null && child.signalCode === null), failed]);
  return {
    port: options.port,
    url: `redis://127.0.0.1:${options.port}`,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Until the server answers PING on the port (it refuses connections until it is up), while it runs. */
async function waitForPong(port: number, running: () => boolean): Promise<void> {
  while (running()) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setTimeout(1000);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
