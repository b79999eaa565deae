/**
 * Whether an error means the agency's database could not be used at all (not that a statement was wrong):
 * the server refused or dropped the connection, was shut down or restarted, had no connection slot, or did
 * not answer in time. Such a failure is the agency being unavailable, which a client can retry, not a fault
 * of the request. Recognised wherever it sits in the chain of causes (Prisma wraps the driver's error, and
 * graphql-js wraps Prisma's), by the driver's and the server's stable codes, never by parsing SQL.
 */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL's SQLSTATEs for a connection that failed or ended under the client: class 08 (connection
 * exception), 53300 too_many_connections, 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now),
 * 57014 query_canceled (statement_timeout: the database did not answer in time).
 */
const unavailableState = (state: string) => state.startsWith('08') || ['53300', '57P01', '57P02', '57P03', '57014'].includes(state);

/** Prisma's codes for the same: cannot reach, timed out, connection closed, no connection from the pool in time. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/** Prisma's driver-adapter error kinds (@prisma/driver-adapter-utils) for the same. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'DatabaseDoesNotExist', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** node-postgres says these in words only (no code): a dropped socket, and a pool that could not connect in time. */
const DRIVER_WORDS = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 20) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { code, kind, message, cause, originalError } = current as Record<string, unknown>;
    if (typeof code === 'string' && (SOCKET_ERRORS.has(code) || PRISMA_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && unavailableState(code)))) return true;
    if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return true;
    if (kind === 'postgres' && typeof (current as { code?: unknown }).code === 'string' && unavailableState((current as { code: string }).code)) return true;
    if (typeof message === 'string' && DRIVER_WORDS.test(message)) return true;
    queue.push(cause, originalError);
    // An AggregateError (a connect that tried several addresses) carries its causes in `errors`.
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return false;
}
