import type { JourneyEvent } from '@journey/domain';
import type { EventStore } from './event-store.port';

/**
 * The fold of one small stream per key (a workspace's teams, its settings), kept in memory and brought up to date on
 * each `load` by reading the stream from the revision it has: one indexed read, usually empty, so a change written by
 * another process is seen by the next read. A key whose stream does not exist keeps no entry, so requests naming
 * random keys cannot grow the cache.
 */
export class StreamFold<S extends { revision: number }> {
  private readonly cache = new Map<string, S>();

  constructor(
    protected readonly store: Pick<EventStore, 'readStream'>,
    private readonly streamId: (key: string) => string,
    private readonly initial: () => S,
    private readonly evolve: (state: S, event: JourneyEvent) => S,
  ) {}

  async load(key: string): Promise<S> {
    let state = this.cache.get(key) ?? this.initial();
    const events = await this.store.readStream(this.streamId(key), { fromRevision: BigInt(state.revision) });
    for (const e of events) state = this.evolve(state, e);
    if (state.revision > 0) this.cache.set(key, state);
    return state;
  }
}
