import request from 'supertest';
import { customerStreamId, triggerStreamId } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ReactorWorkers } from '../reactors/reactors.module';

type Entry = { type: string; summary: string };

describe('keyed runs and shadow mode over HTTP (the whole engine: reactors and dispatcher)', () => {
  let engine: TestEngine;
  let http: ReturnType<typeof request>;
  let admin: string;
  const stream = (customerId: string) => engine.app.get<EventStore>(EVENT_STORE).readStream(customerStreamId('default', customerId));
  const inbox = async (customerId: string) =>
    (await http.get(`/v1/customers/${customerId}/inbox`).set('Authorization', admin).expect(200)).body.messages as Array<{ body: string }>;
  const timeline = async (customerId: string) =>
    (await http.get(`/v1/customers/${customerId}/timeline`).set('Authorization', admin).expect(200)).body.entries as Entry[];
  const track = (userId: string, event: string, properties: Record<string, unknown> = {}) =>
    http.post('/v1/track').set('Authorization', engine.auth.write).send({ userId, event, properties }).expect(200);

  beforeAll(async () => {
    engine = await startEngine();
    http = request(engine.app.getHttpServer());
    admin = engine.auth.admin;
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('given a keyed trigger, two open carts get two reminders; the timeline names each run’s key', async () => {
    const cart = {
      id: 'abandoned-cart',
      name: 'Abandoned cart',
      key: 'properties.cartId',
      entry: { event: 'Cart Updated' },
      steps: [{ send: { channel: 'inbox', body: 'Your cart {{ event.cartId }} is waiting' } }],
    };
    await http.post('/v1/triggers').set('Authorization', admin).send(cart).expect(201);
    await http.post('/v1/triggers/abandoned-cart/enable').set('Authorization', admin).expect(200);
    const bad = await http
      .put('/v1/triggers/abandoned-cart')
      .set('Authorization', admin)
      .send({ ...cart, key: 'cartId' })
      .expect(400);
    expect(bad.body.errors).toEqual([
      'key: expected a property path of the entry event, "properties.<name>" (e.g. "properties.cartId": one run per cart), got "cartId"',
    ]);

    await track('shopper', 'Cart Updated', { cartId: 'A' });
    await track('shopper', 'Cart Updated', { cartId: 'B' });
    await track('shopper', 'Cart Updated', { cartId: 'A' }); // once per cart: no second reminder for A
    const messages = await eventually(async () => {
      const m = await inbox('shopper');
      expect(m).toHaveLength(2);
      return m;
    });
    expect(messages.map((m) => m.body).sort()).toEqual(['Your cart A is waiting', 'Your cart B is waiting']);
    await engine.app.get(ReactorWorkers).waitFor();
    expect((await stream('shopper')).filter((e) => e.type === 'MessageScheduled')).toHaveLength(2);
    const matched = (await timeline('shopper')).filter((e) => e.type === 'TriggerMatched').map((e) => e.summary);
    expect(matched).toEqual(['Trigger abandoned-cart v1 (key A) matched', 'Trigger abandoned-cart v1 (key B) matched']);
  });

  it('given v2 live and v1 in shadow, each input is decided by both; the dispatcher sends only the live message; stopped, the shadow decides no more', async () => {
    const upsell = (body: string) => ({
      id: 'upsell',
      name: 'Upsell',
      reentry: 'every',
      entry: { event: 'Report Created' },
      steps: [{ send: { channel: 'inbox', body } }],
    });
    await http.post('/v1/triggers').set('Authorization', admin).send(upsell('old offer')).expect(201);
    // a disabled trigger can run in shadow: nothing reaches the customer
    const started = await http.post('/v1/triggers/upsell/shadow').set('Authorization', admin).send({ version: 1 }).expect(200);
    expect(started.body).toEqual({ id: 'upsell', name: 'Upsell', version: 1, enabled: false, shadow: 1, changed: true });
    expect((await http.post('/v1/triggers/upsell/shadow').set('Authorization', admin).send({ version: 1 }).expect(200)).body.changed).toBe(
      false,
    );
    await track('reader', 'Report Created');
    const workers = engine.app.get(ReactorWorkers);
    await eventually(async () => {
      await workers.waitFor();
      expect((await stream('reader')).filter((e) => e.type === 'MessageShadowed')).toHaveLength(1);
    });

    await http.put('/v1/triggers/upsell').set('Authorization', admin).send(upsell('new offer')).expect(200);
    await http.post('/v1/triggers/upsell/enable').set('Authorization', admin).expect(200);
    await track('reader', 'Report Created');
    expect((await eventually(() => inbox('reader').then((m) => (expect(m).toHaveLength(1), m))))[0].body).toBe('new offer');
    await workers.waitFor();
    const events = await stream('reader');
    const shadowed = events.filter((e) => e.type === 'MessageShadowed');
    expect(shadowed.map((e) => e.data.triggerVersion)).toEqual([1, 1]);
    // the dispatcher saw one message: the live one (a MessageShadowed is never scheduled, never sent)
    const scheduled = events.filter((e) => e.type === 'MessageScheduled');
    expect(scheduled.map((e) => e.data.triggerVersion)).toEqual([2]);
    const sentIds = events.filter((e) => e.type === 'MessageSent' || e.type === 'MessageDelivered').map((e) => e.data.messageId);
    expect(new Set(sentIds)).toEqual(new Set([scheduled[0].data.messageId]));
    const summaries = (await timeline('reader')).map((e) => e.summary);
    expect(summaries).toContain('Trigger upsell v1 (shadow) matched');
    expect(summaries.filter((s) => s.includes('in shadow: not sent'))).toHaveLength(2);

    expect((await http.get('/v1/triggers/upsell/shadow').set('Authorization', admin).expect(200)).body).toMatchObject({
      shadow: 1,
      version: 2,
    });
    const stopped = await http.delete('/v1/triggers/upsell/shadow').set('Authorization', admin).expect(200);
    expect(stopped.body).toMatchObject({ shadow: null, changed: true, enabled: true });
    expect((await http.delete('/v1/triggers/upsell/shadow').set('Authorization', admin).expect(200)).body.changed).toBe(false);
    const definitions = await engine.app.get<EventStore>(EVENT_STORE).readStream(triggerStreamId('default', 'upsell'));
    expect(definitions.map((e) => e.type).filter((t) => t.startsWith('TriggerShadow'))).toEqual([
      'TriggerShadowStarted',
      'TriggerShadowStopped',
    ]);

    await track('reader', 'Report Created');
    await eventually(() => inbox('reader').then((m) => expect(m).toHaveLength(2)));
    await workers.waitFor();
    expect((await stream('reader')).filter((e) => e.type === 'MessageShadowed')).toHaveLength(2);
  });

  it('refuses a version that does not exist, a body that is not { version }, and an unknown trigger', async () => {
    await http
      .post('/v1/triggers')
      .set('Authorization', admin)
      .send({ id: 'one', name: 'One', entry: { event: 'X' }, steps: [{ send: { channel: 'inbox', body: 'Hi' } }] })
      .expect(201);
    const unknownVersion = await http.post('/v1/triggers/one/shadow').set('Authorization', admin).send({ version: 4 }).expect(400);
    expect(unknownVersion.body.errors).toEqual(['version: trigger one has versions 1 to 1, not 4']);
    for (const body of [{}, { version: 'one' }, { version: 1.5 }, { version: 1, extra: true }, [1]])
      await http.post('/v1/triggers/one/shadow').set('Authorization', admin).send(body).expect(400);
    await http.post('/v1/triggers/nope/shadow').set('Authorization', admin).send({ version: 1 }).expect(404);
    await http.delete('/v1/triggers/nope/shadow').set('Authorization', admin).expect(404);
    await http.get('/v1/triggers/nope/shadow').set('Authorization', admin).expect(404);
  });
});
