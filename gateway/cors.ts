import type { RequestHandler } from 'express';
import cors from 'cors';
import { CALLER_HEADERS } from '../lib/caller';
import { CASE_REFERENCE_HEADER, PURPOSE_HEADER } from './authentication';

/**
 * Cross-origin access for browser applications served from another origin (CORS_ORIGINS), with the `cors`
 * package. Only the origins listed, exactly as a browser sends them in `Origin`, get Access-Control-Allow-*
 * headers; a preflight from any other origin is refused (403, no Access-Control-* headers), so the browser
 * never sends the request itself. The credential is the bearer token in Authorization (never a cookie), so
 * no Access-Control-Allow-Credentials.
 *
 * CORS only loosens what a browser allows. What a page may send without asking (a form post, a text/plain
 * fetch) is still refused by Apollo Server's CSRF prevention (gateway/server.ts, `csrfPrevention`): every
 * accepted request either has a JSON content type or one of the headers below that force a preflight.
 */
export type CorsOrigins = readonly string[] | '*';

/** Request headers a frontend may send: the caller's token and purpose, Apollo Client's, and what CSRF prevention looks for. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'accept-language',
  PURPOSE_HEADER,
  CASE_REFERENCE_HEADER,
  CALLER_HEADERS.requestId,
  'apollographql-client-name',
  'apollographql-client-version',
  // Apollo Server's CSRF prevention accepts a GET (or a POST with a simple content type) that carries one of these.
  'apollo-require-preflight',
  'x-apollo-operation-name',
] as const;

/** Response headers a frontend may read besides the safelisted ones: the request id (to quote to support) and Retry-After. */
export const CORS_EXPOSED_HEADERS = [CALLER_HEADERS.requestId, 'retry-after'] as const;

/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours). */
export const CORS_MAX_AGE_S = 600;

/**
 * What is wrong with one entry of CORS_ORIGINS, or null. An origin is a scheme, a host and a port as the
 * browser sends it (`https://app.example.gov.vn`, `http://localhost:3000`): no path, no trailing slash, no
 * wildcard, lower case, no default port. Production allows https origins only (an http origin can be
 * impersonated by anyone on the network path).
 */
export function corsOriginProblem(value: string, production: boolean): string | null {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // not a URL at all
  }
  // URL accepts hosts a DNS name cannot have (`*.example.gov.vn`): a pattern must never pass for an origin.
  const host = url?.hostname ?? '';
  const hostOk = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(host) || /^\[[0-9a-f:.]+\]$/.test(host);
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== value || !hostOk) {
    const hint = url && hostOk && ['http:', 'https:'].includes(url.protocol) ? ` (did you mean ${url.origin}?)` : '';
    return `CORS_ORIGINS: "${value.slice(0, 100)}" is not an origin${hint}; write each as the browser sends it in Origin: scheme://host[:port], no path or trailing slash, separated by commas.`;
  }
  if (production && url.protocol !== 'https:') {
    return `CORS_ORIGINS: "${value}" is not https: production allows only https origins (NODE_ENV=production).`;
  }
  return null;
}

/** The CORS handlers for /graphql: allowed preflights answered here, every other request passed on. */
export function corsHandlers(origins: CorsOrigins): RequestHandler[] {
  const allowed = new Set(origins === '*' ? [] : origins);
  const allows = (origin: string | undefined): origin is string => origin !== undefined && (origins === '*' || allowed.has(origin));
  return [
    cors({
      // An allowed origin is echoed back (never `*`), with Vary: Origin; any other gets no CORS headers at all.
      origin: (origin, callback) => callback(null, allows(origin) ? origin : false),
      methods: ['GET', 'POST'],
      allowedHeaders: [...CORS_ALLOWED_HEADERS],
      exposedHeaders: [...CORS_EXPOSED_HEADERS],
      maxAge: CORS_MAX_AGE_S,
      credentials: false,
    }),
    (req, res, next) => {
      // Whatever the origin, the answer depends on it: no shared cache may give one origin's answer to another.
      res.vary('Origin');
      const preflight = req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
      // An allowed preflight was answered above: this one is from an origin not on the list.
      if (preflight) return void res.status(403).set('Content-Length', '0').end();
      next();
    },
  ];
}
