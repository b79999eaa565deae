import express from 'express';
import { findAgency } from '../lib/agencies';
import { createHttpAgent, send } from '../lib/http-client';
import type { Readiness } from '../lib/listen';
import type { TlsMaterial } from '../lib/tls';
import type { SupergraphStatus } from './supergraph';

/**
 * The gateway's health endpoints. Decided: its readiness depends on the gateway process alone, never on the
 * agencies or the stores every replica shares.
 *   GET /health/live          the process answers: 200
 *   GET /health/ready         200 while it should get traffic; 503 while starting and from SIGTERM on (draining,
 *                             lib/shutdown.ts). Answered from memory: a balancer's check never waits on anything
 *   GET /health/dependencies  what the gateway relies on, for operators and alerts: each agency's own readiness
 *                             (its subgraph's /health/ready, through whatever balancer SUBGRAPH_<NAME>_URL names) and
 *                             the shared store (Redis) when there is one; 200 when all answer, 503 naming what does not;
 *                             and the supergraph this replica serves (its id, equal on replicas serving the same file)
 * Why an agency that is down does not make the gateway unready: every replica calls the same agencies, so all of
 * them would leave the balancer at once and every caller would get the balancer's bare 503, where a ready gateway
 * answers with the other agencies' data and a precise AGENCY_UNAVAILABLE for the missing part (partial answers).
 * And a readiness check that waited on a hung agency would time out and take healthy gateways out of rotation.
 * Bodies name agencies, never URLs.
 */
export interface HealthOptions {
  readiness: Readiness;
  /** Where each subgraph is called now (the supergraph may be reloaded: gateway/supergraph.ts). */
  subgraphUrls: () => Readonly<Record<string, string>>;
  timeoutMs: number;
  /** With mutual TLS, the agencies' health checks present the gateway's client certificate too. */
  tls?: TlsMaterial | null;
  /** The store replicas share (rate limits); null: none configured. */
  sharedStore?: { ready(): boolean } | null;
  /** Which supergraph this replica serves, and the last file it refused (gateway/supergraph.ts). */
  supergraph?: () => SupergraphStatus;
}

/**
 * Whether the subgraph behind a GraphQL URL is ready: its /health/ready answers 2xx within `timeoutMs`. Used for
 * /health/dependencies and before a reloaded supergraph is served (gateway/supergraph.ts).
 */
export function subgraphReadiness(options: { timeoutMs: number; tls?: TlsMaterial | null }): (graphqlUrl: string) => Promise<boolean> {
  const dispatcher = createHttpAgent({ tls: options.tls });
  return async (graphqlUrl) => {
    const healthUrl = graphqlUrl.replace(/\/graphql\/?$/, '') + '/health/ready';
    try {
      const { status } = await send(healthUrl, { dispatcher, signal: AbortSignal.timeout(options.timeoutMs) });
      return status >= 200 && status < 300;
    } catch {
      return false;
    }
  };
}

export function healthRouter(options: HealthOptions): express.Router {
  const router = express.Router();
  const ready = subgraphReadiness(options);

  router.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/health/ready', (_req, res) => {
    const { state } = options.readiness;
    res.status(state === 'ready' ? 200 : 503).json({ status: state === 'ready' ? 'ok' : state });
  });
  router.get('/health/dependencies', async (_req, res) => {
    const subgraphs = await Promise.all(
      Object.entries(options.subgraphUrls()).map(async ([name, graphqlUrl]) => {
        const ok = await ready(graphqlUrl);
        return { subgraph: name, agency: safeTitle(name), status: ok ? 'ok' : 'unavailable' };
      }),
    );
    const sharedStore = options.sharedStore ? (options.sharedStore.ready() ? 'ok' : 'unavailable') : 'none';
    const ok = subgraphs.every((check) => check.status === 'ok') && sharedStore !== 'unavailable';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', subgraphs, sharedStore, ...(options.supergraph ? { supergraph: options.supergraph() } : {}) });
  });
  return router;
}

function safeTitle(name: string): string {
  return findAgency(name)?.title ?? name;
}
