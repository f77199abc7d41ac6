import { HttpException, HttpStatus, Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { LiveConversations } from '../conversations/live-conversations';
import { OrganisationService } from '../conversations/organisation.service';
import { clientStreamEvent, type ClientStreamEvent } from './client-view';
import type { InAppCustomer } from './inapp.guard';

/** A comment line every 15 s keeps proxies and load balancers from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/** How long a disconnected EventSource waits before it reconnects (the `retry:` field). */
export const RECONNECT_MS = 3_000;
/** Open streams one customer may have at once (tabs, devices); one more is a 429. */
export const MAX_STREAMS_PER_CUSTOMER = 10;

/** The part of a response a stream writes to (an Express response, or a test double). */
export interface StreamSink {
  write(chunk: string): boolean;
  end(): void;
  on(event: 'close', listener: () => void): unknown;
}

export const sseFrame = (e: ClientStreamEvent): string => `id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;

/**
 * The in-app clients' Server-Sent Events streams: each listens to its customer's live events (LiveConversations),
 * writes those meant for the client (client-view.ts) in log order, a heartbeat comment every 15 s, and stops listening
 * when the connection closes. A reconnecting EventSource sends `Last-Event-ID`: the events after it are read back
 * from the customer's stream first, so none is missed between two connections.
 */
@Injectable()
export class ClientStreams implements OnModuleDestroy {
  private readonly open = new Set<() => void>();
  private readonly perCustomer = new Map<string, number>();

  constructor(
    private readonly live: LiveConversations,
    private readonly organisation: OrganisationService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** Open streams (tests, /metrics). */
  get size(): number {
    return this.open.size;
  }

  /** Refuses (429) a customer's stream over MAX_STREAMS_PER_CUSTOMER, before anything is written. */
  admit({ workspaceId, customerId }: InAppCustomer): void {
    if ((this.perCustomer.get(customerKey(workspaceId, customerId)) ?? 0) >= MAX_STREAMS_PER_CUSTOMER)
      throw new HttpException(
        `this customer has ${MAX_STREAMS_PER_CUSTOMER} streams open already: close one first`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
  }

  async serve({ workspaceId, customerId }: InAppCustomer, sink: StreamSink, lastEventId?: bigint): Promise<void> {
    this.admit({ workspaceId, customerId });
    const counted = customerKey(workspaceId, customerId);
    this.perCustomer.set(counted, (this.perCustomer.get(counted) ?? 0) + 1);
    let sent = lastEventId ?? 0n;
    let closed = false;
    // events are written one after the other, in the order the feed hands them on (a name lookup is asynchronous)
    let chain: Promise<void> = Promise.resolve();
    const buffered: RecordedEvent[] = [];
    let replaying = lastEventId !== undefined;
    // a failure (reading the store) ends the stream: the client reconnects with Last-Event-ID and misses nothing
    const push = (e: RecordedEvent) => {
      chain = chain.then(async () => {
        if (closed || e.position <= sent) return;
        try {
          const event = clientStreamEvent(e, await this.organisation.load(workspaceId));
          sent = e.position;
          if (event && !closed) sink.write(sseFrame(event));
        } catch {
          end();
        }
      });
    };
    const unsubscribe = this.live.listen(workspaceId, customerId, (e) => (replaying ? buffered.push(e) : push(e)));
    const heartbeat = setInterval(() => !closed && sink.write(`: heartbeat ${new Date().toISOString()}\n\n`), HEARTBEAT_MS);
    heartbeat.unref();
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(end);
      const left = (this.perCustomer.get(counted) ?? 1) - 1;
      if (left > 0) this.perCustomer.set(counted, left);
      else this.perCustomer.delete(counted);
    };
    const end = () => {
      close();
      sink.end();
    };
    this.open.add(end);
    sink.on('close', close);
    sink.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
    if (replaying) {
      try {
        const missed = await this.store.readStream(customerStreamId(workspaceId, customerId));
        for (const e of missed) if (e.position > sent) push(e);
      } catch {
        end();
      } finally {
        replaying = false;
        for (const e of buffered.splice(0)) push(e);
      }
    }
    await chain;
  }

  onModuleDestroy(): void {
    for (const end of [...this.open]) end();
  }
}

const customerKey = (workspaceId: string, customerId: string) => `${workspaceId}\u0000${customerId}`;
