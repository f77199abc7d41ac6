import type { RecordedEvent } from '@journey/domain';
import type { EventStore, ReadStreamOptions } from '@journey/event-store';
import { StreamCache } from './stream-cache';

/** A store of streams that records what each read asked for. */
function fakeStore(streams: Record<string, number>) {
  const reads: Array<{ streamId: string; from?: bigint }> = [];
  const event = (streamId: string, revision: number) =>
    ({
      id: `${streamId}-${revision}`,
      type: 'TraitsUpdated',
      data: {},
      metadata: {},
      streamId,
      revision: BigInt(revision),
      position: 0n,
    }) as unknown as RecordedEvent;
  const store = {
    readStream: async (streamId: string, options?: ReadStreamOptions) => {
      reads.push({ streamId, from: options?.fromRevision });
      const from = Number(options?.fromRevision ?? 0n);
      return Array.from({ length: Math.max(0, (streams[streamId] ?? 0) - from) }, (_, i) => event(streamId, from + i));
    },
  } as unknown as EventStore;
  return { store, reads, streams };
}

describe('StreamCache', () => {
  it('given a stream read once, when read again, then only the events after the last one read are asked for', async () => {
    const { store, reads, streams } = fakeStore({ a: 3 });
    const cache = new StreamCache(store);
    expect((await cache.read('a')).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
    streams.a = 5;
    expect((await cache.read('a')).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(reads).toEqual([
      { streamId: 'a', from: undefined },
      { streamId: 'a', from: 3n },
    ]);
  });

  it('keeps at most maxEvents (least recently used out), and no entry for an empty stream', async () => {
    const { store, reads } = fakeStore({ a: 3, b: 3 });
    const cache = new StreamCache(store, 4);
    await cache.read('a');
    await cache.read('b'); // 6 kept > 4: a goes
    await cache.read('a');
    expect(reads.map((r) => `${r.streamId}:${r.from ?? '-'}`)).toEqual(['a:-', 'b:-', 'a:-']);
    expect(await cache.read('none')).toEqual([]);
    await cache.read('none');
    expect(reads.filter((r) => r.streamId === 'none').map((r) => r.from)).toEqual([undefined, undefined]);
  });
});
