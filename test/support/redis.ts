import { startLocalRedis, type LocalRedis } from '../../tools/redis-server';
import { freePort } from './ports';

/**
 * A real redis-server of the test's own (tools/redis-server.ts: loopback, nothing saved), on a free port, for the
 * tests of what replicas share (REDIS_URL). `restart()` brings it back on the same port, empty, as a Redis that
 * was restarted is.
 */
export interface TestRedis extends LocalRedis {
  restart(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  let current = await startLocalRedis({ port });
  return {
    port,
    url: current.url,
    get process() {
      return current.process;
    },
    stop: () => current.stop(),
    async restart() {
      await current.stop();
      current = await startLocalRedis({ port });
    },
  };
}
