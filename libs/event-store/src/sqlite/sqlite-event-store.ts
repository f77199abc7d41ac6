import type * as fs from 'node:fs';
import { ENGINE_UPCASTERS, type JourneyEvent, type RecordedEvent, type Upcasters } from '@journey/domain';
import type {
  AppendRequest,
  AppendResult,
  BatchHandler,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  SubscriptionHandle,
} from '../event-store.port';
import type { SqliteDatabase } from './database';
import { GroupCommit, WalSync } from './append';
import { EventReader, createEventsTable, type StoredEvent } from './read';
import { Subscriptions } from './subscribe';

/**
 * The embedded event store, one table in a SQLite file, composed of its append side (append.ts: group commit and the
 * WAL's fdatasync), its read side (read.ts: the table, queries and their plans) and its live side (subscribe.ts).
 * Every append resolves, and every subscriber is handed an event, only once it is durable.
 */
export class SqliteEventStore implements EventStore {
  /** The events committed last, in position order without gaps: written by the append side, read by subscribers. */
  private readonly tail: StoredEvent[] = [];
  private readonly wal: WalSync;
  private readonly reader: EventReader;
  private readonly appends: GroupCommit;
  private readonly live: Subscriptions;
  private closed = false;

  /**
   * `options.fdatasync`: how the WAL is synced (default fs.fdatasync; tests simulate a slow disk with it);
   * `options.upcasters`: what brings old events to their current schema on read (default the engine's).
   */
  constructor(
    private readonly db: SqliteDatabase,
    options: { fdatasync?: typeof fs.fdatasync; upcasters?: Upcasters } = {},
  ) {
    const upcasters = options.upcasters ?? ENGINE_UPCASTERS;
    createEventsTable(db);
    this.wal = new WalSync(db, options.fdatasync);
    this.reader = new EventReader(db, upcasters);
    this.live = new Subscriptions(db, this.reader, this.wal, this.tail, upcasters);
    this.appends = new GroupCommit(db, this.wal, this.tail, (last) => this.live.committed(last));
  }

  appendToStream(streamId: string, events: JourneyEvent[], options: { expectedRevision?: ExpectedRevision } = {}): Promise<AppendResult> {
    return this.appendMany([{ streamId, events, expectedRevision: options.expectedRevision }]).then(([r]) => r);
  }

  /** In one transaction: all or nothing. */
  appendMany(requests: AppendRequest[], options: { rederivable?: boolean } = {}): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return this.appends.append(requests, options.rederivable === true);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.reader.readStream(streamId, options);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.reader.readAll(options);
  }

  async headPosition(): Promise<bigint> {
    return BigInt(this.reader.headPosition());
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): SubscriptionHandle {
    return this.live.subscribe(options, handler);
  }

  async ping(): Promise<void> {
    this.reader.headPosition();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.appends.drain();
    this.closed = true;
    this.live.close();
    this.wal.close();
  }
}
