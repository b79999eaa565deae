import crypto from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), the `traceparent` header only:
 *   00-<trace-id: 32 hex>-<parent-id: 16 hex>-<flags: 2 hex>
 * The gateway continues a client's trace when its traceparent is well formed and starts a new one otherwise;
 * every subgraph call (and every call one agency makes to another) carries the trace id with a span id of its
 * own, and every process logs traceId and spanId with each line of the request (lib/request-scope.ts).
 *
 * Why not the OpenTelemetry SDK: it is not installed (the machines are air-gapped and every dependency is
 * vetted), there is no collector to export spans to, and what is needed here, propagation and log
 * correlation, is this page of code. An SDK added later reads and writes the same header, so traces started
 * here continue there.
 *
 * Not propagated: `tracestate` (vendor free text from the client: nothing a client writes travels further
 * than the gateway, and it is never logged).
 */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero: the whole request across processes. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: this process's span of the request. */
  spanId: string;
  /** The span of whoever called (the client's, or the gateway's subgraph call); null for a trace started here. */
  parentSpanId: string | null;
  /** The sampled flag: the caller may have recorded the trace (every trace here is logged: set on new ones). */
  sampled: boolean;
}

export const TRACEPARENT_HEADER = 'traceparent';

/** What a well-formed traceparent says. */
export interface ParsedTraceparent {
  traceId: string;
  parentId: string;
  sampled: boolean;
}

const VERSION_00_LENGTH = 55;
/** Longer values are refused unread: later versions may only append fields, never this many. */
const MAX_LENGTH = 512;
const FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;

/**
 * The header's value if well formed per the specification's parsing rules, else null: lowercase hex only,
 * version ff invalid, version 00 exactly 55 characters, a later version at least that with a `-` after the
 * known fields, trace and parent ids not all zeros. Anything else (several headers joined, other case,
 * unicode, a huge value) is null: the caller starts a new trace, never echoes the value.
 */
export function parseTraceparent(value: unknown): ParsedTraceparent | null {
  if (typeof value !== 'string' || value.length < VERSION_00_LENGTH || value.length > MAX_LENGTH) return null;
  const match = FIELDS.exec(value.slice(0, VERSION_00_LENGTH));
  if (!match) return null;
  const [, version, traceId, parentId, flags] = match;
  if (version === 'ff') return null;
  if (version === '00' ? value.length !== VERSION_00_LENGTH : value.length > VERSION_00_LENGTH && value[VERSION_00_LENGTH] !== '-') return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return null;
  return { traceId, parentId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** This process's span of a request whose incoming traceparent header is `header` (continued if well formed). */
export function traceFrom(header: unknown): TraceContext {
  const parsed = parseTraceparent(header);
  if (!parsed) return { traceId: randomHex(16), spanId: newSpanId(), parentSpanId: null, sampled: true };
  return { traceId: parsed.traceId, spanId: newSpanId(), parentSpanId: parsed.parentId, sampled: parsed.sampled };
}

/** The traceparent of an outgoing call made within `trace`: the same trace, a new span id for the call. */
export function childTraceparent(trace: TraceContext): string {
  return formatTraceparent(trace.traceId, newSpanId(), trace.sampled);
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

export const newSpanId = (): string => randomHex(8);

function randomHex(bytes: number): string {
  for (;;) {
    const hex = crypto.randomBytes(bytes).toString('hex');
    if (!ALL_ZERO.test(hex)) return hex;
  }
}
