import request from 'supertest';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ReactorWorkers } from '../reactors/reactors.module';

type Doc = Record<string, unknown>;
const send = (send: Doc) => ({
  id: 'bad-send',
  name: 'Bad send',
  entry: { event: 'Plan Upgraded' },
  steps: [{ send: { channel: 'inbox', body: 'Hi', ...send } }],
});
const relay = (id: string, entry: string, emit: string) => ({
  id,
  name: id,
  reentry: 'every',
  entry: { event: entry },
  steps: [{ emit: { event: emit } }],
});

/** Every trigger document among the examples of a JSON value (an OpenAPI document): objects with `entry` and `steps`. */
function triggerExamples(v: unknown, out: Doc[] = []): Doc[] {
  if (Array.isArray(v)) for (const x of v) triggerExamples(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'example' || k === 'examples') collect(x, out);
      else triggerExamples(x, out);
    }
  }
  return out;
}
function collect(v: unknown, out: Doc[]): void {
  if (Array.isArray(v)) return v.forEach((x) => collect(x, out));
  if (!v || typeof v !== 'object') return;
  const o = v as Doc;
  if ('entry' in o && 'steps' in o) out.push(o);
  else for (const x of Object.values(o)) collect(x, out);
}

describe('the trigger language at deploy (over HTTP)', () => {
  let engine: TestEngine;
  let http: ReturnType<typeof request>;
  let admin: string;

  beforeAll(async () => {
    engine = await startEngine();
    http = request(engine.app.getHttpServer());
    admin = engine.auth.admin;
  });

  afterAll(async () => {
    await engine?.close();
  });

  const errorsOf = async (call: request.Test, status = 400) =>
    (await call.set('Authorization', admin).expect(status)).body.errors as string[];

  it('refuses a template that does not parse, one with a file tag and an unknown channel, naming the path: POST, PUT and draft backtest', async () => {
    const cases: Array<[Doc, string]> = [
      [send({ body: 'Hi {{ customer.traits.name ' }), 'steps[0].send.body: not a valid template'],
      [send({ subject: '{% if x %}open', body: 'Hi' }), 'steps[0].send.subject: not a valid template'],
      [send({ body: "{% include 'secrets' %}" }), 'steps[0].send.body: not a valid template: the "include" tag is not allowed'],
      [send({ body: "{% render 'x' %}" }), 'steps[0].send.body: not a valid template: the "render" tag is not allowed'],
      [send({ body: "{% layout 'x' %}" }), 'steps[0].send.body: not a valid template: the "layout" tag is not allowed'],
      [send({ channel: 'sms' }), 'steps[0].send.channel: unknown channel "sms"; expected one of email, inbox, log, slack, webhook'],
    ];
    await http.post('/v1/triggers').set('Authorization', admin).send(send({})).expect(201);
    for (const [doc, error] of cases) {
      expect((await errorsOf(http.post('/v1/triggers').send({ ...doc, id: 'bad-new' })))[0]).toContain(error);
      expect((await errorsOf(http.put('/v1/triggers/bad-send').send(doc)))[0]).toContain(error);
      const draft = await http.post('/v1/triggers/backtest').set('Authorization', admin).send({ definition: doc }).expect(400);
      expect(draft.body.message[0]).toContain(`definition.${error}`);
    }
    expect((await http.get('/v1/triggers/bad-send').set('Authorization', admin).expect(200)).body.version).toBe(1);
  });

  it('refuses a trigger that re-triggers itself, and enabling one that closes a cycle with the enabled triggers', async () => {
    expect(await errorsOf(http.post('/v1/triggers').send(relay('self', 'Ping', 'Ping')))).toEqual([
      'steps[0].emit.event: emits "Ping", which starts this trigger again (reentry: every): a trigger cannot re-trigger itself',
    ]);
    await http
      .post('/v1/triggers')
      .set('Authorization', admin)
      .send(relay('ping', 'Ping', 'Pong'))
      .expect(201);
    await http
      .post('/v1/triggers')
      .set('Authorization', admin)
      .send(relay('pong', 'Pong', 'Ping'))
      .expect(201);
    await http.post('/v1/triggers/ping/enable').set('Authorization', admin).expect(200);
    expect(await errorsOf(http.post('/v1/triggers/pong/enable'))).toEqual([
      'steps[0].emit.event: emits "Ping", which starts a cycle of triggers with reentry: every: pong → ping → pong',
    ]);
    expect((await http.get('/v1/triggers/pong').set('Authorization', admin).expect(200)).body.enabled).toBe(false);
    // a new version of an enabled trigger that closes the cycle is refused too; one that does not is taken
    await http.post('/v1/triggers/ping/disable').set('Authorization', admin).expect(200);
    await http.post('/v1/triggers/pong/enable').set('Authorization', admin).expect(200);
    await http.post('/v1/triggers/ping/enable').set('Authorization', admin).expect(400);
    await http
      .put('/v1/triggers/pong')
      .set('Authorization', admin)
      .send(relay('pong', 'Pong', 'Done'))
      .expect(200);
    await http.post('/v1/triggers/ping/enable').set('Authorization', admin).expect(200);
    expect(await errorsOf(http.put('/v1/triggers/pong').send(relay('pong', 'Pong', 'Ping')))).toEqual([
      'steps[0].emit.event: emits "Ping", which starts a cycle of triggers with reentry: every: pong → ping → pong',
    ]);
    for (const id of ['ping', 'pong']) await http.post(`/v1/triggers/${id}/disable`).set('Authorization', admin).expect(200);
  });

  it('cuts a cycle it cannot see at deploy (stages set back and forth) at the causal depth, with the reason in the timeline', async () => {
    const setStage = (id: string, entry: Doc, to: string) => ({ id, name: id, reentry: 'every', entry, steps: [{ set: { stage: to } }] });
    const triggers = [
      setStage('to-at-risk', { any: [{ event: 'Ping' }, { stage: { entered: 'active' } }] }, 'at-risk'),
      setStage('to-active', { stage: { entered: 'at-risk' } }, 'active'),
    ];
    for (const t of triggers) {
      await http.post('/v1/triggers').set('Authorization', admin).send(t).expect(201);
      await http.post(`/v1/triggers/${t.id}/enable`).set('Authorization', admin).expect(200);
    }
    await http.post('/v1/track').set('Authorization', engine.auth.write).send({ userId: 'looper', event: 'Ping' }).expect(200);
    const workers = engine.app.get(ReactorWorkers);
    const cut = await eventually(async () => {
      await workers.waitFor();
      const r = await http.get('/v1/customers/looper/timeline').set('Authorization', admin).expect(200);
      const entries = r.body.entries as Array<{ kind: string; summary: string }>;
      expect(entries.filter((e) => e.summary.includes('cut off: causal-depth'))).toHaveLength(1);
      return entries;
    });
    await workers.waitFor();
    // the chain: Ping → at-risk → active → ... eight stage changes, then the ninth run is cut off and nothing follows
    expect(cut.filter((e) => e.kind === 'stage' && e.summary.includes('trigger'))).toHaveLength(8);
    expect(cut.filter((e) => e.summary.endsWith('matched'))).toHaveLength(9);
    for (const t of triggers) await http.post(`/v1/triggers/${t.id}/disable`).set('Authorization', admin).expect(200);
  });

  it('every trigger example of the OpenAPI document deploys as written and delivers its message rendered', async () => {
    const docs = (await (await fetch(`${engine.url}/docs-json`)).json()) as unknown;
    const examples = [...new Map(triggerExamples(docs).map((e) => [JSON.stringify(e), e])).values()]; // POST and PUT share one
    expect(examples.length).toBeGreaterThan(0);
    for (const [i, example] of examples.entries()) {
      const id = String(example.id);
      await http.post('/v1/triggers').set('Authorization', admin).send(example).expect(201);
      await http.post('/v1/triggers/backtest').set('Authorization', admin).send({ definition: example }).expect(200);
      await http.post(`/v1/triggers/${id}/enable`).set('Authorization', admin).expect(200);
      const entry = (example.entry as { event?: string }).event;
      expect(entry).toBeDefined(); // an example the test can start with one track call
      const userId = `docs-example-${i}`;
      await http
        .post('/v1/identify')
        .set('Authorization', engine.auth.write)
        .send({ userId, traits: { name: 'Ada' } })
        .expect(200);
      await http.post('/v1/track').set('Authorization', engine.auth.write).send({ userId, event: entry }).expect(200);
      const inbox = await eventually(async () => {
        const r = await http.get(`/v1/customers/${userId}/inbox`).set('Authorization', admin).expect(200);
        expect(r.body.messages).toHaveLength(1);
        return r.body.messages as Array<{ body: string; subject?: string }>;
      });
      expect(inbox[0].body).not.toMatch(/{{|{%/);
      await http.post(`/v1/triggers/${id}/disable`).set('Authorization', admin).expect(200);
    }
  });
});
