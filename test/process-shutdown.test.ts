import { AGENCIES } from '../lib/agencies';
import { startFederation, type TestFederation } from './support/federation';
import { exited, startGatewayProcess, startSubgraphProcess, type ServiceProcess } from './support/service-process';

/**
 * SIGTERM (what npm start's Ctrl-C, a rolling restart and Kubernetes send) stops a process through its own
 * shutdown: the server stops, the audit writer and pools close, and the process exits 0 by itself.
 *
 * Run as development, not test: Apollo Server installs its own signal handlers outside NODE_ENV=test, and
 * with them a subgraph never finished stopping (its second stop() waited forever) until it was SIGKILLed,
 * its audit writer and pools never closed.
 */
const DEVELOPMENT = { NODE_ENV: 'development' };

const started: ServiceProcess[] = [];
afterEach(() => {
  // One that did not stop (the test failed) is not left running.
  for (const service of started.splice(0)) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
});

async function terminate(service: ServiceProcess) {
  started.push(service);
  const ended = exited(service.child);
  service.child.kill('SIGTERM');
  // No deadline of our own: jest's test timeout bounds the wait, and a process that does not stop hangs here.
  return ended;
}

describe('a process stops on SIGTERM by itself, exit code 0', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    federation = await startFederation();
  });
  afterAll(async () => {
    await federation?.stop();
  });

  it.each(AGENCIES.map((agency) => agency.id))('the %s subgraph', async (id) => {
    const subgraph = await startSubgraphProcess(id, DEVELOPMENT);
    expect(await fetch(subgraph.url.replace(/\/graphql$/, '/health')).then((r) => r.status)).toBe(200);
    await expect(terminate(subgraph)).resolves.toEqual({ code: 0, signal: null });
  }, 60_000);

  it('the gateway', async () => {
    const gateway = await startGatewayProcess(federation, DEVELOPMENT);
    expect(await fetch(gateway.url.replace(/\/graphql$/, '/health/ready')).then((r) => r.status)).toBe(200);
    await expect(terminate(gateway)).resolves.toEqual({ code: 0, signal: null });
  }, 60_000);
});
