import express from 'express';
import { findAgency } from '../lib/agencies';
import { createHttpAgent, send } from '../lib/http-client';
import type { TlsMaterial } from '../lib/tls';

/**
 * Liveness: the process answers. Readiness: every subgraph answers its own /health (which checks its
 * database). The readiness body names agencies, never URLs.
 */
export function healthRouter(subgraphs: Readonly<Record<string, string>>, timeoutMs: number, tls: TlsMaterial | null = null): express.Router {
  const router = express.Router();
  // With mutual TLS, the health check presents the gateway's client certificate too.
  const dispatcher = createHttpAgent({ tls });
  const check = async (url: string) => {
    const { status } = await send(url, { dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    return status >= 200 && status < 300;
  };
  router.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/health/ready', async (_req, res) => {
    const checks = await Promise.all(
      Object.entries(subgraphs).map(async ([name, graphqlUrl]) => {
        const healthUrl = graphqlUrl.replace(/\/graphql\/?$/, '') + '/health';
        let ok = false;
        try {
          ok = await check(healthUrl);
        } catch {
          ok = false;
        }
        return { subgraph: name, agency: safeTitle(name), status: ok ? 'ok' : 'unavailable' };
      }),
    );
    const ready = checks.every((check) => check.status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', subgraphs: checks });
  });
  return router;
}

function safeTitle(name: string): string {
  return findAgency(name)?.title ?? name;
}
