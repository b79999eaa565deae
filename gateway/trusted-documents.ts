import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../lib/graphql/errors';
import { documentId, readManifest, type TrustedDocument } from '../lib/trusted-documents';
import type { GatewayContext } from './data-source';
import { AD_HOC_ROLES } from '../lib/access/policy';
import type { AdmissionCheck } from './admission';

/**
 * Trusted documents (persisted queries known ahead of time). Frontends send the id of an operation of
 * the manifest (gateway/trusted-documents.json, built by `npm run documents` from operations/*.graphql)
 * instead of its text, in a POST body, either way:
 *   { "documentId": "sha256:<hex>", "variables": {...} }
 *   { "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "<hex>" } }, "variables": {...} }
 *     (Apollo Client's persisted-queries link; the hash with or without the `sha256:` prefix)
 * The gateway then runs the manifest's text. An id the manifest lacks is refused (TRUSTED_DOCUMENT_UNKNOWN),
 * and so is a `query` sent along with an id that is not that document's text. A `query` whose text is
 * exactly a manifest body is that trusted document too (the tests and the bench send it so).
 * Clients cannot register documents: Apollo's automatic persisted queries are off.
 *
 * Any other `query` is free-form (ad hoc). With TRUSTED_DOCUMENTS=required (the production default) it
 * runs only for a caller whose role allows ad hoc queries (allowsAdHocQueries); others get
 * TRUSTED_DOCUMENT_REQUIRED. With TRUSTED_DOCUMENTS=off (the development default) anyone may send one.
 * Either way, free-form documents have the lower cost ceiling (gateway/operation-limits.ts).
 */
export type TrustedDocumentsMode = 'required' | 'off';

/** Who may send free-form documents: the roles the access policy allows ad hoc queries (lib/access/policy.ts). */
export function allowsAdHocQueries(context: Pick<GatewayContext, 'principal'>): boolean {
  return context.principal !== undefined && AD_HOC_ROLES.includes(context.principal.role);
}

type Resolution = { trusted: TrustedDocument } | { unknown: string; mismatch: boolean };

const resolutions = new WeakMap<IncomingMessage, Resolution>();

export interface TrustedDocuments {
  /** Express middleware on the GraphQL route: puts the manifest's text in place of an id. */
  resolve: RequestHandler;
  /** Admission check (after the context is built): refuses unknown ids and, when required, free-form documents. */
  check: AdmissionCheck;
  size: number;
}

export function trustedDocuments(options: { mode: TrustedDocumentsMode; manifestPath: string }): TrustedDocuments {
  const byId = new Map(readManifest(options.manifestPath).operations.map((operation) => [operation.id, operation]));

  const resolve: RequestHandler = (req, _res, next) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (req.method === 'POST' && body && typeof body === 'object' && !Array.isArray(body)) {
      const resolution = resolveBody(body, byId);
      if (resolution) resolutions.set(req, resolution);
    } else if (req.method === 'GET' && typeof req.query.query === 'string') {
      const known = byId.get(documentId(req.query.query));
      if (known) resolutions.set(req, { trusted: known });
    }
    next();
  };

  const check: AdmissionCheck = (context, req) => {
    const resolution = resolutions.get(req);
    if (resolution && 'trusted' in resolution) {
      context.trustedDocumentId = resolution.trusted.id;
      return;
    }
    if (resolution) {
      throw new GraphQLError(
        resolution.mismatch
          ? `The query sent with document id ${resolution.unknown} is not that document's text. Send the id alone.`
          : `No trusted document has the id ${resolution.unknown}. Send the id of an operation of the current manifest (npm run documents).`,
        { extensions: { code: ErrorCode.TRUSTED_DOCUMENT_UNKNOWN, documentId: resolution.unknown, http: { status: 400 } } },
      );
    }
    if (options.mode === 'required' && !allowsAdHocQueries(context)) {
      throw new GraphQLError(
        'This gateway runs only trusted documents for your role: send the id of a known operation (documentId, or extensions.persistedQuery.sha256Hash) instead of a query text.',
        { extensions: { code: ErrorCode.TRUSTED_DOCUMENT_REQUIRED, http: { status: 400 } } },
      );
    }
  };

  return { resolve, check, size: byId.size };
}

/** Reads the id a body carries, if any, and rewrites the body to the manifest's text. */
function resolveBody(body: Record<string, unknown>, byId: ReadonlyMap<string, TrustedDocument>): Resolution | undefined {
  const extensions = body.extensions && typeof body.extensions === 'object' ? (body.extensions as Record<string, unknown>) : undefined;
  const persisted = extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  const ids = [body.documentId, persisted?.sha256Hash]
    .filter((value): value is string => typeof value === 'string')
    .map((value) => (value.startsWith('sha256:') ? value : `sha256:${value}`).toLowerCase());
  if (ids.length === 0) {
    if (typeof body.query !== 'string') return undefined;
    const known = byId.get(documentId(body.query));
    return known ? { trusted: known } : undefined;
  }
  // The id is dealt with here; neither field may reach Apollo Server (its automatic persisted queries are off).
  delete body.documentId;
  if (extensions) delete extensions.persistedQuery;
  const known = ids.every((id) => id === ids[0]) ? byId.get(ids[0]) : undefined;
  if (!known) return { unknown: ids.join(' / '), mismatch: false };
  if (body.query !== undefined && body.query !== known.body) return { unknown: known.id, mismatch: true };
  body.query = known.body;
  return { trusted: known };
}
