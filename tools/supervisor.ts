import { describeExit, portInUse, runChild, type Child, type ChildExit } from './processes';

/**
 * Keeps one service process of `npm start` running: starts it, waits until GET /health/ready answers 200, and when
 * it dies on its own starts it again after a pause that doubles with every crash in a row (backoff), until it has
 * stayed up long enough to count as healthy again. A process that keeps failing is given up on, said so, and the
 * others keep running: one agency down is a partial answer for clients (the gateway's partial-failure handling),
 * not a reason to stop the whole federation.
 *
 * Why not a library: pm2, forever, nodemon and the like are process managers with their own daemon, configuration
 * file and log handling, meant to outlive the shell; npm start wants the opposite (its children die with it, Ctrl-C
 * stops all, the output stays in the terminal) plus two things they do not do: wait on our readiness endpoint, and
 * check a port is ours before trusting what answers on it. That is the hundred lines below, over tools/processes.ts.
 */
export interface RestartPolicy {
  /** Pause before the first restart; doubled for each further crash in a row. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Up this long, a process is healthy again: its next crash waits `initialBackoffMs` again. */
  stableAfterMs: number;
  /** Failed starts or crashes in a row (none lasting `stableAfterMs`) after which the supervisor gives up on it. */
  giveUpAfter: number;
  /** Longest wait for GET /health/ready after a start before the attempt counts as failed. */
  readyTimeoutMs: number;
}

/** A port the process will listen on, and the variable that sets it (for the message when something else has it). */
export interface OwnedPort {
  host: string;
  port: number;
  setBy: string;
}

export interface ServiceSpec {
  /** "residents", "gateway", …: how the messages name it. */
  name: string;
  /** Its entry point, run through tsx (tools/processes.ts). */
  script: string;
  env: NodeJS.ProcessEnv;
  /** Its GET /health/ready. */
  readyUrl: string;
  /** Ports it listens on: checked free before every start, so that what answers readyUrl is this process. */
  ports: OwnedPort[];
}

export type ServiceState = 'starting' | 'ready' | 'waiting to restart' | 'given up' | 'stopped';

export interface SupervisedService {
  readonly name: string;
  state(): ServiceState;
  /** The running process's pid, if one runs. */
  pid(): number | undefined;
  /** Resolves once it is first ready (true) or given up on (false). */
  firstStart: Promise<boolean>;
  /** Stops it (SIGTERM: it drains, lib/shutdown.ts) and cancels any pending restart. */
  stop(): Promise<void>;
}

/** The ports of `ports` some other process listens on now. */
export async function portsInUse(ports: OwnedPort[]): Promise<OwnedPort[]> {
  const busy = await Promise.all(ports.map((p) => portInUse(p.host, p.port)));
  return ports.filter((_, i) => busy[i]);
}

export function describePortInUse(p: OwnedPort, owner: string): string {
  return `port ${p.port} (${p.setBy}, ${owner}) is in use by another process: stop that process or set ${p.setBy} to a free port`;
}

export function backoffMs(policy: RestartPolicy, failuresInARow: number): number {
  return Math.min(policy.initialBackoffMs * 2 ** Math.max(0, failuresInARow - 1), policy.maxBackoffMs);
}

export function supervise(spec: ServiceSpec, policy: RestartPolicy, say: (line: string) => void): SupervisedService {
  let state: ServiceState = 'starting';
  let child: Child | null = null;
  let stopping = false;
  let wakeUp: (() => void) | null = null;
  let reportFirstStart: (ready: boolean) => void = () => undefined;
  const firstStart = new Promise<boolean>((resolve) => (reportFirstStart = resolve));
  const alive = (c: Child) => c.process.exitCode === null && c.process.signalCode === null;

  /** Sleeps `ms`, or less if the service is stopped meanwhile. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wakeUp = null));

  /** One start: the reason it failed to get ready, or null once ready. */
  const startOnce = async (): Promise<{ failed: string } | { exited: Promise<ChildExit> }> => {
    const taken = await portsInUse(spec.ports);
    if (taken.length > 0) return { failed: taken.map((p) => describePortInUse(p, spec.name)).join('; ') };
    const started = runChild({ script: spec.script }, spec.env, () => undefined);
    child = started;
    const exited = new Promise<ChildExit>((resolve) => started.process.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + policy.readyTimeoutMs;
    for (;;) {
      if (!alive(started)) return { failed: `exited (${describeExit(await exited)}) while starting` };
      if (stopping) return { exited };
      if (await answersReady(spec.readyUrl)) {
        // Ready, and from our own process: the port was free before it started and it is still alive.
        if (alive(started)) return { exited };
        continue;
      }
      if (Date.now() > deadline) {
        await started.stop();
        return { failed: `not ready within ${policy.readyTimeoutMs / 1000} s (${spec.readyUrl}); stopped` };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      state = 'starting';
      const attempt = await startOnce();
      let reason: string;
      if ('failed' in attempt) {
        reason = attempt.failed;
      } else {
        if (stopping) break;
        const upSince = Date.now();
        state = 'ready';
        say(`${spec.name} ready (pid ${child?.process.pid}) at ${spec.readyUrl.replace(/\/health\/ready$/, '')}${failures > 0 ? ` after ${failures} failure(s)` : ''}`);
        reportFirstStart(true);
        const exit = await attempt.exited;
        if (stopping) break;
        const upMs = Date.now() - upSince;
        if (upMs >= policy.stableAfterMs) failures = 0;
        reason = `exited (${describeExit(exit)}) after ${(upMs / 1000).toFixed(1)} s up`;
      }
      if (stopping) break;
      failures += 1;
      if (failures >= policy.giveUpAfter) {
        state = 'given up';
        say(`${spec.name} ${reason}: ${failures} failure(s) in a row, giving up on it (restart npm start once it is fixed); the other services keep running`);
        reportFirstStart(false);
        return;
      }
      const delay = backoffMs(policy, failures);
      state = 'waiting to restart';
      say(`${spec.name} ${reason}; restarting in ${(delay / 1000).toFixed(1)} s (attempt ${failures + 1} of ${policy.giveUpAfter})`);
      await pause(delay);
    }
    state = 'stopped';
    reportFirstStart(false);
  };
  const running = run();

  return {
    name: spec.name,
    state: () => state,
    pid: () => (child && alive(child) ? child.process.pid : undefined),
    firstStart,
    async stop() {
      stopping = true;
      wakeUp?.();
      await child?.stop();
      await running;
      state = 'stopped';
    },
  };
}

async function answersReady(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}
