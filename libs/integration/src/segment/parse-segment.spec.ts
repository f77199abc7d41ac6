import 'reflect-metadata';
import { ingestedEventId } from '@journey/domain';
import { parseSegmentBatch, parseSegmentCall, type SegmentIngestContext } from './parse-segment';

const context: SegmentIngestContext = {
  workspaceId: 'w1',
  receivedAt: '2026-03-01T12:00:00.000Z',
  source: 'kafka',
  newMessageId: () => 'generated-1',
};

describe('parseSegmentCall', () => {
  it('maps a track call to InteractionRecorded with deterministic id and metadata', () => {
    const result = parseSegmentCall(
      { type: 'track', userId: 'u1', event: 'Clicked', messageId: 'm1', timestamp: '2026-02-01T00:00:00Z', integrations: { All: true } },
      context,
    );
    expect(result).toEqual({
      ok: true,
      events: [
        {
          id: ingestedEventId('w1', 'm1'),
          type: 'InteractionRecorded',
          data: { event: 'Clicked', properties: {}, context: undefined },
          metadata: {
            workspaceId: 'w1',
            customerId: 'u1',
            occurredAt: '2026-02-01T00:00:00.000Z',
            recordedAt: context.receivedAt,
            correlationId: 'm1',
            source: 'kafka',
            schemaVersion: 1,
          },
        },
      ],
    });
  });

  it('takes the type from the endpoint over the body, and the receive time and a new messageId when absent', () => {
    const result = parseSegmentCall({ type: 'track', anonymousId: 'a1', traits: { plan: 'pro' } }, context, { type: 'identify' });
    expect(result.ok && result.events[0]).toMatchObject({
      id: ingestedEventId('w1', 'generated-1'),
      type: 'CustomerIdentified',
      data: { anonymousId: 'a1', traits: { plan: 'pro' } },
      metadata: { customerId: 'a1', occurredAt: context.receivedAt, correlationId: 'generated-1' },
    });
  });

  it('keys an alias by the userId it keeps', () => {
    const result = parseSegmentCall({ type: 'alias', userId: 'u2', previousId: 'a1', anonymousId: 'a1' }, context);
    expect(result.ok && result.events[0]).toMatchObject({
      type: 'IdentitiesMerged',
      data: { previousId: 'a1', userId: 'u2' },
      metadata: { customerId: 'u2' },
    });
  });

  it('prefers userId over anonymousId, tolerates null optional fields, but checks anonymousId when given', () => {
    const ok = parseSegmentCall({ type: 'page', userId: 'u3', anonymousId: null, properties: null, name: 'Home' }, context);
    expect(ok.ok && ok.events[0]).toMatchObject({ data: { kind: 'page', name: 'Home', properties: {} }, metadata: { customerId: 'u3' } });
    expect(parseSegmentCall({ type: 'page', userId: 'u3', anonymousId: 5 }, context)).toEqual({
      ok: false,
      errors: [{ path: 'anonymousId', message: 'anonymousId must be a string' }],
    });
  });

  it('reports every invalid field, one message each', () => {
    expect(
      parseSegmentCall(
        { type: 'group', userId: '', groupId: 3, timestamp: 'yesterday', context: 'web', messageId: 'x'.repeat(300) },
        context,
      ),
    ).toEqual({
      ok: false,
      errors: [
        { path: 'groupId', message: 'groupId must be a string' },
        { path: 'messageId', message: 'messageId must be shorter than or equal to 256 characters' },
        {
          path: 'timestamp',
          message:
            'timestamp must be a valid ISO 8601 date string: an RFC 3339 date-time with seconds and a time zone, such as 2026-01-31T12:00:00.000Z, from 1970 to 9999; got "yesterday"',
        },
        { path: 'context', message: 'context must be an object' },
        { path: 'userId', message: 'userId should not be empty' },
      ],
    });
  });

  it('refuses non-objects and a __proto__ field', () => {
    expect(parseSegmentCall('track', context)).toEqual({
      ok: false,
      errors: [{ path: '', message: 'a Segment call must be a JSON object' }],
    });
    expect(parseSegmentCall(JSON.parse('{"type":"track","userId":"u","event":"e","__proto__":{"x":1}}'), context)).toEqual({
      ok: false,
      errors: [{ path: '__proto__', message: 'the field name __proto__ is not allowed' }],
    });
  });
});

describe('parseSegmentCall on nasty input', () => {
  const deep = (depth: number) => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
  const NASTY = [
    'x\ud800',
    '\udc00',
    '2024-W01-1',
    '20240101T100000Z',
    '2024-366',
    '2024-01-01',
    '1969-12-31T23:59:59Z',
    '+010000-01-01T00:00:00Z',
    'x'.repeat(40_000),
    deep(10_000),
    { 'k\ud800': 1 },
    { n: Infinity },
    [deep(100)],
    JSON.parse('{"__proto__":1}'),
  ];
  const FIELDS = [
    'type',
    'userId',
    'anonymousId',
    'messageId',
    'timestamp',
    'context',
    'traits',
    'event',
    'properties',
    'name',
    'category',
    'groupId',
    'previousId',
  ];
  const VALID = [
    { type: 'identify', userId: 'u' },
    { type: 'track', userId: 'u', event: 'e' },
    { type: 'page', anonymousId: 'a' },
    { type: 'group', userId: 'u', groupId: 'g' },
    { type: 'alias', userId: 'u', previousId: 'p' },
  ];

  it('never throws: each variant is either refused naming its field, or an event every subscriber can store', () => {
    let refused = 0;
    for (const valid of VALID) {
      for (const field of FIELDS) {
        for (const value of NASTY) {
          const result = parseSegmentCall({ ...valid, [field]: value }, context);
          if (!result.ok) {
            refused++;
            expect(result.errors.map((e) => e.path)).toEqual([field]);
            expect(result.errors[0].message.isWellFormed()).toBe(true);
            continue;
          }
          const [event] = result.events;
          expect(new Date(event.metadata.occurredAt).toISOString()).toBe(event.metadata.occurredAt);
          expect(() => JSON.stringify(event)).not.toThrow();
          expect(JSON.parse(JSON.stringify(event))).toEqual(event); // nothing lost or changed on the way to the store
        }
      }
    }
    expect(refused).toBeGreaterThan(VALID.length * NASTY.length * 5); // ids, timestamp and the free-form fields refuse them
  });
});

describe('parseSegmentBatch', () => {
  it('accepts the valid calls in order and rejects the others by index', () => {
    const result = parseSegmentBatch(
      { batch: [{ type: 'screen', userId: 'u', name: 'S' }, { userId: 'u' }, { type: 'track', userId: 'u', event: 'E', messageId: 'm2' }] },
      context,
    );
    expect(result.ok && result.events.map((e) => e.type)).toEqual(['PageViewed', 'InteractionRecorded']);
    expect(result).toMatchObject({
      ok: true,
      accepted: 2,
      rejected: [
        { index: 1, errors: [{ path: 'type', message: 'type must be one of identify, track, page, screen, group, alias; got none' }] },
      ],
    });
  });

  it('needs a non-empty batch array', () => {
    for (const body of [null, {}, { batch: 'x' }, { batch: [] }])
      expect(parseSegmentBatch(body, context)).toEqual({
        ok: false,
        errors: [{ path: 'batch', message: 'batch must be a non-empty array of Segment calls' }],
      });
  });
});
