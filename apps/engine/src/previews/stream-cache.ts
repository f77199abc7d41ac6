import type { RecordedEvent } from '@journey/domain';
import type { EventStore } from '@journey/event-store';

interface Entry {
  events: RecordedEvent[];
  refresh?: Promise<RecordedEvent[]>;
}

/**
 * Customer streams as previews and why-not read them, kept between requests (a customer with 10,000 events is read
 * once, then only from the revision after the last one read: a stream is append-only). Bounded by the number of
 * events kept (least recently used streams out first). Holds nothing the store does not: a CustomerForgotten is in the
 * stream, and every fold of it forgets what came before.
 */
export class StreamCache {
  private readonly entries = new Map<string, Entry>();
  private kept = 0;

  constructor(
    private readonly store: EventStore,
    private readonly maxEvents = 50_000,
  ) {}

  async read(streamId: string): Promise<RecordedEvent[]> {
    let entry = this.entries.get(streamId);
    if (entry) this.entries.delete(streamId);
    else entry = { events: [] };
    this.entries.set(streamId, entry);
    const e = entry;
    e.refresh ??= this.tail(streamId, e).finally(() => (e.refresh = undefined));
    return e.refresh;
  }

  private async tail(streamId: string, entry: Entry): Promise<RecordedEvent[]> {
    const last = entry.events.at(-1);
    const fresh = await this.store.readStream(streamId, last ? { fromRevision: last.revision + 1n } : undefined);
    if (fresh.length > 0) {
      entry.events = entry.events.concat(fresh);
      this.kept += fresh.length;
    }
    const events = entry.events;
    while (this.kept > this.maxEvents && this.entries.size > 1) {
      const [oldest, dropped] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldest);
      this.kept -= dropped.events.length;
    }
    if (events.length === 0) this.entries.delete(streamId);
    return events;
  }
}
