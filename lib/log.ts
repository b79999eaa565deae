import os from 'node:os';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { EnvReader } from './env';
import { currentScope, scopeFields } from './request-scope';

export type { Logger };

/**
 * The services' log: one JSON object a line on stdout (pino), for the platform's log collector.
 *
 * Every line has `time` (ISO 8601), `level` (a word), `service` (gateway, residents, ...), `pid`, `hostname`
 * and `msg`; written while a request is served, also its `requestId`, `traceId`, `spanId` and, when the
 * request came with a trace, `parentSpanId` (lib/request-scope.ts). Lines add, where they apply: `operation`
 * and `result` (the metrics labels), `status`, `durationMs`, `subgraph`, `errorKind`, `component`, and `err`
 * ({ kind, code, message, stack }).
 *
 * Never logged (decided): tokens and credentials, request or response bodies, GraphQL documents and variables,
 * personal codes and names, the client's free text (only ids that passed a strict pattern). Errors are logged
 * through their kind, code, message and stack only, never their other properties (pg's `detail` holds the
 * values of a row); runs of nine or more digits in an error's message and stack are masked, since a message
 * may quote a value (a legacy ID has 9 digits, a personal code 12). Keys that would carry such things are
 * removed from any object logged (at its top level), as a second line of defence.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (tests capture them); stdout by default, written synchronously so nothing is lost at exit. */
  destination?: DestinationStream;
}

/**
 * Keys never written when a logged object has them (top level: the log calls here never nest such things;
 * removing them at every depth too would cost a log line three times as much CPU, ~20 µs rather than ~8).
 */
const REMOVED = ['authorization', 'cookie', 'token', 'credential', 'password', 'body', 'query', 'variables', 'headers'];

export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service, pid: process.pid, hostname: os.hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The ids of the request being served, on every line written while serving it, whoever writes it.
      mixin: () => {
        const scope = currentScope();
        return scope ? scopeFields(scope) : {};
      },
      serializers: { err: loggedError, error: loggedError },
      redact: { paths: REMOVED, remove: true },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** LOG_LEVEL, read by each process's configuration module: one of LOG_LEVELS (info by default). */
export function readLogLevel(read: EnvReader, name = 'LOG_LEVEL'): LogLevel {
  const raw = read.optionalString(name)?.toLowerCase();
  if (raw === undefined) return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  read.problem(`${name} must be one of ${LOG_LEVELS.join(', ')}; got "${raw.slice(0, 40)}".`);
  return 'info';
}

/**
 * The `(message, error)` function the components take (audit writer, outbox, checkpoints, formatError, ...),
 * writing to `log`: an error line with the error's kind, code, message and stack; a warning when there is none.
 */
export function errorLog(log: Logger): (message: string, error?: unknown) => void {
  return (message, error) => {
    if (error === undefined || error === null) log.warn(message);
    else log.error({ err: error }, message);
  };
}

/** Nine or more digits in a row: a personal code (12) or legacy ID (9) a message may quote. */
const LONG_NUMBER = /\d{9,}/g;
const mask = (text: string) => text.replace(LONG_NUMBER, (digits) => '#'.repeat(digits.length));

export interface LoggedError {
  kind: string;
  code?: string;
  message: string;
  stack?: string;
}

/** What the log keeps of an error (see above): nothing but its kind, code, message and stack, masked. */
export function loggedError(error: unknown): LoggedError {
  if (error === null || typeof error !== 'object') return { kind: typeof error, message: mask(String(error)).slice(0, 500) };
  // An Error, or what passes for one (a subgraph's error as the gateway received it: { message, extensions }).
  const { name, message, stack, code, extensions } = error as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown; extensions?: { code?: unknown } };
  const codeOf = [code, extensions?.code].find((value) => typeof value === 'string' || typeof value === 'number');
  return {
    kind: typeof name === 'string' ? name : error instanceof Error ? 'Error' : 'object',
    ...(codeOf !== undefined ? { code: String(codeOf) } : {}),
    message: typeof message === 'string' ? mask(message) : '(no message)',
    ...(typeof stack === 'string' ? { stack: mask(stack) } : {}),
  };
}

/** A process's last words when it cannot start (its configuration could not be read, so the default level). */
export function failedToStart(service: string): (error: unknown) => never {
  return (error) => {
    createLogger(service).fatal({ err: error }, 'failed to start');
    process.exit(1);
  };
}
