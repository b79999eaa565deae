import type { ErrorRequestHandler } from 'express';

/**
 * A body Express could not read (over REQUEST_BODY_LIMIT: 413; not JSON: 400) is answered as a GraphQL
 * error in JSON, not Express's HTML page (which, outside production, shows a stack trace).
 */
export function requestBodyErrors(limit: string): ErrorRequestHandler {
  return (error, _req, res, next) => {
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : undefined;
    if (!status || res.headersSent) return next(error);
    const message =
      error.type === 'entity.too.large'
        ? `The request body is larger than ${limit}, the most this gateway accepts.`
        : error.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON.'
          : 'The request body could not be read.';
    res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
  };
}
