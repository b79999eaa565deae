import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../lib/graphql/errors';
import { message } from '../lib/i18n/messages';
import { loadTrustedDocuments, normaliseDocumentId, sha256Hex, type KnownDocument } from '../lib/trusted-documents';
import type { GatewayContext } from './data-source';
import { AD_HOC_ROLES } from '../lib/access/policy';
import type { AdmissionCheck } from './admission';
import { trustedOperationLabel } from '../lib/request-observer';

/**
 * Trusted documents (persisted queries known ahead of time): the client manifests of the frontend
 * applications, one `apollo-persisted-query-manifest` file each, in the folder TRUSTED_DOCUMENTS_DIR
 * (lib/trusted-documents.ts; the project's own operations/ is gateway/trusted-documents/operations.json).
 * Frontends send the id of a manifest operation instead of its text, in a POST body, either way:
 *   { "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "<id>" } }, "variables": {...} }
 *     (Apollo Client's PersistedQueryLink with generatePersistedQueryIdsFromManifest, unchanged)
 *   { "documentId": "<id>" | "sha256:<hex>", "variables": {...} }   (GraphQL over HTTP's persisted documents)
 * The gateway then runs the manifest's body: the text the client would have sent, `__typename` included, so
 * the client's normalised cache gets what it expects. An id no manifest has is refused (TRUSTED_DOCUMENT_UNKNOWN),
 * and so is a `query` sent along with an id that is not that document's text.
 *
 * A `query` sent alone whose text is exactly a manifest body, byte for byte, is that trusted document
 * (decided: it is the same operation, run under the same rules and cost ceiling as by its id; the tests and
 * the bench send texts so). Any other text, even one differing only in layout or comments, is free-form.
 * Clients cannot register documents: Apollo's automatic persisted queries are off.
 *
 * Free-form (ad hoc) documents: with TRUSTED_DOCUMENTS=required (the production default) they run only for a
 * caller whose role allows ad hoc queries (allowsAdHocQueries); others get TRUSTED_DOCUMENT_REQUIRED before the
 * text is even parsed. With TRUSTED_DOCUMENTS=off (the development default) anyone may send one. Either way,
 * free-form documents have the lower cost ceiling (gateway/operation-limits.ts).
 */
export type TrustedDocumentsMode = 'required' | 'off';

/** Who may send free-form documents: the roles the access policy allows ad hoc queries (lib/access/policy.ts). */
export function allowsAdHocQueries(context: Pick<GatewayContext, 'principal'>): boolean {
  return context.principal !== undefined && AD_HOC_ROLES.includes(context.principal.role);
}

type Resolution = { trusted: KnownDocument } | { unknown: string; mismatch: boolean };

const resolutions = new WeakMap<IncomingMessage, Resolution>();

export interface TrustedDocuments {
  /** Express middleware on the GraphQL route: puts the manifest's text in place of an id. */
  resolve: RequestHandler;
  /** Admission check (after the context is built): refuses unknown ids and, when required, free-form documents. */
  check: AdmissionCheck;
  /**
   * The metrics label of a request's operation: its trusted document's name (from the manifest, so a bounded
   * set), "anonymous" for one without; undefined for anything else (free-form documents: "other").
   */
  operationLabel(req: IncomingMessage): string | undefined;
  size: number;
}

export function trustedDocuments(options: { mode: TrustedDocumentsMode; dir: string }): TrustedDocuments {
  const byId = loadTrustedDocuments(options.dir);
  // Exact texts: the SHA-256 of each body (whatever id its manifest gives it).
  const byBody = new Map([...byId.values()].map((document) => [sha256Hex(document.body), document]));

  const resolve: RequestHandler = (req, _res, next) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (req.method === 'POST' && body && typeof body === 'object' && !Array.isArray(body)) {
      const resolution = resolveBody(body, byId, byBody);
      if (resolution) resolutions.set(req, resolution);
    } else if (req.method === 'GET' && typeof req.query.query === 'string') {
      const known = byBody.get(sha256Hex(req.query.query));
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
        message(resolution.mismatch ? 'TRUSTED_DOCUMENT_MISMATCH' : 'TRUSTED_DOCUMENT_UNKNOWN', { id: resolution.unknown }),
        { extensions: { code: ErrorCode.TRUSTED_DOCUMENT_UNKNOWN, documentId: resolution.unknown, http: { status: 400 } } },
      );
    }
    if (options.mode === 'required' && !allowsAdHocQueries(context)) {
      throw new GraphQLError(
        message('TRUSTED_DOCUMENT_REQUIRED'),
        { extensions: { code: ErrorCode.TRUSTED_DOCUMENT_REQUIRED, http: { status: 400 } } },
      );
    }
  };

  const operationLabel = (req: IncomingMessage) => {
    const resolution = resolutions.get(req);
    return resolution && 'trusted' in resolution ? trustedOperationLabel(resolution.trusted.name) : undefined;
  };

  return { resolve, check, operationLabel, size: byId.size };
}

/** Reads the id a body carries, if any, and rewrites the body to the manifest's text. */
function resolveBody(
  body: Record<string, unknown>,
  byId: ReadonlyMap<string, KnownDocument>,
  byBody: ReadonlyMap<string, KnownDocument>,
): Resolution | undefined {
  const extensions = body.extensions && typeof body.extensions === 'object' ? (body.extensions as Record<string, unknown>) : undefined;
  const persisted = extensions?.persistedQuery && typeof extensions.persistedQuery === 'object' ? (extensions.persistedQuery as { sha256Hash?: unknown }) : undefined;
  const sent = [body.documentId, persisted?.sha256Hash].filter((value) => value !== undefined && value !== null);
  if (sent.length === 0) {
    if (typeof body.query !== 'string') return undefined;
    const known = byBody.get(sha256Hex(body.query));
    return known ? { trusted: known } : undefined;
  }
  // The id is dealt with here; neither field may reach Apollo Server (its automatic persisted queries are off).
  delete body.documentId;
  if (extensions) delete extensions.persistedQuery;
  const ids = sent.map((value) => (typeof value === 'string' ? normaliseDocumentId(value) : null));
  const known = ids[0] !== null && ids.every((id) => id === ids[0]) ? byId.get(ids[0]) : undefined;
  if (!known) return { unknown: sent.map((value) => (typeof value === 'string' ? value : JSON.stringify(value) ?? '')).map((id) => id.slice(0, 100)).join(' / '), mismatch: false };
  if (body.query !== undefined && body.query !== known.body) return { unknown: known.id, mismatch: true };
  body.query = known.body;
  return { trusted: known };
}
