import { TokenBuckets } from './rate-limit';

describe('TokenBuckets', () => {
  it('lets a burst through, then one request per 1/perSecond, each key on its own', () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 3 });
    expect([0, 0, 0].map(() => buckets.take('a', 1000))).toEqual([0, 0, 0]);
    expect(buckets.take('a', 1000)).toBeCloseTo(0.1);
    expect(buckets.take('b', 1000)).toBe(0); // another key has its own bucket
    expect(buckets.take('a', 1050)).toBeCloseTo(0.05); // half a token refilled
    expect(buckets.take('a', 1100)).toBe(0);
    expect(buckets.take('a', 1100)).toBeCloseTo(0.1);
  });

  it('refills up to the burst, not beyond', () => {
    const buckets = new TokenBuckets({ perSecond: 100, burst: 2 });
    buckets.take('a', 0);
    const allowed = [0, 0, 0].map(() => buckets.take('a', 60_000));
    expect(allowed.filter((s) => s === 0)).toHaveLength(2);
  });

  it('does not limit when perSecond is 0', () => {
    const buckets = new TokenBuckets({ perSecond: 0, burst: 0 });
    for (let i = 0; i < 100; i++) expect(buckets.take('a', 0)).toBe(0);
  });
});

describe('token buckets with a bound (the in-app customers)', () => {
  it('given more ids than the bound, then the least recently used bucket is dropped and the others keep their debt', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 }, 2);
    expect(buckets.take('a', 0)).toBe(0);
    expect(buckets.take('b', 0)).toBe(0);
    expect(buckets.take('a', 0)).toBeGreaterThan(0); // a is in debt, and now the most recently used
    expect(buckets.take('c', 0)).toBe(0); // drops b, the least recently used
    expect(buckets.size).toBe(2);
    expect(buckets.take('a', 0)).toBeGreaterThan(0); // a kept its debt
    expect(buckets.take('b', 0)).toBe(0); // b starts full again
  });
});
