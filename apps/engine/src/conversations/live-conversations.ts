import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CONVERSATION_EVENT_TYPES, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, Processor, type EventStore } from '@journey/event-store';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';

/**
 * What the live streams carry: conversation events, task changes, SLA breaches, and deliveries (an in-app client
 * shows a new inbox message at once; listeners filter what is theirs).
 */
export const LIVE_EVENT_TYPES = [
  ...CONVERSATION_EVENT_TYPES,
  'CsmTaskOpened',
  'CsmTaskAssigned',
  'CsmTaskClosed',
  'SlaBreached',
  'MessageDelivered',
];

export type LiveListener = (event: RecordedEvent) => void;

/**
 * The live feed behind the Server-Sent Events streams (an in-app client's, an agent's work queue): a processor from
 * the log's head (no checkpoint: a client that reconnects reads the current state over HTTP first) handing each
 * conversation, task and SLA event to the listeners of its customer and of its workspace. Runs with the `api` role.
 */
@Injectable()
export class LiveConversations implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly listeners = new Map<string, Set<LiveListener>>();
  private processor?: Processor;

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly health: HealthChecks,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('api')) return;
    this.processor = new Processor({
      name: 'live-conversations',
      store: this.store,
      filter: { eventTypes: LIVE_EVENT_TYPES, streamPrefixes: ['customer-'] },
      // sparse among the ingested events: the store seeks them instead of the API thread reading the whole log
      filterInStore: true,
      checkpoint: { load: () => this.store.headPosition() },
      batchSize: 200,
      handle: (events) => {
        for (const e of events) {
          this.notify(key(e.metadata.workspaceId, e.metadata.customerId), e);
          this.notify(key(e.metadata.workspaceId), e);
        }
      },
    });
    this.health.registerSubscriber('live-conversations', this.processor);
    await this.processor.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.processor?.stop();
  }

  /** Listens to one customer's events (`customerId`) or to the whole workspace's; returns the unsubscribe. */
  listen(workspaceId: string, customerId: string | undefined, listener: LiveListener): () => void {
    const k = key(workspaceId, customerId);
    const set = this.listeners.get(k) ?? new Set<LiveListener>();
    this.listeners.set(k, set.add(listener));
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(k);
    };
  }

  /** Resolves once the feed has handed on every event up to `position` (tests, benchmarks). */
  waitFor(position: bigint): Promise<void> {
    return this.processor ? this.processor.waitFor(position) : Promise.resolve();
  }

  private notify(k: string, event: RecordedEvent): void {
    for (const listener of this.listeners.get(k) ?? []) {
      try {
        listener(event);
      } catch {
        // a listener's failure (a closed connection) is its own: the feed goes on for the others
      }
    }
  }
}

const key = (workspaceId: string, customerId?: string) =>
  customerId === undefined ? `${workspaceId}\u0000*` : `${workspaceId}\u0000${customerId}`;
