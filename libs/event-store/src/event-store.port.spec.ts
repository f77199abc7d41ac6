import { BackgroundCheckpoint } from './checkpoint.port';
import { WrongExpectedRevisionError, checkExpectedRevision, eventFilterPredicate, type ExpectedRevision } from './event-store.port';

describe('event store port: expected revisions', () => {
  const holds = (expected: ExpectedRevision, current: bigint): boolean => {
    try {
      checkExpectedRevision('customer-w-c', expected, current);
      return true;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      return false;
    }
  };

  it('checks the caller expectation against the stream’s last revision (-1n: no stream)', () => {
    expect(holds('any', -1n)).toBe(true);
    expect(holds('any', 7n)).toBe(true);
    expect(holds('no_stream', -1n)).toBe(true);
    expect(holds('no_stream', 0n)).toBe(false);
    expect(holds('stream_exists', -1n)).toBe(false);
    expect(holds('stream_exists', 0n)).toBe(true);
    expect(holds(3n, 3n)).toBe(true);
    expect(holds(3n, 4n)).toBe(false);
    expect(holds(-1n, -1n)).toBe(true);
  });

  it('names the stream, the expectation and the actual revision when it fails', () => {
    expect(() => checkExpectedRevision('customer-w-c', 3n, -1n)).toThrow(
      expect.objectContaining({
        streamId: 'customer-w-c',
        expected: 3n,
        actual: -1n,
        message: 'wrong expected revision on stream customer-w-c: expected 3, actual no stream',
      }),
    );
  });
});

describe('event store port: filters', () => {
  it('applies event types exactly and stream prefixes as prefixes, both at once', () => {
    const matches = eventFilterPredicate({ eventTypes: ['Odd'], streamPrefixes: ['customer-a-', 'customer-b-'] });
    expect(matches({ streamId: 'customer-b-1', type: 'Odd' })).toBe(true);
    expect(matches({ streamId: 'customer-b-1', type: 'Oddity' })).toBe(false);
    expect(matches({ streamId: 'customer-c-1', type: 'Odd' })).toBe(false);
  });

  it('lets everything through without a filter or with empty lists', () => {
    expect(eventFilterPredicate(undefined)({ streamId: 'anything', type: 'Any' })).toBe(true);
    expect(eventFilterPredicate({ eventTypes: [], streamPrefixes: [] })({ streamId: 'anything', type: 'Any' })).toBe(true);
  });
});

describe('BackgroundCheckpoint', () => {
  it('saves one position at a time, keeps only the latest while a save runs, and flush waits for all of it', async () => {
    const stored: bigint[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const store = {
      get: async () => undefined,
      set: async (_name: string, position: bigint) => {
        if (stored.length === 0) await slow;
        stored.push(position);
      },
    };
    const checkpoint = new BackgroundCheckpoint(store, 'reactor');
    for (let p = 1n; p <= 100n; p++) checkpoint.save(p); // returns at once every time
    expect(stored).toEqual([]);
    release();
    await checkpoint.flush();
    expect(stored).toEqual([1n, 100n]);
  });

  it('reports a failed save and recovers with the next one', async () => {
    let fail = true;
    const errors: string[] = [];
    const stored: bigint[] = [];
    const checkpoint = new BackgroundCheckpoint(
      {
        get: async () => undefined,
        set: async (_n: string, p: bigint) => {
          if (fail) {
            fail = false;
            throw new Error('disk full');
          }
          stored.push(p);
        },
      },
      'relay',
      (e) => errors.push(e.message),
    );
    checkpoint.save(5n);
    await checkpoint.flush();
    expect(checkpoint.lastError?.message).toBe('disk full');
    checkpoint.save(7n);
    await checkpoint.flush();
    expect({ errors, stored, lastError: checkpoint.lastError }).toEqual({ errors: ['disk full'], stored: [7n], lastError: undefined });
  });

  it('skips a save of the position already stored, and still writes the next one', async () => {
    const stored: bigint[] = [];
    const checkpoint = new BackgroundCheckpoint(
      { get: async () => 4n, set: async (_n: string, p: bigint) => void stored.push(p) },
      'dispatcher',
    );
    expect(await checkpoint.load()).toBe(4n);
    checkpoint.save(4n);
    await checkpoint.flush();
    checkpoint.save(9n);
    await checkpoint.flush();
    expect(stored).toEqual([9n]);
  });

  it('paced by everyMs: one write for the saves within the interval, and flush does not wait for the interval', async () => {
    const stored: bigint[] = [];
    const checkpoint = new BackgroundCheckpoint(
      { get: async () => undefined, set: async (_n: string, p: bigint) => void stored.push(p) },
      'dispatcher',
      undefined,
      60_000,
    );
    for (let p = 1n; p <= 5n; p++) checkpoint.save(p);
    await new Promise((r) => setTimeout(r, 20));
    expect(stored).toEqual([]);
    const started = Date.now();
    await checkpoint.flush();
    expect(stored).toEqual([5n]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
