import { GraphQLError } from 'graphql';
import { HeaderMap } from '@apollo/server';
import { ErrorCode } from '../lib/graphql/errors';
import { message } from '../lib/i18n/messages';
import type { AdmissionCheck } from './admission';
import type { GatewayContext } from './data-source';

/**
 * Per-caller rate limit: a token bucket per caller, `burst` requests deep, refilled at `perSecond`
 * requests a second. The caller is the authenticated subject (context.principal.subject) or, without
 * one, the client's address. Over the limit: HTTP 429, a Retry-After header (whole seconds until the
 * next request would be admitted) and a GraphQL error with code RATE_LIMITED.
 *
 * The buckets live in this process's memory: several gateway processes each keep their own, so the
 * effective limit is the per-process one times the number of processes (fine for now; a shared store
 * would be needed for an exact limit). Buckets that are full again are forgotten, so memory follows
 * the number of callers active in the last `burst / perSecond` seconds.
 */
export interface RateLimit {
  /** Requests a second per caller; 0 turns the limit off. */
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type Take = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): Take {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond);
    bucket.at = now;
    if (this.buckets.size > 10_000) this.forgetFullBuckets(now);
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetFullBuckets(now: number) {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond >= this.limit.burst) this.buckets.delete(key);
    }
  }
}

export function callerKey(context: Pick<GatewayContext, 'principal' | 'clientAddress'>): string {
  return context.principal?.subject ? `subject:${context.principal.subject}` : `address:${context.clientAddress ?? 'unknown'}`;
}

/** The admission check; none when the limit is off. */
export function rateLimit(limit: RateLimit): AdmissionCheck {
  if (limit.perSecond <= 0) return () => {};
  const buckets = new TokenBuckets(limit);
  return (context) => {
    const taken = buckets.take(callerKey(context));
    if (taken.allowed) return;
    throw new GraphQLError(message('RATE_LIMITED', { perSecond: limit.perSecond, burst: limit.burst, retryAfterSeconds: taken.retryAfterSeconds }), {
      extensions: {
        code: ErrorCode.RATE_LIMITED,
        retryAfterSeconds: taken.retryAfterSeconds,
        http: { status: 429, headers: new HeaderMap([['retry-after', String(taken.retryAfterSeconds)]]) },
      },
    });
  };
}
