import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import {
  broadcastMessageId,
  broadcastStreamId,
  customerStreamId,
  envelope,
  segmentStreamId,
  type JourneyEvent,
  type RecordedEvent,
} from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { systemClock } from '@journey/reactors';
import { PROJECTIONS, READ_MODEL_STORE, type Projection, type ReadModelStore } from '@journey/read-models';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { FakeClock } from '../../../../libs/reactors/src/testing/fake-clock';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ProjectionsService } from '../projections/projections.service';
import { ReactorWorkers } from '../reactors/reactors.module';
import { SEGMENT_MEMBERS } from './segment-members';

const CSM = 'Bearer csm-key-broadcasts';
const ANALYST = 'Bearer analyst-key-broadcasts';
const OTHER = 'Bearer other-ws-csm-broadcasts';
const WS = 'default';

/**
 * The engine's clock (CLOCK is the `systemClock` object: reactors, the timer scheduler and the broadcasts' HTTP checks
 * read it) driven by a fake one, as the timer tests do; it starts at the real time, so ingested events line up.
 */
const clock = new FakeClock(new Date(Math.floor(Date.now() / 1000) * 1000));

let position = 1_000_000n;
/** Documents of the `segment_members` read model, written as the segments feature's projection would. */
function membersProjection(segmentId: string, customerIds: string[]): Projection {
  return {
    name: 'test-segment-members',
    collections: [
      {
        name: SEGMENT_MEMBERS,
        indexes: [
          ['workspaceId', 'segmentId', 'member', 'customerId'],
          ['workspaceId', 'customerId'],
        ],
      },
    ],
    reads: () => [],
    apply: (events) =>
      customerIds.map((customerId) => ({
        collection: SEGMENT_MEMBERS,
        id: [WS, segmentId, customerId].map(encodeURIComponent).join('/'),
        pos: events[0].position,
        doc: { workspaceId: WS, segmentId, customerId, enteredAt: clock.now().toISOString(), leftAt: '', version: 1, member: 1 },
      })),
  };
}

