import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { RecordedEvent } from '@journey/domain';
import { EVENT_STORE, Processor, type EventStore } from '@journey/event-store';

/** What a console stream says of an event: enough to know what to refetch, never the event's data. */
export interface FeedItem {
  eventId: string;
  type: string;
  customerId: string;
  occurredAt: string;
  position: string;
  /** The trigger a run or message event belongs to. */
  triggerId?: string;
  /** A tracked event's name (`InteractionRecorded`'s `event`). */
  name?: string;
}

export interface FeedListener {
  (item: FeedItem): void;
  /** The engine stops: end the stream (its client reconnects to whichever engine answers). */
  end?(): void;
}

/** How long the feed keeps reading after its last listener left (a page change reconnects at once). */
const IDLE_STOP_MS = 30_000;

/**
 * Every customer event of a workspace as it is stored, for the console's live pages (a timeline, a trigger's
 * figures). Lazy: it reads the log from its head only while someone listens, so an engine without an open console
 * pays nothing. Handlers only notify; a slow listener is dropped by its stream, never waited for.
 */
@Injectable()
export class EventFeed implements OnModuleDestroy {
  private readonly listeners = new Map<string, Set<FeedListener>>();
  private processor?: Processor;
  private starting?: Promise<void>;
  private idle?: ReturnType<typeof setTimeout>;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Listens to a workspace's events; resolves once the feed reads, with the unsubscribe. */
  async listen(workspaceId: string, listener: FeedListener): Promise<() => void> {
    const set = this.listeners.get(workspaceId) ?? new Set<FeedListener>();
    this.listeners.set(workspaceId, set.add(listener));
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    await this.start();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(workspaceId);
      if (this.listeners.size === 0) {
        this.idle = setTimeout(() => void this.stop(), IDLE_STOP_MS);
        this.idle.unref();
      }
    };
  }

  async onModuleDestroy(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    for (const set of this.listeners.values()) for (const listener of set) listener.end?.();
    this.listeners.clear();
    await this.stop();
  }

  private start(): Promise<void> {
    if (this.processor) return this.starting ?? Promise.resolve();
    this.processor = new Processor({
      name: 'console-feed',
      store: this.store,
      filter: { streamPrefixes: ['customer-'] },
      checkpoint: { load: () => this.store.headPosition() },
      batchSize: 500,
      handle: (events) => {
        for (const e of events) this.notify(e);
      },
    });
    this.starting = this.processor.start();
    return this.starting;
  }

  private async stop(): Promise<void> {
    const processor = this.processor;
    this.processor = undefined;
    this.starting = undefined;
    await processor?.stop();
  }

  private notify(e: RecordedEvent): void {
    const set = this.listeners.get(e.metadata.workspaceId);
    if (!set?.size) return;
    const { triggerId, event } = (e.data ?? {}) as { triggerId?: unknown; event?: unknown };
    const item: FeedItem = {
      eventId: e.id,
      type: e.type,
      customerId: e.metadata.customerId,
      occurredAt: e.metadata.occurredAt,
      position: e.position.toString(),
      ...(typeof triggerId === 'string' ? { triggerId } : {}),
      ...(e.type === 'InteractionRecorded' && typeof event === 'string' ? { name: event } : {}),
    };
    for (const listener of set) listener(item);
  }
}
