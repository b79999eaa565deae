import { parse, type OperationDefinitionNode } from 'graphql';
import { childTraceparent, parseTraceparent, traceFrom } from '../lib/trace-context';
import { createLogger, errorLog, readLogLevel } from '../lib/log';
import { inScope, scopeFromHeaders } from '../lib/request-scope';
import { readMetricsListener, resultLabel } from '../lib/metrics';
import { rootFieldOperation, trustedOperationLabel } from '../lib/request-observer';
import { EnvReader } from '../lib/env';

/**
 * The pieces of observability that need no server: the traceparent parser (the W3C rules, and what an
 * attacker sends), what a log line carries and what it never does, and the bounded metric labels. The
 * processes themselves are tested in observability.test.ts.
 */
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${PARENT}-01`;

describe('traceparent', () => {
  it('reads a well-formed header: trace id, parent id and the sampled flag', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE, parentId: PARENT, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)).toEqual({ traceId: TRACE, parentId: PARENT, sampled: false });
    // Flags other than sampled are ignored, not refused.
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-fe`)?.sampled).toBe(false);
  });

  it('reads a later version as the specification says: its known fields, followed by a dash or nothing', () => {
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-01`)?.traceId).toBe(TRACE);
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-01-what-comes-next`)?.traceId).toBe(TRACE);
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-01what`)).toBeNull();
  });

  it.each([
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['version 00 with more after it', `${VALID}-extra`],
    ['upper case', VALID.toUpperCase()],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['a version that is not hex', `zz-${TRACE}-${PARENT}-01`],
    ['flags that are not hex', `00-${TRACE}-${PARENT}-0g`],
    ['full-width digits', `00-${TRACE.slice(0, 31)}６-${PARENT}-01`],
    ['an emoji', `00-${TRACE.slice(0, 30)}🙂-${PARENT}-01`],
    ['two headers joined', `${VALID}, 00-${TRACE}-${PARENT}-00`],
    ['spaces inside', `00 -${TRACE}-${PARENT}-01`],
    ['a huge value', `01-${TRACE}-${PARENT}-01-${'a'.repeat(100_000)}`],
    ['empty', ''],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('refuses what is not one string', () => {
    expect(parseTraceparent(undefined)).toBeNull();
    expect(parseTraceparent([VALID, VALID])).toBeNull();
    expect(parseTraceparent(42)).toBeNull();
  });

  it('continues a well-formed trace with a span of its own, and starts a new one for anything else', () => {
    const continued = traceFrom(VALID);
    expect(continued).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, sampled: true });
    expect(continued.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(continued.spanId).not.toBe(PARENT);
    const fresh = traceFrom(`ff-${TRACE}-${PARENT}-01`);
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.traceId).not.toBe(TRACE);
    expect(fresh.parentSpanId).toBeNull();
  });

  it('gives every outgoing call the trace id and a new span id, in the form it accepts itself', () => {
    const trace = traceFrom(VALID);
    const calls = [childTraceparent(trace), childTraceparent(trace)];
    for (const call of calls) expect(parseTraceparent(call)).toMatchObject({ traceId: TRACE, sampled: true });
    expect(new Set(calls.map((call) => parseTraceparent(call)!.parentId)).size).toBe(2);
    expect(calls.map((call) => parseTraceparent(call)!.parentId)).not.toContain(trace.spanId);
  });
});

/** A logger whose lines land in an array, parsed. */
function capturedLogger(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, any>[] = [];
  const log = createLogger('test-service', { level, destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { log, lines };
}

describe('log lines', () => {
  it('are JSON with the time, the level as a word, the service and the message', () => {
    const { log, lines } = capturedLogger();
    log.info('started');
    log.debug('not written at info');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', service: 'test-service', msg: 'started', pid: process.pid });
    expect(new Date(lines[0].time).toISOString()).toBe(lines[0].time);
  });

  it('carry the request id and trace of the request being served, whoever writes them, and nothing outside one', async () => {
    const { log, lines } = capturedLogger();
    const scope = scopeFromHeaders({ 'x-request-id': 'req-42', traceparent: VALID });
    await inScope(scope, async () => {
      await new Promise((resolve) => setImmediate(resolve)); // across an await, as resolvers log
      log.warn('inside');
    });
    log.warn('outside');
    expect(lines[0]).toMatchObject({ requestId: 'req-42', traceId: TRACE, parentSpanId: PARENT, spanId: scope.trace.spanId });
    expect(lines[1]).not.toHaveProperty('requestId');
    expect(lines[1]).not.toHaveProperty('traceId');
  });

  it('never take a request id that is free text: a new id instead', () => {
    for (const given of ['<script>', 'a b', 'x'.repeat(101), '001200342514\n{"level":"fatal"}']) {
      const scope = scopeFromHeaders({ 'x-request-id': given });
      expect(scope.requestId).not.toBe(given);
      expect(scope.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("keep of an error its kind, code, message and stack, with long numbers masked, never its other properties", () => {
    const { log, lines } = capturedLogger();
    const error = Object.assign(new Error('duplicate key value violates unique constraint "so_dinh_danh_pkey" for 001200342514'), {
      name: 'DatabaseError',
      code: '23505',
      detail: 'Key (so_dinh_danh)=(001200342514) already exists.',
      parameters: ['001200342514', 'Trần Đăng Bảo'],
    });
    errorLog(log)('could not write', error);
    errorLog(log)('a warning without an error');
    const text = JSON.stringify(lines);
    expect(lines[0]).toMatchObject({ level: 'error', msg: 'could not write', err: { kind: 'DatabaseError', code: '23505' } });
    expect(lines[0].err.message).toContain('############');
    expect(lines[0].err.stack).toContain('DatabaseError');
    expect(text).not.toMatch(/\d{9,}/);
    expect(text).not.toContain('Trần');
    expect(text).not.toContain('detail');
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'a warning without an error' });
  });

  it('keep what passes for an error (a subgraph error as the gateway received it) by its code and message', () => {
    const { log, lines } = capturedLogger();
    errorLog(log)('internal error', { message: 'Cannot read properties of undefined', extensions: { code: 'INTERNAL_SERVER_ERROR', exception: { secret: 1 } } });
    expect(lines[0].err).toEqual({ kind: 'object', code: 'INTERNAL_SERVER_ERROR', message: 'Cannot read properties of undefined' });
  });

  it('drop tokens, headers, bodies, documents and variables from any object logged', () => {
    const { log, lines } = capturedLogger();
    log.info(
      { authorization: 'Bearer eyJhbGciOi', headers: { cookie: 'c' }, body: '{"query":"…"}', query: '{ citizen }', variables: { code: '001200342514' }, token: 't', kept: 1 },
      'a careless line',
    );
    expect(lines[0]).toMatchObject({ kept: 1, msg: 'a careless line' });
    expect(JSON.stringify(lines[0])).not.toMatch(/eyJ|cookie|001200342514|citizen|"t"/);
  });

  it('take their level from LOG_LEVEL, and refuse a level that does not exist', () => {
    expect(readLogLevel(new EnvReader({}))).toBe('info');
    expect(readLogLevel(new EnvReader({ LOG_LEVEL: 'DEBUG' }))).toBe('debug');
    const read = new EnvReader({ LOG_LEVEL: 'verbose' });
    readLogLevel(read);
    expect(() => read.done()).toThrow(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "verbose"/);
  });
});

describe('metric labels', () => {
  const operation = (text: string) => parse(text).definitions[0] as OperationDefinitionNode;

  it("name a subgraph's operation by the schema's root field, never the operation's name", () => {
    expect(rootFieldOperation(operation('query ClientsChoice__residents__0 { citizen(personalCode: "1") { fullName } }'))).toBe('Query.citizen');
    expect(rootFieldOperation(operation('query { a: citizen(personalCode: "1") { fullName } b: citizen(personalCode: "2") { fullName } }'))).toBe('Query.citizen');
    expect(rootFieldOperation(operation('query { citizen(personalCode: "1") { fullName } household(number: "x") { number } }'))).toBe('Query.multiple');
    expect(rootFieldOperation(operation('query { ... on Query { citizen(personalCode: "1") { fullName } } }'))).toBe('Query.multiple');
    expect(rootFieldOperation(operation('mutation M { registerBirth(input: {}) { status } }'))).toBe('Mutation.registerBirth');
  });

  it("take a trusted document's name only when it is a GraphQL name", () => {
    expect(trustedOperationLabel('UnifiedCitizen')).toBe('UnifiedCitizen');
    expect(trustedOperationLabel(null)).toBe('anonymous');
    expect(trustedOperationLabel('')).toBe('anonymous');
    expect(trustedOperationLabel('Bad name{}')).toBe('anonymous');
  });

  it('give a result from a bounded set: ok, a known error code, or the class of the status', () => {
    expect(resultLabel(undefined, 200)).toBe('ok');
    expect(resultLabel('AGENCY_UNAVAILABLE', 200)).toBe('AGENCY_UNAVAILABLE');
    expect(resultLabel('SOMETHING_A_SUBGRAPH_INVENTED', 200)).toBe('OTHER_ERROR');
    expect(resultLabel(undefined, 401)).toBe('UNAUTHENTICATED');
    expect(resultLabel(undefined, 413)).toBe('BAD_REQUEST');
    expect(resultLabel(undefined, 503)).toBe('SERVICE_UNAVAILABLE');
    expect(resultLabel(undefined, 502)).toBe('INTERNAL_SERVER_ERROR');
  });

  it('are served on a port of their own: the public port is refused', () => {
    const names = { port: 'METRICS_PORT', host: 'METRICS_HOST' };
    expect(readMetricsListener(new EnvReader({}), names, 9400, 4000)).toEqual({ port: 9400, host: '127.0.0.1' });
    const read = new EnvReader({ METRICS_PORT: '4000' });
    readMetricsListener(read, names, 9400, 4000);
    expect(() => read.done()).toThrow(/METRICS_PORT \(4000\) must not be the service's public port/);
  });
});
