/**
 * Identity merge (#12) end to end, over HTTP: an anonymous visitor's page views and feature uses, then an identify
 * naming the anonymousId; the user's timeline holds the history, a trigger counting `Feature Used` counts it on the
 * user's next one (and never sends for the history itself), a repeated alias records and sends nothing new, and calls
 * still sent under the anonymousId land on the user.
 */
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';

const powerUser = {
  id: 'power-user',
  name: 'Power user',
  entry: { count: { event: 'Feature Used', within: '7d', gte: 3 } },
  steps: [{ send: { channel: 'log', body: 'You use it a lot, {{ customer.traits.name }}' } }],
};
const everyUse = {
  id: 'every-use',
  name: 'On every use',
  reentry: 'every',
  entry: { event: 'Feature Used' },
  steps: [{ send: { channel: 'log', body: 'Used' } }],
};

describe('merging identities over HTTP (#12)', () => {
  let engine: TestEngine;
  let store: EventStore;

  beforeAll(async () => {
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
    for (const trigger of [powerUser, everyUse]) {
      expect((await call('POST', '/v1/triggers', trigger, engine.auth.admin)).status).toBe(201);
      expect((await call('POST', `/v1/triggers/${trigger.id}/enable`, undefined, engine.auth.admin)).status).toBe(200);
    }
  });
  afterAll(() => engine?.close());

  async function call(method: string, path: string, body?: unknown, authorization = engine.auth.write) {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  }
  const send = async (type: string, body: Record<string, unknown>) => expect((await call('POST', `/v1/${type}`, body)).status).toBe(200);
  const stream = (id: string): Promise<RecordedEvent[]> => store.readStream(customerStreamId('default', id));
  const sends = async (id: string, triggerId: string) =>
    (await stream(id)).filter((e) => e.type === 'MessageScheduled' && e.data.triggerId === triggerId).length;

  it('folds the anonymous history into the user: timeline, counts, one send on the next live event, later calls routed', async () => {
    const anon = `anon-${Date.now()}`;
    const user = `user-${Date.now()}`;
    for (const path of ['/', '/pricing', '/signup']) await send('page', { anonymousId: anon, name: path });
    for (let i = 0; i < 2; i++) await send('track', { anonymousId: anon, event: 'Feature Used', properties: { i } });
    // every use sent for the anonymous visitor live (and only then)
    await eventually(async () => expect(await sends(anon, 'every-use')).toBe(2));

    await send('identify', { userId: user, anonymousId: anon, traits: { name: 'Ann' } });
    const timeline = await eventually(async () => {
      const res = await call('GET', `/v1/customers/${user}/timeline`, undefined, engine.auth.admin);
      const merged = res.body.entries.filter((e: { details: { mergedFrom?: string } }) => e.details.mergedFrom === anon);
      expect(merged).toHaveLength(5);
      return res.body.entries as Array<{ kind: string; summary: string; type: string }>;
    });
    expect(timeline.map((e) => e.type)).toEqual([
      'PageViewed',
      'PageViewed',
      'PageViewed',
      'InteractionRecorded',
      'InteractionRecorded',
      'CustomerIdentified',
      'IdentitiesMerged',
      'StageChanged',
    ]);
    expect(timeline[3].summary).toBe(`Tracked "Feature Used" (merged from ${anon})`);
    const closed = await eventually(async () => {
      const res = await call('GET', `/v1/customers/${anon}`, undefined, engine.auth.admin);
      expect(res.body.mergedInto).toBe(user);
      return res.body;
    });
    expect(closed.mergedInto).toBe(user);
    const customer = await eventually(async () => {
      const res = await call('GET', `/v1/customers/${user}`, undefined, engine.auth.admin);
      expect(res.body).toMatchObject({ aliases: [anon], pageViews: 3, interactions: { byEvent: { 'Feature Used': 2 } } });
      return res.body;
    });
    expect(Date.parse(customer.firstSeen)).toBeLessThan(Date.parse(customer.lastSeen));
    // the history started nothing: no send for the two copied uses, no power-user run (2 < 3)
    expect(await sends(user, 'every-use')).toBe(0);
    expect(await sends(user, 'power-user')).toBe(0);

    // the user's next use: counted with the history (3 within 7d)
    await send('track', { userId: user, event: 'Feature Used' });
    await eventually(async () => expect(await sends(user, 'power-user')).toBe(1));
    expect(await sends(user, 'every-use')).toBe(1);

    // the same merge again, as an alias: nothing new stored, nothing sent again
    const before = (await stream(user)).length;
    await send('alias', { previousId: anon, userId: user });
    await send('identify', { userId: user, anonymousId: anon });
    // a call still sent under the anonymousId: on the user's stream, live
    await send('track', { anonymousId: anon, event: 'Feature Used', messageId: `${anon}-late` });
    const late = await eventually(async () => {
      const found = (await stream(user)).find((e) => e.metadata.correlationId === `${anon}-late`);
      expect(found).toBeDefined();
      return found!;
    });
    expect(late.metadata).toMatchObject({ customerId: user, routedFrom: anon });
    await eventually(async () => expect(await sends(user, 'every-use')).toBe(2));
    expect(await sends(user, 'power-user')).toBe(1);
    const after = await stream(user);
    expect(after.filter((e) => e.metadata.mergedFrom === anon)).toHaveLength(5);
    expect(after.filter((e) => e.type === 'IdentitiesMerged')).toHaveLength(1);
    expect(after.length).toBeGreaterThan(before);
    expect((await stream(anon)).filter((e) => e.metadata.source === 'http')).toHaveLength(5);
  });

  it('answers 400 naming why for an alias into itself or of a customer others were merged into', async () => {
    const self = await call('POST', '/v1/alias', { previousId: 'same', userId: 'same' });
    expect(self).toMatchObject({ status: 400, body: { message: 'previousId and userId are the same ("same"): nothing to merge' } });
    await send('track', { anonymousId: 'chain-anon', event: 'Visited' });
    await send('alias', { previousId: 'chain-anon', userId: 'chain-user' });
    const chain = await call('POST', '/v1/alias', { previousId: 'chain-user', userId: 'someone-else' });
    expect(chain.status).toBe(400);
    expect(chain.body.message).toContain('"chain-user" has other ids merged into it');
    const taken = await call('POST', '/v1/alias', { previousId: 'chain-anon', userId: 'someone-else' });
    expect(taken).toMatchObject({ status: 400, body: { errors: [{ path: 'previousId' }] } });
  });
});
