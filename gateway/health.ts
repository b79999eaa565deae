import https from 'node:https';
import express from 'express';
import nodeFetch, { type RequestInit as NodeFetchInit } from 'node-fetch';
import { findAgency } from '../lib/agencies';
import type { TlsMaterial } from '../lib/tls';

/**
 * Liveness: the process answers. Readiness: every subgraph answers its own /health (which checks its
 * database). The readiness body names agencies, never URLs.
 */
export function healthRouter(subgraphs: Readonly<Record<string, string>>, timeoutMs: number, tls: TlsMaterial | null = null): express.Router {
  const router = express.Router();
  // With mutual TLS, the health check presents the gateway's client certificate too.
  const agent = tls ? new https.Agent({ ...tls, keepAlive: true }) : null;
  const check = async (url: string) =>
    agent
      ? (await nodeFetch(url, { agent: (u: URL) => (u.protocol === 'https:' ? agent : undefined), signal: AbortSignal.timeout(timeoutMs) as NodeFetchInit['signal'] })).ok
      : (await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })).ok;
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
