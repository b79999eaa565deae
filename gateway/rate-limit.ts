import { GraphQLError } from 'graphql';
import { HeaderMap } from '@apollo/server';
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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
 * Without REDIS_URL (the default: npm start, one gateway) the buckets live in this process's memory: several
 * gateway processes would each keep their own, and allow a caller the limit times the number of processes.
 * Buckets that are full again are forgotten, so memory follows the number of callers active in the last
 * `burst / perSecond` seconds.
 *
 * With REDIS_URL the gateway replicas share the limit (sharedWindows below), whichever replica serves the caller.
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

/**
 * The limit shared by every gateway replica through Redis (rate-limiter-flexible's RateLimiterRedis: one atomic
 * increment per request). A token bucket is not what it keeps: a fixed window per caller of
 * `burst / perSecond` seconds (at least 1), in which a caller may send `perSecond` times the window's seconds
 * (at least `burst`). The long-run rate is the same; a burst is at most RATE_LIMIT_BURST from a fresh start, and
 * up to twice that across the edge of two windows.
 *
 * Decided: when Redis does not answer (down, unreachable, slower than its command timeout), each replica falls
 * back to the same windows in its own memory (the library's insurance limiter) until Redis is back: callers are
 * still limited, to the limit times the number of replicas, rather than refused (the limit protects capacity; it
 * is not an access rule) or let through without any limit.
 */
export function sharedWindows(limit: RateLimit, client: Redis): (key: string) => Promise<Take> {
  const duration = Math.max(1, Math.ceil(limit.burst / limit.perSecond));
  const points = Math.max(limit.burst, Math.floor(limit.perSecond * duration));
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: 'cg:rate',
    points,
    duration,
    // Not connected: straight to the insurance limiter, no wait on a reconnecting client.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'cg:rate:insurance', points, duration }),
  });
  return async (key) => {
    try {
      await limiter.consume(key);
      return { allowed: true };
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
    }
  };
}

const inMemory = (buckets: TokenBuckets) => async (key: string) => buckets.take(key);

/** The admission check; none when the limit is off. `shared`: the Redis client the replicas share limits through. */
export function rateLimit(limit: RateLimit, shared: Redis | null = null): AdmissionCheck {
  if (limit.perSecond <= 0) return () => {};
  const take = shared ? sharedWindows(limit, shared) : inMemory(new TokenBuckets(limit));
  return async (context) => {
    const taken = await take(callerKey(context));
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
