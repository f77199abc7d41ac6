import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import type { RecordedEvent, Upcasters } from '@journey/domain';
import { eventFilterPredicate, type BatchHandler, type SubscribeOptions, type SubscriptionHandle } from '../event-store.port';
import type { SqliteDatabase } from './database';
import type { WalSync } from './append';
import { toRecorded, type EventReader, type StoredEvent } from './read';

/**
 * Fallback poll for writers in other processes (the CLI, a second engine on the same file). Appends in this process,
 * any thread, wake subscribers at once (other threads hear of them on a BroadcastChannel named after the file).
 */
const POLL_MS = 250;
/** How long a subscriber waits for another thread to tell that events are durable before it syncs the WAL itself. */
const ANNOUNCE_WAIT_MS = 25;

/**
 * The live side of the SQLite event store. Subscribers are handed events only once they are durable: this store's own
 * commits after their fdatasync; other writers' (another thread, another process) once that thread tells, or after an
 * fdatasync of this store (except for subscribers that write only to the log, see SubscribeOptions.writesOnlyToLog),
 * so nothing derived from the log outside it (read models, Kafka, sends) can ever get ahead of it after a power loss.
 * A live subscriber reads the log's last events from the tail in memory (append.ts), each parsed once for all of
 * them: the events a subscription hands out are frozen (shared between subscribers; immutable anyway).
 */
export class Subscriptions {
  private readonly appended = new EventEmitter();
  /** Tells the stores of other threads on the same file that events were committed, and durable up to a position. */
  private readonly channel?: BroadcastChannel;
  private closed = false;

  constructor(
    db: SqliteDatabase,
    private readonly reader: EventReader,
    private readonly wal: WalSync,
    private readonly tail: StoredEvent[],
    private readonly upcasters: Upcasters,
  ) {
    this.appended.setMaxListeners(0);
    if (db.memory) return;
    this.channel = new BroadcastChannel(`journey-sqlite:${resolve(db.name)}`);
    this.channel.onmessage = (message: { data: unknown }) => {
      this.wal.heard(Number(message.data));
      this.appended.emit('appended');
    };
    this.channel.unref();
  }

  /** This store committed (and made durable) events up to `last`, or nothing new (`last` undefined). */
  committed(last?: number): void {
    this.appended.emit('appended');
    if (last !== undefined) this.channel?.postMessage(last);
  }

  subscribe(options: SubscribeOptions, handler: BatchHandler): SubscriptionHandle {
    let stopped = false;
    const batchSize = options.batchSize ?? 500;
    const matches = eventFilterPredicate(options.filter);
    const run = async () => {
      let after = options.after ?? 0n;
      while (!stopped && !this.closed) {
        const upTo = this.wal.visibleUpTo;
        const fromMemory = this.readTail(after, batchSize, matches, upTo);
        const events = fromMemory ? fromMemory.events : this.reader.readAll({ after, maxCount: batchSize, filter: options.filter }, upTo);
        if (events.length > 0) {
          if (!options.writesOnlyToLog) await this.ensureDurable(Number(events[events.length - 1].position));
          await handler(events);
          after = events[events.length - 1].position;
        } else if (fromMemory && fromMemory.last > after) {
          after = fromMemory.last; // a run of events the filter skips
        } else {
          await this.nextAppend(POLL_MS);
        }
      }
    };
    const done = run();
    return {
      done,
      stop: async () => {
        stopped = true;
        this.appended.emit('appended'); // wakes it (and the others, who find nothing new)
        await done.catch(() => undefined);
      },
    };
  }

  close(): void {
    this.closed = true;
    this.channel?.close();
    this.appended.emit('appended');
  }

  /**
   * Resolves once the events up to `position` are durable. The other threads' stores tell when theirs are (after their
   * own fdatasync); for what they have not told within ANNOUNCE_WAIT_MS (another process's events, say), one
   * fdatasync of this store covers everything committed before it.
   */
  private async ensureDurable(position: number): Promise<void> {
    if (position <= this.wal.durableUpTo) return; // (always, at durability NORMAL)
    // Every announcement (and every commit of this store) emits 'appended' after moving durableUpTo: wait for those.
    const deadline = Date.now() + ANNOUNCE_WAIT_MS;
    while (position > this.wal.durableUpTo && Date.now() < deadline && !this.closed) await this.nextAppend(deadline - Date.now());
    if (position > this.wal.durableUpTo) await this.wal.sync(this.reader.headPosition());
  }

  /** Resolves on the next commit or announcement (or stop, or close), or after `ms`. */
  private nextAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.appended.off('appended', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.appended.on('appended', done);
    });
  }

  /**
   * A read from the tail when `after` is in it: up to `maxCount` events that pass the filter, and the position read up
   * to (past events the filter skips). Undefined otherwise.
   */
  private readTail(
    after: bigint,
    maxCount: number,
    matches: (e: StoredEvent) => boolean,
    upTo: number,
  ): { events: RecordedEvent[]; last: bigint } | undefined {
    const tail = this.tail;
    if (tail.length === 0) return undefined;
    const first = tail[0].position;
    const start = Number(after) - first + 1;
    const end = Math.min(tail.length, upTo - first + 1);
    if (start < 0 || start >= end) return undefined;
    const events: RecordedEvent[] = [];
    let i = start;
    for (; i < end && events.length < maxCount; i++)
      if (matches(tail[i])) events.push((tail[i].recorded ??= deepFreeze(toRecorded(tail[i], this.upcasters))));
    return { events, last: BigInt(tail[i - 1].position) };
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
