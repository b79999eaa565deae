import type { ErrorRequestHandler, Request, Response } from 'express';
import { languageOf, type Language } from '../i18n/language';
import { messageIn } from '../i18n/messages';

/**
 * A body Express could not read (over the body limit: 413; not JSON: 400), and anything else that fails
 * before the GraphQL handler, answered as a GraphQL error in JSON, never Express's HTML page (which, outside
 * production, shows a stack trace). The media type follows the client's Accept header as the GraphQL
 * handler's does (application/graphql-response+json when it prefers it), the message its Accept-Language.
 * Shared by the gateway and every subgraph.
 */
export function requestBodyErrors(limit: string, log: (message: string, error: unknown) => void): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    const language = languageOf(req);
    if (status === 500) {
      log('request failed', error);
      return sendErrors(req, res, 500, language, messageIn(language, 'INTERNAL_SERVER_ERROR'), 'INTERNAL_SERVER_ERROR');
    }
    const text =
      error.type === 'entity.too.large'
        ? messageIn(language, 'BODY_TOO_LARGE', { limit })
        : error.type === 'entity.parse.failed'
          ? messageIn(language, 'BODY_NOT_JSON')
          : messageIn(language, 'BODY_UNREADABLE');
    sendErrors(req, res, status, language, text, 'BAD_REQUEST');
  };
}

const GRAPHQL_RESPONSE = 'application/graphql-response+json';

/** A GraphQL response of one request error, in the media type the client prefers (GraphQL over HTTP). */
function sendErrors(req: Request, res: Response, status: number, language: Language, message: string, code: string): void {
  const type = req.accepts(['application/json', GRAPHQL_RESPONSE]) === GRAPHQL_RESPONSE ? GRAPHQL_RESPONSE : 'application/json';
  res.setHeader('content-language', language);
  res.vary('accept-language');
  res.status(status).type(`${type}; charset=utf-8`).send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}
