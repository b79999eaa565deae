import { Agent } from 'undici';
import type { TlsMaterial } from './tls';

/**
 * The one HTTP client of the services (the gateway's subgraph calls and readiness checks, the agencies'
 * service calls): undici, the library behind Node's own `fetch`, imported as a package so that its
 * `fetch`, `Agent` and `Response` are one version. An agent per destination keeps connections alive and
 * bounded, and carries the client certificate when the federation runs mutual TLS.
 */
export interface HttpAgentOptions {
  /** Connections at most to each origin (a subgraph, or the balancer in front of it); unbounded when absent. */
  connections?: number;
  /** Client certificate, key and the CA the server's certificate must chain to (SERVICE_TLS_*); null: none. */
  tls?: TlsMaterial | null;
}

/** Idle connections kept when the server gives no Keep-Alive hint (a balancer often gives none). */
const KEEP_ALIVE_MS = 4000;
/** A server's Keep-Alive hint is followed up to this long. */
const KEEP_ALIVE_MAX_MS = 60_000;
/**
 * An idle connection is dropped this long before the server's Keep-Alive hint says the server drops it. Without
 * the margin, a request sent on a connection at the moment the server closes it fails ("other side closed",
 * ECONNRESET under load): the server (Node's default keepAliveTimeout, 5 s, hint `timeout=5`) gets 4 s.
 */
const KEEP_ALIVE_MARGIN_MS = 1000;

export function createHttpAgent(options: HttpAgentOptions = {}): Agent {
  return new Agent({
    ...(options.connections ? { connections: options.connections } : {}),
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MAX_MS,
    keepAliveTimeoutThreshold: KEEP_ALIVE_MARGIN_MS,
    ...(options.tls ? { connect: { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca } } : {}),
  });
}

/**
 * Why a call got no answer, for the log (never for a client): `fetch` rejects with "fetch failed" and keeps the
 * reason (ECONNREFUSED, "other side closed", a certificate refused) in its cause; a timeout is the AbortSignal's.
 */
export function describeFetchFailure(error: unknown): string {
  // Duck-typed, not instanceof: the timeout's DOMException and undici's errors may come from another realm.
  if (typeof error !== 'object' || error === null) return String(error);
  const { name, message, cause } = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
  if (cause && typeof cause === 'object') {
    return [message, typeof cause.code === 'string' ? cause.code : null, cause.message].filter(Boolean).join(': ');
  }
  return `${String(name)}: ${String(message)}`;
}