describe('broadcasts over HTTP (every role in-process, the engine clock driven by a fake one)', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;
  let store: EventStore;

  const event = (type: string, data: Record<string, unknown>, customerId: string, at = clock.now().toISOString()): JourneyEvent =>
    envelope({
      id: `${type}-${customerId}-${++position}`,
      type,
      data,
      workspaceId: WS,
      customerId,
      occurredAt: at,
      recordedAt: at,
      source: 'test',
    });

  /** A segment (its definition event) with members: SegmentEntered on their streams and their `segment_members` documents. */
  async function segment(segmentId: string, members: Record<string, Record<string, unknown>>): Promise<void> {
    await store.appendToStream(segmentStreamId(WS, segmentId), [
      event(
        'SegmentDefined',
        { segmentId, version: 1, definition: { id: segmentId, name: segmentId, conditions: { traits: { segment: segmentId } } } },
        '',
      ),
    ]);
    for (const [customerId, traits] of Object.entries(members)) {
      await http
        .post('/v1/identify')
        .set('Authorization', engine.auth.write)
        .send({ userId: customerId, traits: { ...traits, segment: segmentId } })
        .expect(200);
      await store.appendToStream(customerStreamId(WS, customerId), [event('SegmentEntered', { segmentId, version: 1 }, customerId)]);
    }
    // with the segments feature's own projection in the engine, its documents come from the SegmentEntered events
    if (PROJECTIONS.some((p) => p.collections.some((c) => c.name === SEGMENT_MEMBERS)))
      return engine.app.get(ProjectionsService).waitForCatchUp();
    const readModels = engine.app.get<ReadModelStore>(READ_MODEL_STORE);
    const projection = membersProjection(segmentId, Object.keys(members));
    await readModels.prepare(projection);
    const fake = { ...event('Marker', {}, ''), streamId: 'test-', revision: 0n, position: ++position } as RecordedEvent;
    await readModels.applyBatch(projection, [fake]);
  }

  const streamOf = (customerId: string) => store.readStream(customerStreamId(WS, customerId));
  const decisions = async (customerId: string, broadcastId: string) =>
    (await streamOf(customerId)).filter(
      (e) => (e.type === 'MessageScheduled' || e.type === 'MessageSuppressed') && e.data.broadcastId === broadcastId,
    );
  /** Moves the fake clock to `at` (or lets its due callbacks run) until `check` holds. */
  const at = <T>(when: string | undefined, check: () => Promise<T>) =>
    eventually(async () => {
      clock.set(when ? new Date(Math.max(Date.parse(when), clock.now().getTime())) : clock.now());
      return check();
    });
  const detail = async (id: string, auth = CSM) => (await http.get(`/v1/broadcasts/${id}`).set('Authorization', auth).expect(200)).body;

  beforeAll(async () => {
    jest.spyOn(systemClock, 'now').mockImplementation(() => clock.now());
    jest.spyOn(systemClock, 'schedule').mockImplementation((callback, ms) => clock.schedule(callback, ms));
    dataDir = mkdtempSync(join(tmpdir(), 'journey-broadcasts-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'csm-key-broadcasts', workspaceId: WS, role: 'csm' },
          { key: 'analyst-key-broadcasts', workspaceId: WS, role: 'analyst' },
          { key: 'other-ws-csm-broadcasts', workspaceId: 'other', role: 'csm' },
        ],
      }),
    );
    engine = await startEngine({ dataDir });
    http = request(engine.app.getHttpServer());
    store = engine.app.get<EventStore>(EVENT_STORE);
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  it('refuses a bad broadcast with 400 naming what is wrong, and analysts may read but not create', async () => {
    await segment('empty', {});
    const send = { channel: 'inbox', body: 'Hi' };
    const bad = async (body: object, pattern: RegExp) => {
      const res = await http.post('/v1/broadcasts').set('Authorization', CSM).send(body).expect(400);
      expect(res.body.errors.join('\n')).toMatch(pattern);
    };
    await bad({ segmentId: 'nope', send }, /^segmentId: unknown segment "nope"$/);
    await bad({ segmentId: 'empty', send: { channel: 'fax', body: 'Hi' } }, /^send\.channel: unknown channel "fax"/);
    await bad({ segmentId: 'empty', send: { channel: 'inbox', body: 'Hi {{ name | nofilter }}' } }, /^send\.body: /);
    await bad({ segmentId: 'empty', send, at: '2020-01-01T00:00:00Z' }, /^at: 2020-01-01T00:00:00Z is in the past/);
    await bad({ segmentId: 'empty', send, localTime: '2020-01-01T09:00' }, /^localTime: 2020-01-01T09:00 has passed in every time zone/);
    await http.post('/v1/broadcasts').set('Authorization', ANALYST).send({ segmentId: 'empty', send }).expect(403);
    await http.post('/v1/broadcasts').set('Authorization', OTHER).send({ segmentId: 'empty', send }).expect(400); // not its segment
  });

  it('a broadcast now: the unsubscribed member is suppressed (consent), the one over the cap too, the others get it; explain and analytics', async () => {
    await segment('trial', {
      ann: { name: 'Ann' },
      bob: { name: 'Bob', unsubscribed: true },
      cid: { name: 'Cid' },
      dee: { name: 'Dee' },
    });
    // cid had a message an hour ago: over a cap of one a day
    const earlier = new Date(clock.now().getTime() - 3_600_000).toISOString();
    await store.appendToStream(customerStreamId(WS, 'cid'), [
      event('MessageScheduled', { messageId: 'earlier-cid', channel: 'inbox', template: { body: 'Earlier' } }, 'cid', earlier),
    ]);
    const created = await http
      .post('/v1/broadcasts')
      .set('Authorization', CSM)
      .send({
        id: 'december',
        segmentId: 'trial',
        send: { channel: 'inbox', subject: 'December', body: 'Hi {{ customer.traits.name }}' },
        guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }] },
      })
      .expect(201);
    expect(created.body).toMatchObject({ id: 'december', segmentId: 'trial', status: 'scheduled', by: 'http:csm' });
    await http
      .post('/v1/broadcasts')
      .set('Authorization', CSM)
      .send({ id: 'december', segmentId: 'trial', send: { channel: 'inbox', body: 'x' } })
      .expect(409);

    const done = await at(undefined, async () => {
      const d = await detail('december');
      expect(d.status).toBe('completed');
      expect(d.analytics.delivered).toBe(2);
      return d;
    });
    expect(done.fanOut).toEqual({ targeted: 4, scheduled: 2, suppressed: { consent: 1, 'frequency-cap': 1 }, timers: 0, skipped: 0 });
    expect(done.analytics).toMatchObject({
      targeted: 4,
      pending: 0,
      scheduled: 2,
      suppressed: { consent: 1, 'frequency-cap': 1 },
      sent: 2,
      delivered: 2,
      failed: 0,
    });
    for (const c of ['ann', 'dee']) expect((await decisions(c, 'december')).map((e) => e.type)).toEqual(['MessageScheduled']);
    expect((await decisions('bob', 'december'))[0].data).toMatchObject({ reason: 'consent' });
    expect((await decisions('cid', 'december'))[0].data).toMatchObject({ reason: 'frequency-cap' });
    const delivered = (await streamOf('ann')).find(
      (e) => e.type === 'MessageDelivered' && e.data.messageId === broadcastMessageId(WS, 'december', 'ann'),
    );
    expect(delivered?.data).toMatchObject({ content: { subject: 'December', body: 'Hi Ann' } });

    // opened and clicked count through the message id -> broadcast mapping; a test send is never counted
    const annMessage = broadcastMessageId(WS, 'december', 'ann');
    await store.appendToStream(customerStreamId(WS, 'ann'), [
      event('MessageOpened', { messageId: annMessage }, 'ann'),
      event('MessageClicked', { messageId: annMessage, url: 'https://example.com' }, 'ann'),
      event(
        'MessageScheduled',
        { messageId: 'test-1', channel: 'inbox', template: { body: 'x' }, broadcastId: 'december', test: true },
        'ann',
      ),
    ]);
    await eventually(async () =>
      expect((await detail('december', ANALYST)).analytics).toMatchObject({ targeted: 4, opened: 1, clicked: 1 }),
    );

    // explain: the broadcast, its segment, every guard's verdict, the delivery chain
    const sent = (await http.get(`/v1/messages/${annMessage}/explain`).set('Authorization', CSM).expect(200)).body;
    expect(sent).toMatchObject({
      customerId: 'ann',
      decision: { outcome: 'scheduled' },
      broadcast: { id: 'december', segmentId: 'trial', status: 'completed' },
      template: { subject: 'December', body: 'Hi {{ customer.traits.name }}' },
      guards: [
        { guard: 'consent', verdict: 'passed' },
        { guard: 'frequency-cap 1 per 1d (customer)', verdict: 'passed' },
        { guard: 'priority', verdict: 'passed' },
      ],
    });
    expect(sent.causedBy[0]).toMatchObject({ type: 'TimerFired' });
    expect(sent.delivery.map((e: { type: string }) => e.type)).toEqual([
      'MessageSent',
      'MessageDelivered',
      'MessageOpened',
      'MessageClicked',
    ]);
    const capped = (
      await http
        .get(`/v1/messages/${broadcastMessageId(WS, 'december', 'cid')}/explain`)
        .set('Authorization', CSM)
        .expect(200)
    ).body;
    expect(capped).toMatchObject({
      status: 'suppressed',
      decision: { outcome: 'suppressed', reason: 'frequency-cap' },
      broadcast: { id: 'december', segmentId: 'trial' },
      guards: [
        { guard: 'consent', verdict: 'passed' },
        { guard: 'frequency-cap 1 per 1d (customer)', verdict: 'suppressed' },
      ],
    });

    const list = (await http.get('/v1/broadcasts').set('Authorization', ANALYST).expect(200)).body.broadcasts;
    expect(list.find((b: { broadcastId: string }) => b.broadcastId === 'december')).toMatchObject({
      segmentId: 'trial',
      status: 'completed',
    });
    expect((await http.get('/v1/broadcasts').set('Authorization', OTHER).expect(200)).body.broadcasts).toEqual([]);
    await http.get('/v1/broadcasts/december').set('Authorization', OTHER).expect(404);
    await http.post('/v1/broadcasts/december/cancel').set('Authorization', CSM).expect(409); // completed: its messages are sent
  });

  it('a localTime broadcast reaches each member at 09:00 in their own time zone (Berlin at 08:00Z, New York at 14:00Z)', async () => {
    await segment('eu-us', { eva: { timezone: 'Europe/Berlin' }, ned: { timezone: 'America/New_York' } });
    const created = await http
      .post('/v1/broadcasts')
      .set('Authorization', CSM)
      .send({ id: 'morning', segmentId: 'eu-us', send: { channel: 'inbox', body: 'Good morning' }, localTime: '2026-12-10T09:00' })
      .expect(201);
    expect(created.body.startAt).toBe('2026-12-09T19:00:00.000Z'); // 09:00 at UTC+14
    const timers = await at('2026-12-09T19:00:00Z', async () => {
      const d = await detail('morning');
      expect(d.fanOut).toMatchObject({ targeted: 2, timers: 2 });
      return d;
    });
    expect(timers.status).toBe('sending'); // fan-out done, members waiting for their 09:00 until it is 09:00 at UTC-12
    const due = async (c: string) =>
      (await streamOf(c)).find((e) => e.type === 'TimerScheduled' && e.data.purpose === 'broadcast:morning')?.data.dueAt;
    expect([await due('eva'), await due('ned')]).toEqual(['2026-12-10T08:00:00.000Z', '2026-12-10T14:00:00.000Z']);
    await eventually(async () => expect((await detail('morning')).analytics).toMatchObject({ targeted: 2, pending: 2 }));

    const eva = await at('2026-12-10T08:00:00Z', async () => {
      const [m] = await decisions('eva', 'morning');
      expect(m?.type).toBe('MessageScheduled');
      return m;
    });
    expect(eva.metadata.occurredAt).toBe('2026-12-10T08:00:00.000Z');
    expect(await decisions('ned', 'morning')).toEqual([]);
    const ned = await at('2026-12-10T14:00:00Z', async () => {
      const [m] = await decisions('ned', 'morning');
      expect(m?.type).toBe('MessageScheduled');
      return m;
    });
    expect(ned.metadata.occurredAt).toBe('2026-12-10T14:00:00.000Z');
    await eventually(async () =>
      expect((await detail('morning')).analytics).toMatchObject({ targeted: 2, pending: 0, scheduled: 2, delivered: 2 }),
    );
    // explain: caused by the member's own timer, set by the broadcast's start, and the broadcast with its local time
    const explained = (
      await http
        .get(`/v1/messages/${broadcastMessageId(WS, 'morning', 'eva')}/explain`)
        .set('Authorization', CSM)
        .expect(200)
    ).body;
    expect(explained.causedBy.map((e: { type: string }) => e.type)).toEqual([
      'TimerFired',
      'TimerScheduled',
      'TimerFired',
      'TimerScheduled',
      'BroadcastScheduled',
    ]);
    expect(explained.broadcast).toMatchObject({ id: 'morning', segmentId: 'eu-us', localTime: '2026-12-10T09:00' });
  });

  it('cancel before it is due: nothing is sent; a second cancel is a 409', async () => {
    await segment('later', { lea: {} });
    const in1h = new Date(clock.now().getTime() + 3_600_000).toISOString();
    await http
      .post('/v1/broadcasts')
      .set('Authorization', CSM)
      .send({ id: 'later', segmentId: 'later', send: { channel: 'inbox', body: 'Later' }, at: in1h })
      .expect(201);
    await http.post('/v1/broadcasts/later/cancel').set('Authorization', ANALYST).expect(403);
    const cancelled = (await http.post('/v1/broadcasts/later/cancel').set('Authorization', CSM).expect(200)).body;
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    await http.post('/v1/broadcasts/later/cancel').set('Authorization', CSM).expect(409);
    await http.post('/v1/broadcasts/nope/cancel').set('Authorization', CSM).expect(404);
    clock.set(new Date(Date.parse(in1h) + 60_000));
    await engine.app.get(ReactorWorkers).waitFor();
    expect((await store.readStream(broadcastStreamId(WS, 'later'))).map((e) => e.type)).toEqual([
      'BroadcastScheduled',
      'TimerScheduled',
      'BroadcastCancelled',
      'TimerCancelled',
    ]);
    expect(await decisions('lea', 'later')).toEqual([]);
  });

  it("the workspace's default quiet hours defer a broadcast without its own; one with quietHours: none goes out at once", async () => {
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const now = clock.now().getTime();
    const window = { start: hhmm(now - 3_600_000), end: hhmm(now + 7_200_000) };
    const settings = '/v1/admin/workspace/settings';
    await http.put(settings).set('Authorization', engine.auth.admin).send({ quietHours: window }).expect(200);
    try {
      await segment('night', { nia: { timezone: 'UTC' } });
      const broadcast = (id: string, guards?: object) =>
        http
          .post('/v1/broadcasts')
          .set('Authorization', CSM)
          .send({ id, segmentId: 'night', send: { channel: 'inbox', body: 'Hi' }, ...(guards ? { guards } : {}) })
          .expect(201);
      await broadcast('quiet');
      await broadcast('loud', { quietHours: 'none' });
      const [quiet, loud] = await at(undefined, async () => {
        const q = await decisions('nia', 'quiet');
        const l = await decisions('nia', 'loud');
        expect([q.length, l.length]).toEqual([1, 1]);
        return [q[0], l[0]];
      });
      expect(quiet.type).toBe('MessageScheduled');
      expect(Date.parse(quiet.data.notBefore as string)).toBeGreaterThan(now);
      expect(hhmm(Date.parse(quiet.data.notBefore as string))).toBe(window.end);
      expect(quiet.data.guards).toContainEqual(
        expect.objectContaining({ guard: 'quiet-hours', verdict: 'deferred', detail: expect.stringContaining('(workspace default)') }),
      );
      expect(loud.type).toBe('MessageScheduled');
      expect(loud.data.notBefore).toBeUndefined();
    } finally {
      await http.put(settings).set('Authorization', engine.auth.admin).send({}).expect(200);
    }
  });
});
