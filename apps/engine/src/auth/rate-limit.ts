/** Requests per second each key may make, with a burst: a token bucket per key. `perSecond` 0 turns limits off. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/**
 * Token buckets, one per key id: a bucket holds up to `burst` tokens, refills at `perSecond`, and each request takes
 * one. Pure: the time is passed in. Buckets exist only for authenticated keys, so their number is bounded by the keys.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly limit: RateLimit) {}

  /** Takes a token for `id` at `nowMs`: 0 when the request may go, else the seconds until the next token. */
  take(id: string, nowMs: number): number {
    const { perSecond, burst } = this.limit;
    if (perSecond <= 0) return 0;
    const bucket = this.buckets.get(id) ?? { tokens: burst, at: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * perSecond);
    bucket.at = nowMs;
    this.buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / perSecond;
  }
}
