/**
 * Nasty input over HTTP (issue 9): every call the ingestion limits refuse (README "Ingestion semantics") is a 400 naming
 * the field, never a 5xx; nothing of it is stored; the valid calls of the same batch are; and the engine still projects
 * the good events that follow.
 */
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from './support';
import { waitFor } from '../support/wait';

/** `{ a: { a: ... { a: leaf } } }`, `depth` objects deep, built without recursion. */
function nested(depth: number, leaf: unknown = 1): Record<string, unknown> {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value as Record<string, unknown>;
}

/** The same nesting as JSON text, for depths JSON.stringify would not write. */
const nestedJson = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const LONE = 'x\ud800';

describe('nasty input (in-process engine)', () => {
  let engine: TestEngine;
  let store: EventStore;
  const ingested = (events: RecordedEvent[]) => events.filter((e) => e.metadata.source === 'http');

  async function post(path: string, body: unknown) {
    const res = await fetch(`${engine.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: engine.auth.write },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  beforeAll(async () => {
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
  });
  afterAll(() => engine?.close());

  const cases: Array<[string, string, unknown, string, string]> = [
    [
      'traits nested 1,000 deep',
      '/v1/identify',
      { userId: 'u', traits: nested(1000) },
      'traits',
      'traits must not nest deeper than 32 levels',
    ],
    [
      'properties nested 10,000 deep',
      '/v1/track',
      `{"userId":"u","event":"e","properties":${nestedJson(10_000)}}`,
      'properties',
      'properties must not nest deeper than 32 levels',
    ],
    [
      'context nested 50,000 deep',
      '/v1/page',
      `{"userId":"u","context":${nestedJson(50_000)}}`,
      'context',
      'context must not nest deeper than 32 levels',
    ],
    [
      'traits nested 33 deep',
      '/v1/group',
      { userId: 'u', groupId: 'g', traits: nested(33) },
      'traits',
      'traits must not nest deeper than 32 levels',
    ],
    ['a userId with a lone surrogate', '/v1/identify', { userId: LONE }, 'userId', 'userId must be well-formed UTF-16 (no lone surrogate)'],
    [
      'an anonymousId with a lone surrogate',
      '/v1/track',
      { anonymousId: '\udc00', event: 'e' },
      'anonymousId',
      'anonymousId must be well-formed UTF-16',
    ],
    [
      'a messageId with a lone surrogate',
      '/v1/track',
      { userId: 'u', event: 'e', messageId: LONE },
      'messageId',
      'messageId must be well-formed UTF-16',
    ],
    ['an event name with a lone surrogate', '/v1/track', { userId: 'u', event: LONE }, 'event', 'event must be well-formed UTF-16'],
    ['a groupId with a lone surrogate', '/v1/group', { userId: 'u', groupId: LONE }, 'groupId', 'groupId must be well-formed UTF-16'],
    [
      'a previousId with a lone surrogate',
      '/v1/alias',
      { userId: 'u', previousId: LONE },
      'previousId',
      'previousId must be well-formed UTF-16',
    ],
    ['a page name with a lone surrogate', '/v1/page', { userId: 'u', name: LONE }, 'name', 'name must be well-formed UTF-16'],
    [
      'a trait key with a lone surrogate',
      '/v1/identify',
      { userId: 'u', traits: { ['plan\udfff']: 'pro' } },
      'traits',
      'traits["plan\\udfff"] (a key) must be well-formed UTF-16',
    ],
    [
      'a nested property value with a lone surrogate',
      '/v1/track',
      { userId: 'u', event: 'e', properties: { items: [{ sku: 'ok' }, { sku: LONE }] } },
      'properties',
      'properties.items[1].sku must be well-formed UTF-16',
    ],
    [
      'a number out of range',
      '/v1/track',
      '{"userId":"u","event":"e","properties":{"n":1e400}}',
      'properties',
      'properties.n must be a finite number',
    ],
    [
      'a string value over 32,768 characters',
      '/v1/identify',
      { userId: 'u', traits: { bio: 'x'.repeat(32_769) } },
      'traits',
      'traits.bio must be at most 32768 characters long',
    ],
    [
      'a key over 256 characters',
      '/v1/identify',
      { userId: 'u', traits: { ['k'.repeat(257)]: 1 } },
      'traits',
      'must be at most 256 characters long',
    ],
    [
      'an object with over 1,000 keys',
      '/v1/identify',
      { userId: 'u', traits: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i])) },
      'traits',
      'traits must have at most 1000 keys',
    ],
    [
      'an array with over 10,000 items',
      '/v1/track',
      { userId: 'u', event: 'e', properties: { ids: Array.from({ length: 10_001 }, () => 0) } },
      'properties',
      'properties.ids must have at most 10000 items',
    ],
    [
      'a userId over 256 characters',
      '/v1/identify',
      { userId: 'u'.repeat(257) },
      'userId',
      'userId must be shorter than or equal to 256 characters',
    ],
    [
      'a page name over 1,024 characters',
      '/v1/page',
      { userId: 'u', name: 'n'.repeat(1025) },
      'name',
      'name must be shorter than or equal to 1024 characters',
    ],
    ...[
      '2024-W01-1',
      '20240101T100000Z',
      '2024-366',
      '2024-01-01',
      '2024-01-01T10:00:00',
      '2024-01-01T10:00Z',
      '2024-02-30T10:00:00Z',
      '2023-02-29T10:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T10:00:00+24:00',
      '1969-12-31T23:59:59Z',
      '1970-01-01T00:30:00+01:00',
      '+010000-01-01T00:00:00Z',
      '9999-12-31T23:59:59-01:00',
      'yesterday',
      '2024-01-01T10:00:00.Z',
    ].map((timestamp): [string, string, unknown, string, string] => [
      `the timestamp ${timestamp}`,
      '/v1/track',
      { userId: 'u', event: 'e', timestamp },
      'timestamp',
      'timestamp must be a valid ISO 8601 date string',
    ]),
  ];

  it.each(cases)('rejects %s with a 400 naming the field, storing nothing', async (_, path, body, field, message) => {
    const head = await store.headPosition();
    const res = await post(path, body);
    expect({ status: res.status, paths: res.body.errors?.map((e: { path: string }) => e.path) }).toEqual({ status: 400, paths: [field] });
    expect(res.body.message).toContain(message);
    expect(res.body.errors[0].message).toContain(message);
    expect(ingested(await store.readAll({ after: head }))).toEqual([]);
  });

  it('ignores unknown fields however deep (they are not stored), as Segment does', async () => {
    const user = `unknown-${randomUUID()}`;
    const res = await post(
      '/v1/track',
      `{"userId":"${user}","event":"e","integrations":${nestedJson(50_000)},"_metadata":{"k\\ud800":"\\udc00"}}`,
    );
    expect(res).toEqual({ status: 200, body: { success: true } });
    const stored = ingested(await store.readAll({ maxCount: 100_000 })).filter((e) => e.metadata.customerId === user);
    expect(stored.map((e) => e.data)).toEqual([{ event: 'e', properties: {} }]);
  });

  it('accepts the date-times Segment SDKs send, and stores the instant they name', async () => {
    const user = `times-${randomUUID()}`;
    const times: Array<[string, string]> = [
      ['2026-01-31T12:00:00.000Z', '2026-01-31T12:00:00.000Z'], // analytics-node, analytics.js
      ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00.000Z'],
      ['2026-01-31T14:00:00.123456+02:00', '2026-01-31T12:00:00.123Z'],
      ['2026-01-31T07:00:00.5-0500', '2026-01-31T12:00:00.500Z'], // Java SimpleDateFormat's Z
      ['2024-02-29t23:30:00z', '2024-02-29T23:30:00.000Z'],
      ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
      ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ];
    const res = await post('/v1/batch', {
      batch: times.map(([timestamp], i) => ({ type: 'track', userId: user, event: `e${i}`, messageId: `${user}-${i}`, timestamp })),
    });
    expect(res).toEqual({ status: 200, body: { success: true, accepted: times.length, rejected: [] } });
    const events = ingested(await store.readAll({ maxCount: 100_000 })).filter((e) => e.metadata.customerId === user);
    expect(events.map((e) => [e.data.event, e.metadata.occurredAt])).toEqual(times.map(([, stored], i) => [`e${i}`, stored]));
  });

  it('keeps the valid calls of a batch, reports the invalid ones by index and field, and 400s a batch with none valid', async () => {
    const user = `nasty-batch-${randomUUID()}`;
    const batch = [
      { type: 'identify', userId: user, traits: { plan: 'pro' } },
      { type: 'identify', userId: user, traits: nested(1000) },
      { type: 'track', userId: user, event: 'Bad Time', timestamp: '2024-W01-1' },
      { type: 'track', userId: user, event: 'Ok', timestamp: '2026-01-31T12:00:00Z' },
      { type: 'track', userId: LONE, event: 'Ok' },
      { type: 'track', userId: user, event: 'Deep', properties: nested(10_000) },
    ];
    // JSON.stringify cannot write 10,000 levels on every stack: splice the deep part in as text.
    const body = JSON.stringify({ batch: batch.map((c, i) => (i === 5 ? { ...c, properties: '@deep' } : c)) }).replace(
      '"@deep"',
      nestedJson(10_000),
    );
    const res = await post('/v1/batch', body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      accepted: 2,
      rejected: [
        { index: 1, errors: [{ path: 'traits', message: expect.stringContaining('traits must not nest deeper than 32 levels') }] },
        { index: 2, errors: [{ path: 'timestamp', message: expect.stringContaining('timestamp must be a valid ISO 8601 date string') }] },
        { index: 4, errors: [{ path: 'userId', message: expect.stringContaining('userId must be well-formed UTF-16') }] },
        { index: 5, errors: [{ path: 'properties', message: expect.stringContaining('properties must not nest deeper than 32 levels') }] },
      ],
    });
    const stored = ingested(await store.readAll({ maxCount: 100_000 })).filter((e) => e.metadata.customerId === user);
    expect(stored.map((e) => [e.type, e.data])).toEqual([
      ['CustomerIdentified', { userId: user, traits: { plan: 'pro' } }],
      ['InteractionRecorded', { event: 'Ok', properties: {} }],
    ]);

    const none = await post('/v1/batch', { batch: [batch[2], batch[4]] });
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('batch[0]: timestamp must be a valid ISO 8601 date string');
    expect(none.body.message).toContain('batch[1]: userId must be well-formed UTF-16');
    expect(
      none.body.rejected.map((r: { index: number; errors: Array<{ path: string }> }) => [r.index, r.errors.map((e) => e.path)]),
    ).toEqual([
      [0, ['timestamp']],
      [1, ['userId']],
    ]);

    const deepType = await post(
      '/v1/batch',
      `{"batch":[{"type":"track","userId":"${user}","event":"Typed"},{"type":${nestedJson(10_000)},"userId":"u"}]}`,
    );
    expect(deepType).toEqual({
      status: 200,
      body: {
        success: true,
        accepted: 1,
        rejected: [
          {
            index: 1,
            errors: [{ path: 'type', message: 'type must be one of identify, track, page, screen, group, alias; got an object' }],
          },
        ],
      },
    });
  });

  it('never acknowledges two messageIds that differ only in lone surrogates: each is refused, nothing is stored', async () => {
    const head = await store.headPosition();
    const user = `surrogates-${randomUUID()}`;
    for (const messageId of ['m\ud800', 'm\udc00', 'm\ud800\ud800']) {
      const res = await post('/v1/track', { userId: user, event: 'Paid', messageId });
      expect({ status: res.status, path: res.body.errors?.[0]?.path }).toEqual({ status: 400, path: 'messageId' });
    }
    // A well-formed pair is one character: accepted, and its own event.
    for (const messageId of ['m\ud83d\ude00', 'm\ud83d\ude01'])
      expect((await post('/v1/track', { userId: user, event: 'Paid', messageId })).status).toBe(200);
    const stored = ingested(await store.readAll({ after: head })).filter((e) => e.metadata.customerId === user);
    expect(stored.map((e) => e.metadata.correlationId)).toEqual(['m\ud83d\ude00', 'm\ud83d\ude01']);
  });

  it('refuses a body that is not valid UTF-8 (decoding would turn the bad bytes into U+FFFD and merge such messageIds)', async () => {
    const head = await store.headPosition();
    for (const bad of [0xff, 0xfe]) {
      const body = Buffer.concat([Buffer.from('{"userId":"u","event":"e","messageId":"m'), Buffer.from([bad]), Buffer.from('"}')]);
      const res = await fetch(`${engine.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: engine.auth.write },
        body,
      });
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: 'the request body is not valid UTF-8' },
      });
    }
    expect(ingested(await store.readAll({ after: head }))).toEqual([]);
  });

  it('still projects the good events that follow the nasty ones', async () => {
    await post('/v1/identify', { userId: LONE, traits: nested(1000) });
    await post('/v1/track', `{"userId":"u","event":"e","properties":${nestedJson(10_000)}}`);
    await post('/v1/track', { userId: 'u', event: 'e', timestamp: '20240101T100000Z' });
    const user = `after-${randomUUID()}`;
    expect((await post('/v1/identify', { userId: user, traits: { name: 'Ada', address: { city: 'Paris' } } })).status).toBe(200);
    expect((await post('/v1/track', { userId: user, event: 'Report Viewed', properties: { deep: nested(31) } })).status).toBe(200);
    const state = await waitFor(
      async () => {
        const res = await fetch(`${engine.url}/v1/customers/${user}`, { headers: { authorization: engine.auth.admin } });
        const body = res.status === 200 ? ((await res.json()) as Record<string, any>) : undefined;
        return body?.interactions?.total === 1 ? body : undefined;
      },
      'the customer read model to show the good events',
      20_000,
    );
    expect(state.traits).toEqual({ name: 'Ada', address: { city: 'Paris' } });
  });
});
