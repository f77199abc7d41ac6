import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { customerStreamId, ingestedEventId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from './support';
import { spawnEngine } from '../support/engine-process';

const WS = 'default';

async function post(engine: { url: string }, path: string, body: unknown, authorization?: string) {
  const res = await fetch(`${engine.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('Segment-compatible ingestion (in-process engine)', () => {
  let engine: TestEngine;
  let store: EventStore;
  const write = () => engine.auth.write;
  /** What ingestion wrote (reactors add their own events, e.g. StageChanged, to customer streams). */
  const ingested = (events: RecordedEvent[]) => events.filter((e) => e.metadata.source === 'http');
  const stream = async (customerId: string) => ingested(await store.readStream(customerStreamId(WS, customerId)));

  beforeAll(async () => {
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
  });
  afterAll(() => engine?.close());

  it('maps each call type to its journey event, with id, stream and metadata from the call', async () => {
    const user = `u-${randomUUID()}`;
    const calls: Array<[string, Record<string, unknown>]> = [
      ['identify', { userId: user, traits: { plan: 'pro' }, context: { ip: '10.0.0.1' } }],
      ['track', { userId: user, event: 'Report Exported', properties: { format: 'csv' }, context: { locale: 'en' } }],
      ['page', { userId: user, name: 'Pricing', category: 'Marketing', properties: { path: '/pricing' } }],
      ['screen', { userId: user, name: 'Home' }],
      ['group', { userId: user, groupId: 'acme', traits: { seats: 12 } }],
      ['alias', { userId: user, previousId: 'anon-1' }],
    ];
    for (const [i, [type, call]] of calls.entries()) {
      const res = await post(
        engine,
        `/v1/${type}`,
        { ...call, messageId: `${user}-${i}`, timestamp: `2026-01-0${i + 1}T10:00:00+02:00` },
        write(),
      );
      expect(res).toEqual({ status: 200, body: { success: true } });
    }
    const events = await stream(user);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['CustomerIdentified', { userId: user, traits: { plan: 'pro' }, context: { ip: '10.0.0.1' } }],
      ['InteractionRecorded', { event: 'Report Exported', properties: { format: 'csv' }, context: { locale: 'en' } }],
      ['PageViewed', { kind: 'page', name: 'Pricing', category: 'Marketing', properties: { path: '/pricing' } }],
      ['PageViewed', { kind: 'screen', name: 'Home', properties: {} }],
      ['AccountLinked', { groupId: 'acme', traits: { seats: 12 } }],
      ['IdentitiesMerged', { previousId: 'anon-1', userId: user }],
    ]);
    events.forEach((e, i) => {
      expect(e.id).toBe(ingestedEventId(WS, `${user}-${i}`));
      expect(e.metadata).toMatchObject({
        workspaceId: WS,
        customerId: user,
        occurredAt: `2026-01-0${i + 1}T08:00:00.000Z`,
        correlationId: `${user}-${i}`,
        source: 'http',
        schemaVersion: 1,
      });
      expect(Date.parse(e.metadata.recordedAt)).toBeGreaterThan(Date.now() - 60_000);
    });
  });

  it('keys anonymous calls by anonymousId, uses the receive time without a timestamp and generates a messageId', async () => {
    const anon = `anon-${randomUUID()}`;
    const before = Date.now();
    for (let i = 0; i < 2; i++)
      expect((await post(engine, '/v1/track', { anonymousId: anon, event: 'Visited' }, write())).status).toBe(200);
    const events = await stream(anon);
    expect(events).toHaveLength(2); // no messageId: each call is its own event
    expect(events[0].id).not.toBe(events[1].id);
    expect(events[0].metadata.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(events[0].metadata.occurredAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('accepts what @segment/analytics-node sends (Basic auth with the write key, /v1/batch)', async () => {
    const user = `sdk-${randomUUID()}`;
    const analytics = new Analytics({ writeKey: engine.writeKey, host: engine.url, flushAt: 3, maxRetries: 0 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    analytics.identify({ userId: user, traits: { email: 'ada@example.com' } });
    analytics.track({ userId: user, event: 'Signed Up', properties: { plan: 'trial' } });
    analytics.page({ userId: user, name: 'Docs', properties: { path: '/docs' } });
    analytics.group({ userId: user, groupId: 'acme-sdk', traits: { name: 'Acme' } });
    analytics.alias({ userId: user, previousId: `anon-of-${user}` });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    const events = await stream(user);
    expect(events.map((e) => e.type)).toEqual([
      'CustomerIdentified',
      'InteractionRecorded',
      'PageViewed',
      'AccountLinked',
      'IdentitiesMerged',
    ]);
    expect(events[1].data).toMatchObject({
      event: 'Signed Up',
      properties: { plan: 'trial' },
      context: { library: { name: '@segment/analytics-node' } },
    });
    expect(events[3].data).toEqual({ groupId: 'acme-sdk', traits: { name: 'Acme' } });
  });

  it('needs a write key: none or an unknown one is 401, an admin key is 403', async () => {
    const call = { userId: 'auth-user', event: 'x' };
    expect((await post(engine, '/v1/track', call)).status).toBe(401);
    expect((await post(engine, '/v1/track', call, `Basic ${Buffer.from('nope:').toString('base64')}`)).status).toBe(401);
    expect((await post(engine, '/v1/batch', { batch: [{ type: 'track', ...call }] }, engine.auth.admin)).status).toBe(403);
    expect((await post(engine, '/v1/track', call, `Bearer ${engine.writeKey}`)).status).toBe(200);
    expect(await stream('auth-user')).toHaveLength(1);
  });

  it.each([
    ['no userId nor anonymousId', '/v1/track', { event: 'x' }, 'userId or anonymousId is required'],
    ['userId not a string', '/v1/identify', { userId: 42 }, 'userId must be a string'],
    ['event not a string', '/v1/track', { userId: 'u', event: 7 }, 'event must be a string'],
    ['event missing', '/v1/track', { userId: 'u' }, 'event must be a string'],
    ['properties not an object', '/v1/track', { userId: 'u', event: 'x', properties: [1, 2] }, 'properties must be an object'],
    ['traits not an object', '/v1/identify', { userId: 'u', traits: 'pro' }, 'traits must be an object'],
    [
      'timestamp not a date',
      '/v1/track',
      { userId: 'u', event: 'x', timestamp: '2026-02-30T00:00:00Z' },
      'timestamp must be a valid ISO 8601 date string',
    ],
    ['groupId missing', '/v1/group', { userId: 'u' }, 'groupId must be a string'],
    ['previousId missing', '/v1/alias', { userId: 'u' }, 'previousId should not be null or undefined'],
    ['a JSON array instead of a call', '/v1/page', [{ userId: 'u' }], 'a Segment call must be a JSON object'],
    ['malformed JSON', '/v1/track', '{"userId": "u", "event": ', 'Unexpected end of JSON input'],
    [
      'an unknown call type in a batch',
      '/v1/batch',
      { batch: [{ type: 'purchase', userId: 'u' }] },
      'batch[0]: type must be one of identify, track, page, screen, group, alias; got "purchase"',
    ],
    ['batch not an array', '/v1/batch', { batch: { type: 'track' } }, 'batch must be a non-empty array'],
    ['an empty batch', '/v1/batch', { batch: [] }, 'batch must be a non-empty array'],
  ])('rejects %s with a 400 naming the problem, storing nothing', async (_, path, body, message) => {
    const head = await store.headPosition();
    const res = await post(engine, path, body, write());
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(message);
    expect(ingested(await store.readAll({ after: head }))).toEqual([]);
  });

  it('rejects a body over 500 KB with a 413 saying the limit, storing nothing', async () => {
    const head = await store.headPosition();
    const res = await post(
      engine,
      '/v1/batch',
      { batch: [{ type: 'track', userId: 'u', event: 'x', properties: { blob: 'x'.repeat(520 * 1024) } }] },
      write(),
    );
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request body too large: the limit is 500 KB' });
    expect(ingested(await store.readAll({ after: head }))).toEqual([]);
  });

  it('reports the offending field of each invalid call', async () => {
    const res = await post(engine, '/v1/track', { userId: 'u', event: 5, properties: 'x' }, write());
    expect(res.body.errors).toEqual([
      { path: 'event', message: 'event must be a string' },
      { path: 'properties', message: 'properties must be an object' },
    ]);
  });

  it('stores the valid calls of a batch and reports the invalid ones by index; 400 when none is valid', async () => {
    const user = `batch-${randomUUID()}`;
    const res = await post(
      engine,
      '/v1/batch',
      {
        batch: [
          { type: 'identify', userId: user, traits: { plan: 'pro' } },
          { type: 'track', userId: user, event: ['not', 'a', 'string'] },
          { type: 'track', userId: user, event: 'Ok' },
          { type: 'teleport', userId: user },
        ],
      },
      write(),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      accepted: 2,
      rejected: [
        { index: 1, errors: [{ path: 'event', message: 'event must be a string' }] },
        { index: 3, errors: [{ path: 'type', message: expect.stringContaining('type must be one of') }] },
      ],
    });
    expect((await stream(user)).map((e) => e.type)).toEqual(['CustomerIdentified', 'InteractionRecorded']);

    const none = await post(engine, '/v1/batch', { batch: [{ type: 'track', userId: user }, { type: 'page' }] }, write());
    expect(none.status).toBe(400);
    expect(none.body.message).toBe(
      'no valid call in the batch: batch[0]: event must be a string; batch[1]: userId or anonymousId is required (a non-empty string)',
    );
    expect(none.body.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1]);
    expect(await stream(user)).toHaveLength(2);
  });

  it('is idempotent by messageId: a resend, alone or in a batch, is stored once and counted once', async () => {
    const user = `idem-${randomUUID()}`;
    const call = { userId: user, event: 'Paid', messageId: `m-${user}` };
    const metric = async () => {
      const text = await (await fetch(`${engine.url}/metrics`, { headers: { authorization: engine.auth.admin } })).text();
      return Number(/journey_ingested_events_total\{workspace="default",source="http"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const counted = await metric();
    expect((await post(engine, '/v1/track', call, write())).status).toBe(200);
    expect((await post(engine, '/v1/track', call, write())).status).toBe(200);
    const res = await post(
      engine,
      '/v1/batch',
      {
        batch: [
          { type: 'track', ...call },
          { type: 'track', ...call },
        ],
      },
      write(),
    );
    expect(res.body).toEqual({ success: true, accepted: 2, rejected: [] });
    const events = await stream(user);
    expect(events).toHaveLength(1);
    expect(events[0].id).toBe(ingestedEventId(WS, call.messageId));
    expect((await metric()) - counted).toBe(1);
  });

  it('documents the endpoints, their call shapes and the batch semantics in OpenAPI', async () => {
    const doc = (await (await fetch(`${engine.url}/docs-json`)).json()) as {
      paths: Record<string, any>;
      components: { schemas: Record<string, any> };
    };
    for (const type of ['identify', 'track', 'page', 'screen', 'group', 'alias', 'batch'])
      expect(Object.keys(doc.paths[`/v1/${type}`].post.responses).sort()).toEqual(['200', '400', '401', '403', '413', '429', '503']);
    expect(doc.paths['/v1/batch'].post.description).toContain('400 when none is');
    expect(doc.components.schemas.TrackCall.required).toEqual(['event']);
    expect(doc.components.schemas.AliasCall.required).toEqual(['userId', 'previousId']);
  });
});

describe('Ingestion durability (engine in a child process)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-e2e-proc-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const storedIds = async (): Promise<Set<string>> => {
    const db = openSqliteDatabase(join(dataDir, 'journey.db'));
    try {
      const events: RecordedEvent[] = await new SqliteEventStore(db).readAll({ maxCount: 100_000 });
      return new Set(events.map((e) => e.id));
    } finally {
      db.close();
    }
  };

  it('keeps every acknowledged call across kill -9', async () => {
    const engine = await spawnEngine({ dataDir });
    const auth = `Basic ${Buffer.from(`${engine.writeKey}:`).toString('base64')}`;
    const ids = Array.from({ length: 50 }, (_, i) => `kill9-${i}`);
    const answers = await Promise.all(
      ids.map((id, i) => post(engine, '/v1/track', { userId: `c${i % 7}`, event: 'Clicked', messageId: id }, auth)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(await engine.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const stored = await storedIds();
    expect(ids.filter((id) => !stored.has(ingestedEventId(WS, id)))).toEqual([]);
  }, 90_000);

  it('on SIGTERM answers or refuses in-flight calls (never 5xx), keeps every acknowledged one and exits 0', async () => {
    const engine = await spawnEngine({ dataDir });
    const auth = `Basic ${Buffer.from(`${engine.writeKey}:`).toString('base64')}`;
    const acknowledged: string[] = [];
    const statuses: number[] = [];
    let stop = false;
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        const id = `term-${c}-${i}`;
        const batch = Array.from({ length: 20 }, (_, k) => ({ type: 'track', userId: `c${c}`, event: 'Used', messageId: `${id}-${k}` }));
        try {
          const res = await post(engine, '/v1/batch', { batch }, auth);
          statuses.push(res.status);
          if (res.status === 200) acknowledged.push(...batch.map((b) => b.messageId));
        } catch {
          return; // connection refused or reset: the engine is gone, nothing was acknowledged
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, c) => client(c));
    const deadline = Date.now() + 30_000;
    while (acknowledged.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const exit = await engine.kill('SIGTERM');
    stop = true;
    await Promise.all(clients);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    const stored = await storedIds();
    expect(acknowledged.filter((id) => !stored.has(ingestedEventId(WS, id)))).toEqual([]);
  }, 90_000);
});
