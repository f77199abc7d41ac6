import { START, jsonEvent, type RecordedEvent as EsdbRecordedEvent } from '@eventstore/db-client';
import { Upcasters, type JourneyEvent } from '@journey/domain';
import {
  exactExpectation,
  fromRecordedEvent,
  isAfter,
  isSystemEvent,
  knownPosition,
  readPositionAfter,
  serverFilter,
  toEventData,
  toPortPosition,
  toPortRevision,
} from './mapping';
import { CHECKPOINT_EVENT_TYPE, checkpointStreamId, positionFromCheckpoint } from './checkpoint-store';

const envelope = (over: Partial<JourneyEvent> = {}): JourneyEvent => ({
  id: '0b7c6f0e-8d2a-4a57-9d43-2f9f1c1e0a11',
  type: 'InteractionRecorded',
  data: { event: 'Signed Up', properties: { plan: 'pro', seats: [1, 2] } },
  metadata: {
    workspaceId: 'w',
    customerId: 'c',
    occurredAt: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:01.000Z',
    source: 'http',
    schemaVersion: 1,
    correlationId: 'corr',
    causationId: 'cause',
  },
  ...over,
});

/** What the client hands back for a stored JSON event (the shape convertGrpcRecord builds). */
const recorded = (over: Record<string, unknown> = {}): EsdbRecordedEvent => {
  const data = toEventData(envelope());
  return {
    streamId: 'customer-w-c',
    id: data.id,
    isJson: true,
    revision: 4n,
    type: data.type,
    created: new Date(0),
    data: data.data,
    metadata: data.metadata,
    position: { commit: 9000n, prepare: 9000n },
    ...over,
  } as EsdbRecordedEvent;
};

describe('EventStoreDB mapping: positions', () => {
  it('uses the commit position as the port position', () => {
    expect(toPortPosition({ commit: 1234n, prepare: 1234n })).toBe(1234n);
  });

  it('starts a read after a position at that exact record (inclusive on the server), or at the start', () => {
    expect(readPositionAfter(undefined)).toBe(START);
    expect(readPositionAfter(0n)).toBe(START);
    expect(readPositionAfter(1234n)).toEqual({ commit: 1234n, prepare: 1234n });
  });

  it('drops the event at the start position itself, so `after` stays exclusive', () => {
    expect(isAfter(1234n, 1234n)).toBe(false);
    expect(isAfter(1233n, 1234n)).toBe(false);
    expect(isAfter(1235n, 1234n)).toBe(true);
    expect(isAfter(0n, undefined)).toBe(true);
  });
});

describe('EventStoreDB mapping: expected revisions', () => {
  it('sends ESDB the exact state it read', () => {
    expect(exactExpectation(-1n)).toBe('no_stream');
    expect(exactExpectation(0n)).toBe(0n);
    expect(exactExpectation(41n)).toBe(41n);
  });

  it("turns ESDB's current revision into the port's (-1n for no stream)", () => {
    expect(toPortRevision('no_stream')).toBe(-1n);
    expect(toPortRevision(5n)).toBe(5n);
  });
});

