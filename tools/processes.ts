import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/**
 * Child processes of an orchestrating script (npm start, the bench harness): the subgraphs and the
 * gateway, each its own Node process as in production, stopped together.
 */
const root = path.resolve(__dirname, '..');

/** How a child ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function describeExit(exit: ChildExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

export interface Child {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Runs a TypeScript entry point (through tsx) or a binary; `onUnexpectedExit` fires if it dies on its own. */
export function runChild(
  command: { script: string } | { bin: string; args: string[] },
  env: NodeJS.ProcessEnv,
  onUnexpectedExit: (description: string, exit: ChildExit) => void,
  options: { quiet?: boolean; /** Node flags before the script, e.g. --cpu-prof (NODE_OPTIONS may not carry it). */ nodeArgs?: string[] } = {},
): Child {
  const [file, args, label] =
    'script' in command
      ? [process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path.join(root, command.script)], command.script]
      : [command.bin, command.args, path.basename(command.bin)];
  const child = spawn(file, args, { env, cwd: root, stdio: options.quiet ? 'ignore' : 'inherit' });
  let stopping = false;
  child.on('exit', (code, signal) => {
    if (!stopping) onUnexpectedExit(`${label} exited (${describeExit({ code, signal })})`, { code, signal });
  });
  return {
    process: child,
    stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const force = setTimeout(() => {
          console.error(`[${label}] still running 5 s after SIGTERM: killed`);
          child.kill('SIGKILL');
        }, 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}

/** Polls a URL until it answers 2xx. */
export async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs / 1000} s`);
}

/**
 * Whether something else listens on host:port now: tried by listening there ourselves, which is what the child
 * would do (a listener on 0.0.0.0 or :: also makes 127.0.0.1 busy on Linux). A port we may not bind (below 1024) counts as taken.
 */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}
