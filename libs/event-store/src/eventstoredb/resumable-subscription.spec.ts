import { PassThrough } from 'node:stream';
import type { RecordedEvent } from '@journey/domain';
import { resumableSubscription, type SubscriptionSource } from './resumable-subscription';

/** Stands in for the client's AllStreamSubscription: an object-mode stream the test writes raw positions into. */
class FakeSource extends PassThrough implements SubscriptionSource<number> {
  unsubscribed = false;
  constructor(readonly openedAfter: bigint | undefined) {
    super({ objectMode: true });
  }
  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
  }
  fail(message: string): void {
    this.emit('error', new Error(message));
  }
}

/** Raw item n becomes an event at position n; negative numbers are "system events" and are skipped. */
const toEvent = (n: number): RecordedEvent | undefined =>
  n < 0
    ? undefined
    : {
        id: `e${n}`,
        type: 'T',
        data: { n },
        metadata: { workspaceId: 'w', customerId: 'c', occurredAt: 'x', recordedAt: 'x', source: 't', schemaVersion: 1 },
        streamId: 's',
        revision: BigInt(n),
        position: BigInt(n),
      };

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function harness(
  options: {
    after?: bigint;
    batchSize?: number;
    handler?: (events: RecordedEvent[]) => Promise<void> | void;
    toEvent?: (n: number) => RecordedEvent | undefined;
    backoffMs?: number;
  } = {},
) {
  const sources: FakeSource[] = [];
  const batches: number[][] = [];
  const drops: unknown[] = [];
  const sub = resumableSubscription<number>({
    after: options.after,
    batchSize: options.batchSize ?? 100,
    open: (after) => {
      const source = new FakeSource(after);
      sources.push(source);
      return source;
    },
    toEvent: options.toEvent ?? toEvent,
    handler: async (events) => {
      batches.push(events.map((e) => Number(e.position)));
      await options.handler?.(events);
    },
    backoff: options.backoffMs === undefined ? { initialMs: 1, maxMs: 5 } : { initialMs: options.backoffMs, maxMs: options.backoffMs },
    onDrop: (error) => drops.push(error),
  });
  return { sub, sources, batches, drops, delivered: () => batches.flat() };
}

describe('resumableSubscription', () => {
  it('delivers what is buffered in batches of at most batchSize, never two handler calls at once, skipping what toEvent rejects', async () => {
    let running = 0;
    let overlapped = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = harness({
      batchSize: 2,
      handler: async () => {
        overlapped ||= running > 0;
        running++;
        await gate;
        running--;
      },
    });
    await until(() => h.sources.length === 1, 'open');
    for (const n of [1, -1, 2, 3, 4, 5]) h.sources[0].write(n);
    await until(() => h.batches.length === 1, 'first batch');
    await new Promise((r) => setTimeout(r, 30));
    expect(h.batches).toEqual([[1, 2]]); // the next batch waits for the handler
    release();
    await until(() => h.delivered().length === 5, 'all events');
    expect(h.batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(overlapped).toBe(false);
    await h.sub.stop();
  });

  it('opens after the given position and drops events at or before it (the server read is inclusive)', async () => {
    const h = harness({ after: 10n });
    await until(() => h.sources.length === 1, 'open');
    expect(h.sources[0].openedAfter).toBe(10n);
    for (const n of [10, 11]) h.sources[0].write(n);
    await until(() => h.delivered().length === 1, 'delivery');
    expect(h.delivered()).toEqual([11]);
    await h.sub.stop();
  });

  it('resubscribes after a drop from the last delivered position, without duplicates or gaps', async () => {
    const h = harness();
    await until(() => h.sources.length === 1, 'open');
    h.sources[0].write(1);
    h.sources[0].write(2);
    await until(() => h.delivered().length === 2, 'first events');
    h.sources[0].fail('connection reset');
    await until(() => h.sources.length === 2, 'resubscription');
    expect(h.sources[1].openedAfter).toBe(2n);
    expect(h.sources[0].unsubscribed).toBe(true);
    expect(String(h.drops[0])).toMatch(/connection reset/);
    for (const n of [2, 3]) h.sources[1].write(n);
    await until(() => h.delivered().length === 3, 'events after the drop');
    expect(h.delivered()).toEqual([1, 2, 3]);
    h.sources[1].end(); // the server ending the stream is a drop too
    await until(() => h.sources.length === 3, 'second resubscription');
    expect(h.sources[2].openedAfter).toBe(3n);
    await h.sub.stop();
  });

  it('stops with the handler error, without resubscribing', async () => {
    const h = harness({
      handler: () => {
        throw new Error('handler failed');
      },
    });
    await until(() => h.sources.length === 1, 'open');
    h.sources[0].write(1);
    await expect(h.sub.done).rejects.toThrow('handler failed');
    expect(h.sources).toHaveLength(1);
    expect(h.sources[0].unsubscribed).toBe(true);
  });

  it('stops with an error reading an event (e.g. a missing upcaster), without resubscribing', async () => {
    const h = harness({
      toEvent: () => {
        throw new Error('no upcaster for T');
      },
    });
    h.sources[0].write(1);
    await expect(h.sub.done).rejects.toThrow('no upcaster for T');
    expect(h.sources).toHaveLength(1);
    expect(h.drops).toEqual([]);
  });

  it('stop() ends it: done resolves, the server subscription is cancelled, nothing more is delivered', async () => {
    const h = harness();
    await until(() => h.sources.length === 1, 'open');
    h.sources[0].write(1);
    await until(() => h.delivered().length === 1, 'delivery');
    await h.sub.stop();
    await expect(h.sub.done).resolves.toBeUndefined();
    expect(h.sources[0].unsubscribed).toBe(true);
    expect(h.sources[0].destroyed).toBe(true);
    expect(h.sources).toHaveLength(1);
    expect(h.delivered()).toEqual([1]);
  });

  it('stop() during the backoff after a drop does not resubscribe', async () => {
    const h = harness({ backoffMs: 60_000 });
    h.sources[0].fail('gone');
    await until(() => h.drops.length === 1, 'the drop');
    await h.sub.stop();
    expect(h.sources).toHaveLength(1);
  });
});