describe('EventStoreDB mapping: events', () => {
  it('stores the envelope as a JSON event with its id, and the metadata plus ESDB correlation keys', () => {
    const data = toEventData(envelope());
    const expected = jsonEvent({ id: envelope().id, type: 'InteractionRecorded', data: envelope().data, metadata: {} });
    expect(data).toMatchObject({ id: expected.id, contentType: 'application/json', type: 'InteractionRecorded', data: envelope().data });
    expect(data.metadata).toEqual({ ...envelope().metadata, $correlationId: 'corr', $causationId: 'cause' });
  });

  it('leaves the ESDB correlation keys out when the envelope has none', () => {
    const { correlationId: _c, causationId: _k, ...metadata } = envelope().metadata;
    expect(toEventData(envelope({ metadata })).metadata).toEqual(metadata);
  });

  it('reads a stored event back to the same envelope, with stream, revision and position', () => {
    expect(fromRecordedEvent(recorded())).toEqual({ ...envelope(), streamId: 'customer-w-c', revision: 4n, position: 9000n });
  });

  it('skips what is not the engine’s: system streams, system event types (links), binary events, non-object bodies', () => {
    expect(fromRecordedEvent(recorded({ streamId: '$stats-127.0.0.1:2113' }))).toBeUndefined();
    expect(fromRecordedEvent(recorded({ type: '$>' }))).toBeUndefined();
    expect(fromRecordedEvent(recorded({ isJson: false, data: new Uint8Array([1]) }))).toBeUndefined();
    expect(fromRecordedEvent(recorded({ data: ['not', 'an', 'object'] }))).toBeUndefined();
    expect(isSystemEvent('customer-w-c', 'InteractionRecorded')).toBe(false);
  });

  it('tolerates events without metadata and refuses to invent a position', () => {
    expect(fromRecordedEvent(recorded({ metadata: undefined }))?.metadata).toEqual({});
    expect(() => fromRecordedEvent(recorded({ position: undefined }))).toThrow(/22\.6 or later/);
    expect(() => fromRecordedEvent(recorded({ position: { commit: 18446744073709551615n, prepare: 18446744073709551615n } }))).toThrow(
      /22\.6 or later/,
    );
    expect(knownPosition({ commit: 77n, prepare: 77n })).toBe(77n);
  });

  it('upcasts old schema versions on read', () => {
    const upcasters = Upcasters.of([{ type: 'EsdbLegacyThing', fromVersion: 1, upcast: (d) => ({ fullName: `${d.first} ${d.last}` }) }]);
    const stored = toEventData(envelope({ type: 'EsdbLegacyThing', data: { first: 'Ada', last: 'Lovelace' } }));
    const read = fromRecordedEvent(recorded({ type: 'EsdbLegacyThing', data: stored.data, metadata: stored.metadata }), upcasters);
    expect(read?.data).toEqual({ fullName: 'Ada Lovelace' });
    expect(read?.metadata.schemaVersion).toBe(2);
  });
});

describe('EventStoreDB mapping: filters', () => {
  it('filters on the server by stream prefix when there are prefixes', () => {
    expect(serverFilter({ eventTypes: ['A'], streamPrefixes: ['customer-'] })).toMatchObject({
      filterOn: 'streamName',
      prefixes: ['customer-'],
    });
  });

  it('filters on the server by exact event type otherwise, with regex characters escaped', () => {
    const filter = serverFilter({ eventTypes: ['Odd', 'a.b(c)'] });
    expect(filter.filterOn).toBe('eventType');
    if (!('regex' in filter)) throw new Error('expected a regex filter');
    const re = new RegExp(filter.regex);
    expect(['Odd', 'a.b(c)'].every((t) => re.test(t))).toBe(true);
    expect(['Oddity', 'xOdd', 'aXb(c)', '$>'].some((t) => re.test(t))).toBe(false);
  });

  it('leaves system events out on the server when there is no filter', () => {
    const filter = serverFilter(undefined);
    if (!('regex' in filter)) throw new Error('expected a regex filter');
    expect(filter.filterOn).toBe('eventType');
    expect(new RegExp(filter.regex).test('$statsCollected')).toBe(false);
    expect(new RegExp(filter.regex).test('InteractionRecorded')).toBe(true);
  });
});

describe('EventStoreDB checkpoints', () => {
  it('live in system streams with a system event type, so the engine never sees them as events', () => {
    expect(isSystemEvent(checkpointStreamId('reactor:welcome'), CHECKPOINT_EVENT_TYPE)).toBe(true);
    expect(checkpointStreamId('a')).not.toBe(checkpointStreamId('b'));
  });

  it('store positions as decimal strings (beyond 2^53) and ignore anything else', () => {
    expect(positionFromCheckpoint({ position: '98765432109876543210' })).toBe(98765432109876543210n);
    expect(positionFromCheckpoint({ position: 12 })).toBeUndefined();
    expect(positionFromCheckpoint({ position: '-1' })).toBeUndefined();
    expect(positionFromCheckpoint(null)).toBeUndefined();
  });
});
