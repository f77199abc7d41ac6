import { randomUUID } from 'node:crypto';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from './support';

const WS = 'default';
const PATH = '/v1/admin/workspace/settings';
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * The workspace settings over HTTP: If-Match on PUT (412 when stale), and the default quiet hours (`quietHours`)
 * deferring the sends of a trigger without its own, as the reactor, why-not and preview all say.
 */
describe('workspace settings: If-Match and default quiet hours (in-process engine)', () => {
  let engine: TestEngine;
  let store: EventStore;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, auth = engine.auth.admin) => {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, etag: res.headers.get('etag'), body: (await res.json().catch(() => ({}))) as Record<string, any> };
  };
  const ingest = (type: 'identify' | 'track', body: Record<string, unknown>) => call('POST', `/v1/${type}`, body, {}, engine.auth.write);
  const messages = async (customer: string, triggerId: string): Promise<RecordedEvent[]> =>
    (await store.readStream(customerStreamId(WS, customer))).filter((e) => e.type === 'MessageScheduled' && e.data.triggerId === triggerId);
  const define = async (definition: Record<string, unknown>) => {
    expect((await call('POST', '/v1/triggers', definition)).status).toBe(201);
    expect((await call('POST', `/v1/triggers/${definition.id as string}/enable`)).status).toBe(200);
  };
  const inbox = (subject: string) => ({ send: { channel: 'inbox', subject, body: 'Hello {{ customer.traits.name }}' } });
  /** A customer in UTC who triggers `event`; their one message of `triggerId`. */
  const sendTo = async (event: string, triggerId: string) => {
    const id = `night-${randomUUID()}`;
    expect((await ingest('identify', { userId: id, traits: { name: 'Bo', timezone: 'UTC' } })).status).toBe(200);
    await ingest('track', { userId: id, event });
    const [message] = await eventually(async () => {
      const m = await messages(id, triggerId);
      expect(m).toHaveLength(1);
      return m;
    });
    return { id, message };
  };

  beforeAll(async () => {
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('PUT settings honours If-Match: the revision read is accepted, a stale one is a 412, none is accepted, a malformed one a 400', async () => {
    const read = await call('GET', PATH);
    expect(read.status).toBe(200);
    expect(read.etag).toBe(`"${read.body.revision as number}"`);
    const first = await call('PUT', PATH, { policy: { period: '3d' } }, { 'if-match': read.etag! });
    expect(first.status).toBe(200);
    expect(first.body.revision).toBe(read.body.revision + 1);
    expect(first.etag).toBe(`"${first.body.revision as number}"`);

    // someone else saved since `read`: the stale revision is refused and nothing changes
    const stale = await call('PUT', PATH, { policy: { period: '5d' } }, { 'if-match': read.etag! });
    expect(stale.status).toBe(412);
    expect(stale.body.message).toMatch(/^If-Match: at revision \d+, not \d+; read it again$/);
    expect((await call('GET', PATH)).body.settings).toEqual({ policy: { period: '3d' } });

    // a secret moves the revision too (the ETag is the stream's)
    expect((await call('PUT', '/v1/admin/workspace/secrets/some_token', { value: 'x' })).status).toBe(204);
    expect((await call('PUT', PATH, { policy: { period: '5d' } }, { 'if-match': first.etag! })).status).toBe(412);

    expect((await call('PUT', PATH, { policy: { period: '5d' } }, { 'if-match': 'yesterday' })).status).toBe(400);
    const unconditional = await call('PUT', PATH, {});
    expect(unconditional.status).toBe(200);
    expect(unconditional.body.settings).toEqual({});
    // an analyst or csm key may not change them, If-Match or not
    const csm = await call('POST', '/v1/admin/keys', { role: 'csm', name: 'Csm' });
    expect((await call('PUT', PATH, {}, { 'if-match': unconditional.etag! }, `Bearer ${csm.body.key as string}`)).status).toBe(403);
  });

  it('refuses malformed quiet hours with 400 naming the field', async () => {
    const bad = async (quietHours: unknown) => (await call('PUT', PATH, { quietHours })).body.message as string;
    expect(await bad({ start: '9pm', end: '08:00' })).toBe('quietHours.start: expected a local time like "21:00", got "9pm"');
    expect(await bad({ start: '21:00' })).toMatch(/^quietHours\.end: is required/);
    expect(await bad({ start: '21:00', end: '08:00', timeZone: 'UTC' })).toBe('quietHours.timeZone: unknown setting (known: start, end)');
  });

  it("the workspace default defers a trigger's night send (why-not and preview say so), its own window wins, quietHours: none opts out", async () => {
    // a default window from an hour ago to two hours from now (UTC): a send now is inside it, whatever the time
    const now = Date.now();
    const window = { start: hhmm(now - 3_600_000), end: hhmm(now + 7_200_000) };
    const set = await call('PUT', PATH, { quietHours: window }, { 'if-match': (await call('GET', PATH)).etag! });
    expect(set.status).toBe(200);
    expect(set.body.settings.quietHours).toEqual(window);

    await define({ id: 'tip', name: 'Tip', entry: { event: 'Tip Wanted' }, steps: [inbox('Tip')] });
    await define({
      id: 'alert',
      name: 'Alert',
      entry: { event: 'Alert Raised' },
      guards: { quietHours: 'none' },
      steps: [inbox('Alert')],
    });
    // its own window (which does not hold now) wins over the default
    const own = { start: hhmm(now + 3 * 3_600_000), end: hhmm(now + 4 * 3_600_000) };
    await define({ id: 'digest', name: 'Digest', entry: { event: 'Digest Due' }, guards: { quietHours: own }, steps: [inbox('Digest')] });

    const tip = await sendTo('Tip Wanted', 'tip');
    const deferredTo = tip.message.data.notBefore as string;
    expect(Date.parse(deferredTo)).toBeGreaterThan(now);
    expect(hhmm(Date.parse(deferredTo))).toBe(window.end);
    expect(tip.message.data.guards).toContainEqual({
      guard: 'quiet-hours',
      verdict: 'deferred',
      detail: `inside quiet hours ${window.start}-${window.end} UTC (workspace default): deferred to ${deferredTo}`,
    });
    const why = await call('GET', `/v1/customers/${tip.id}/why-not?trigger=tip`);
    expect(why.status).toBe(200);
    expect(why.body).toMatchObject({ got: false, code: 'quiet-hours', deferredTo });
    const preview = await call('POST', '/v1/triggers/tip/preview', { customerId: tip.id, step: 0 });
    expect(preview.body.verdict).toBe('defer');
    expect(preview.body.guards).toContainEqual(
      expect.objectContaining({ guard: 'quiet-hours', verdict: 'deferred', detail: expect.stringContaining('(workspace default)') }),
    );

    const alert = await sendTo('Alert Raised', 'alert');
    expect(alert.message.data.notBefore).toBeUndefined();
    expect(alert.message.data.guards).toContainEqual({
      guard: 'quiet-hours',
      verdict: 'passed',
      detail: `quiet hours off (quietHours: none), the workspace default ${window.start}-${window.end} does not apply`,
    });

    const digest = await sendTo('Digest Due', 'digest');
    expect(digest.message.data.notBefore).toBeUndefined();
    expect(digest.message.data.guards).toContainEqual(
      expect.objectContaining({ guard: 'quiet-hours', verdict: 'passed', detail: `outside quiet hours ${own.start}-${own.end} UTC` }),
    );

    // the default removed: the next tip goes out at once, and why-not as of now sees no quiet hours
    expect((await call('PUT', PATH, {})).status).toBe(200);
    const later = await sendTo('Tip Wanted', 'tip');
    expect(later.message.data.notBefore).toBeUndefined();
    expect((await call('POST', '/v1/triggers/tip/preview', { customerId: later.id, step: 0 })).body.verdict).toBe('send');
    // while why-not as of when the first tip was decided still reports the default of that time
    const asOf = new Date(Date.parse(tip.message.metadata.recordedAt) + 1).toISOString();
    expect((await call('GET', `/v1/customers/${tip.id}/why-not?trigger=tip&asOf=${asOf}`)).body).toMatchObject({ code: 'quiet-hours' });
  });
});
