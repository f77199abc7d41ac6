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

  /**
   * `maxBuckets`: for ids that are not bounded by the keys (the in-app customers): past it, the least recently used
   * bucket is dropped. A dropped bucket refills to full, so only an id idle longer than the others loses its debt.
   */
  constructor(
    readonly limit: RateLimit,
    private readonly maxBuckets = Infinity,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token for `id` at `nowMs`: 0 when the request may go, else the seconds until the next token. */
  take(id: string, nowMs: number): number {
    const { perSecond, burst } = this.limit;
    if (perSecond <= 0) return 0;
    const bucket = this.buckets.get(id) ?? { tokens: burst, at: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * perSecond);
    bucket.at = nowMs;
    this.buckets.delete(id); // most recently used last
    this.buckets.set(id, bucket);
    if (this.buckets.size > this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / perSecond;
  }
}
