import {
  NO_STREAM,
  START,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AppendExpectedRevision,
  type EventData,
  type Filter,
  type Position,
  type ReadPosition,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import { ENGINE_UPCASTERS, type EventMetadata, type JourneyEvent, type RecordedEvent, type Upcasters } from '@journey/domain';
import type { EventFilter } from '../event-store.port';

/*
 * Pure translations between the port's vocabulary and EventStoreDB's. No I/O: unit-tested without a server.
 *
 * Global position. The port has one bigint; $all has {commit, prepare}. Every append made through gRPC is an implicit
 * transaction whose prepare records are flagged IsCommitted, and the server's AllReader reports such an event at
 * TFPos(prepare.LogPosition, prepare.LogPosition): commit === prepare, the byte offset of the event's own record. So the
 * commit position alone identifies an event and orders $all, and {commit: p, prepare: p} turns it back into an exact
 * read position. (Only the legacy TCP explicit transactions, which gRPC clients cannot create, give several events one
 * shared commit position; a store holding those is not supported.) Positions are byte offsets of log records: pass
 * `after` values obtained from this store only, never numbers from another engine (they would not land on a record).
 */

/** The bigint the port exposes for an $all position. */
export function toPortPosition(position: Position): bigint {
  return position.commit;
}

/**
 * The port position of an event read from a stream, or undefined when the server did not say: servers before 22.6
 * send no position or ulong.MaxValue (18446744073709551615) for stream reads.
 */
export function knownPosition(position: Position | undefined): bigint | undefined {
  return position && position.commit < 2n ** 63n ? toPortPosition(position) : undefined;
}

/**
 * Where to start an $all read or subscription so that it yields every event strictly after `after`. ESDB reads from
 * a position inclusively, so callers must also drop events whose position is `<= after` ({@link isAfter}).
 */
export function readPositionAfter(after: bigint | undefined): ReadPosition {
  return after === undefined || after <= 0n ? START : { commit: after, prepare: after };
}

export function isAfter(position: bigint, after: bigint | undefined): boolean {
  return after === undefined || position > after;
}

/** System streams and events ($-prefixed: $stats-..., $metadata, links `$>`, ...) are EventStoreDB's, not the engine's. */
export function isSystemEvent(streamId: string, type: string): boolean {
  return streamId.startsWith('$') || type.startsWith('$');
}

/**
 * The expectation the adapter sends: always the exact state it has just read (`current`, -1n for no stream), so ESDB
 * enforces it atomically and its exact (revision-based, not cache-based) idempotency check applies.
 */
export function exactExpectation(current: bigint): AppendExpectedRevision {
  return current < 0n ? NO_STREAM : current;
}

/** ESDB's current revision of a stream (`no_stream` or the last revision) as the port's bigint. */
export function toPortRevision(revision: AppendExpectedRevision): bigint {
  return typeof revision === 'bigint' ? revision : -1n;
}

/**
 * The envelope stored as an ESDB JSON event: the port's metadata is ESDB's custom metadata, plus `$correlationId` and
 * `$causationId`, which ESDB's own tooling (projections, the UI) understands. They are dropped again on read.
 */
export function toEventData(event: JourneyEvent): EventData {
  const metadata: Record<string, unknown> = { ...event.metadata };
  if (event.metadata.correlationId !== undefined) metadata.$correlationId = event.metadata.correlationId;
  if (event.metadata.causationId !== undefined) metadata.$causationId = event.metadata.causationId;
  return jsonEvent({ id: event.id, type: event.type, data: event.data, metadata });
}

/**
 * An ESDB recorded event as the port's event, upcast to the current schema; undefined for events that are not the
 * engine's (system events, binary events, events without a JSON object body).
 */
export function fromRecordedEvent(event: EsdbRecordedEvent, upcasters: Upcasters = ENGINE_UPCASTERS): RecordedEvent | undefined {
  if (!event.isJson || isSystemEvent(event.streamId, event.type)) return undefined;
  if (!isPlainObject(event.data)) return undefined;
  const position = knownPosition(event.position);
  if (position === undefined)
    throw new Error('EventStoreDB returned an event without its $all position: the adapter needs EventStoreDB 22.6 or later');
  const metadata: Record<string, unknown> = {};
  if (isPlainObject(event.metadata)) for (const [k, v] of Object.entries(event.metadata)) if (!k.startsWith('$')) metadata[k] = v;
  return upcasters.upcast({
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: metadata as unknown as EventMetadata,
    streamId: event.streamId,
    revision: event.revision,
    position,
  });
}

/**
 * The server-side filter for a subscription. ESDB filters on stream name or on event type, not both: stream prefixes
 * win (usually the narrower), event types become an exact-match regex (ESDB's type prefixes would also match longer
 * names), and with neither, system events are excluded. The port's `eventFilterPredicate` applies the whole filter afterwards.
 */
export function serverFilter(filter: EventFilter | undefined): Filter {
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: filter.streamPrefixes });
  if (filter?.eventTypes?.length) return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` });
  return excludeSystemEvents();
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
