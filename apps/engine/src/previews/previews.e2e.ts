import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ProjectionsService } from '../projections/projections.service';

const WS = 'default';
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

describe('preview, test send and why-not over HTTP (in-process engine, SMTP sink)', () => {
  let engine: TestEngine;
  let store: EventStore;
  let sink: SMTPServer;
  const outbox: ParsedMail[] = [];

  const call = async (method: string, path: string, body?: unknown, auth = engine.auth.admin) => {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const ingest = (type: 'identify' | 'track', body: Record<string, unknown>) => call('POST', `/v1/${type}`, body, engine.auth.write);
  const events = (customer: string): Promise<RecordedEvent[]> => store.readStream(customerStreamId(WS, customer));
  const scheduled = async (customer: string, triggerId: string) =>
    (await events(customer)).filter(
      (e) => (e.type === 'MessageScheduled' || e.type === 'MessageSuppressed') && e.data.triggerId === triggerId,
    );
  const define = async (definition: Record<string, unknown>) => {
    expect((await call('POST', '/v1/triggers', definition)).status).toBe(201);
    expect((await call('POST', `/v1/triggers/${definition.id as string}/enable`)).status).toBe(200);
  };
  /** The welcome trigger's analytics, once every welcome message scheduled has been delivered and projected. */
  const welcomeCount = () =>
    eventually(async () => {
      await engine.app.get(ProjectionsService).waitForCatchUp();
      const { body } = await call('GET', '/v1/analytics/triggers?triggerId=welcome');
      const step = body.triggers[0].steps[0];
      expect(step.delivered).toBe(step.scheduled);
      return JSON.stringify(body);
    });

  beforeAll(async () => {
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          (mail) => {
            outbox.push(mail);
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    engine = await startEngine({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`,
        JOURNEY_EMAIL_FROM: 'Acme <hello@acme.test>',
        JOURNEY_DELIVERY_BACKOFF_MS: '50',
      },
    });
    store = engine.app.get(EVENT_STORE);
    const email = (subject: string) => ({ send: { channel: 'email', subject, body: 'Hello {{ customer.traits.name }}' } });
    await define({ id: 'welcome', name: 'Welcome', entry: { event: 'Signed Up' }, steps: [email('Welcome {{ customer.traits.name }}')] });
    await define({
      id: 'nudge',
      name: 'Nudge',
      entry: { event: 'Feature Used' },
      guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }] },
      steps: [email('Try reports, {{ customer.traits.name }}')],
    });
    // quiet hours from an hour ago to two hours from now (UTC): whatever the time, a send now is deferred
    const now = Date.now();
    await define({
      id: 'late',
      name: 'Late',
      entry: { event: 'Report Exported' },
      guards: { quietHours: { start: hhmm(now - 3_600_000), end: hhmm(now + 7_200_000) } },
      steps: [email('Your report')],
    });
    await define({
      id: 'crm',
      name: 'CRM',
      entry: { event: 'Signed Up' },
      steps: [{ send: { channel: 'webhook', body: '{"id": "{{ customer.id }}"}' } }],
    });
  });

  afterAll(async () => {
    await engine?.close();
    await new Promise<void>((r) => sink.close(() => r()));
  });

  it('names the frequency cap and the messages it counted for a customer who did not get a nudge', async () => {
    const id = `capped-${randomUUID()}`;
    expect((await ingest('identify', { userId: id, traits: { name: 'Ada', email: `${id}@example.com` } })).status).toBe(200);
    await ingest('track', { userId: id, event: 'Signed Up' });
    const [welcome] = await eventually(async () => {
      const m = await scheduled(id, 'welcome');
      expect(m).toHaveLength(1);
      return m;
    });
    await ingest('track', { userId: id, event: 'Feature Used' });
    await eventually(async () => expect(await scheduled(id, 'nudge')).toHaveLength(1));

    const { status, body } = await call('GET', `/v1/customers/${id}/why-not?trigger=nudge`, undefined, engine.auth.admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({ got: false, code: 'frequency-cap', triggerId: 'nudge', version: 1 });
    expect(body.reason).toContain('at most 1 per 1d (customer)');
    expect(body.messages).toEqual([expect.objectContaining({ messageId: welcome.data.messageId, triggerId: 'welcome', channel: 'email' })]);
    expect(body.reason).toContain(String(welcome.data.messageId));

    // and the welcome they did get, with its message id
    const got = await call('GET', `/v1/customers/${id}/why-not?trigger=welcome`);
    expect(got.body).toMatchObject({ got: true, code: 'sent', message: { messageId: welcome.data.messageId, channel: 'email' } });
  });

  it('says a customer in quiet hours is deferred, and to when', async () => {
    const id = `night-${randomUUID()}`;
    await ingest('identify', { userId: id, traits: { name: 'Bo', email: `${id}@example.com`, timezone: 'UTC' } });
    await ingest('track', { userId: id, event: 'Report Exported' });
    const [message] = await eventually(async () => {
      const m = await scheduled(id, 'late');
      expect(m).toHaveLength(1);
      return m;
    });
    const { body } = await call('GET', `/v1/customers/${id}/why-not?trigger=late`);
    expect(body).toMatchObject({ got: false, code: 'quiet-hours', deferredTo: message.data.notBefore });
    expect(Date.parse(body.deferredTo)).toBeGreaterThan(Date.now());
  });

  it('previews a step with the customer as of a moment (their name then), with the guard verdicts and template errors named', async () => {
    const id = `preview-${randomUUID()}`;
    const before = new Date(Date.now() - 3_600_000).toISOString();
    await ingest('identify', { userId: id, traits: { name: 'Ada' }, timestamp: before });
    await ingest('identify', { userId: id, traits: { name: 'Ada Lovelace' } });
    const now = await call('POST', '/v1/triggers/welcome/preview', { customerId: id, step: 'steps[0]' }, engine.auth.admin);
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({
      subject: 'Welcome Ada Lovelace',
      body: 'Hello Ada Lovelace',
      channel: 'email',
      verdict: 'send',
      templateErrors: [],
    });
    expect(now.body.guards.map((g: { guard: string }) => g.guard)).toEqual(['consent', 'priority']);
    const then = await call('POST', '/v1/triggers/welcome/preview', {
      customerId: id,
      step: 0,
      asOf: new Date(Date.parse(before) + 1000).toISOString(),
    });
    expect(then.body.subject).toBe('Welcome Ada');
    // before they had a name: the strict renderer names the variable
    const early = await call('POST', '/v1/triggers/welcome/preview', {
      customerId: id,
      step: '0',
      asOf: new Date(Date.parse(before) - 1000).toISOString(),
    });
    expect(early.body.templateErrors).toEqual([expect.stringMatching(/^subject: .*name/), expect.stringMatching(/^body: .*name/)]);

    // bad input is named
    const bad = async (path: string, body: unknown) => (await call('POST', path, body)).body.message as string;
    expect(await bad('/v1/triggers/welcome/preview', { customerId: id, step: 'steps[7]' })).toMatch(/^step: .*steps\[0\]/);
    expect(await bad('/v1/triggers/welcome/preview', { customerId: id, step: 0, version: 9 })).toMatch(/^version: /);
    expect(await bad('/v1/triggers/welcome/preview', { step: 0 })).toMatch(/^customerId: /);
    expect(await bad('/v1/triggers/welcome/preview', { customerId: id, step: 0, asOf: 'yesterday' })).toMatch(/^asOf /);
    expect((await call('POST', '/v1/triggers/welcome/preview', { customerId: `nobody-${randomUUID()}`, step: 0 })).status).toBe(404);
    expect((await call('POST', '/v1/triggers/nope/preview', { customerId: id, step: 0 })).status).toBe(404);
    expect((await call('GET', `/v1/customers/${id}/why-not`)).status).toBe(400);
    expect((await call('POST', '/v1/triggers/welcome/test-send', { customerId: id, step: 0, to: 'https://evil.test/hook' })).status).toBe(
      400,
    );
    expect(await bad('/v1/triggers/crm/test-send', { customerId: id, step: 0, to: 'qa@example.com' })).toMatch(/^step: .*webhook/);

    // a webhook step's request rendered with its secrets as placeholders; a task's title as written
    await define({
      id: 'hook',
      name: 'Hook',
      entry: { event: 'Hook Wanted' },
      steps: [
        {
          webhook: {
            url: 'https://crm.example.com/people/{{ customer.id }}',
            headers: { authorization: 'Bearer {{ secrets.crm_token }}' },
            body: '{"name": "{{ customer.traits.name }}"}',
          },
        },
        { task: { title: 'Call {{ customer.traits.name }}' } },
      ],
    });
    const hook = await call('POST', '/v1/triggers/hook/preview', { customerId: id, step: 'steps[0]' });
    expect(hook.body).toMatchObject({
      channel: 'http',
      body: '{"name": "Ada Lovelace"}',
      request: { url: `https://crm.example.com/people/${id}`, method: 'POST', headers: { authorization: 'Bearer [secret crm_token]' } },
      guards: [],
      verdict: 'none',
    });
    expect((await call('POST', '/v1/triggers/hook/preview', { customerId: id, step: '1' })).body).toMatchObject({
      step: { kind: 'task' },
      title: 'Call {{ customer.traits.name }}',
    });
    expect(await bad('/v1/triggers/hook/test-send', { customerId: id, step: 0, to: 'qa@example.com' })).toMatch(/^step: .*webhook step/);
  });

  it('delivers a test send to the test address through the email channel, marked test, and the trigger analytics do not change', async () => {
    const id = `tested-${randomUUID()}`;
    await ingest('identify', { userId: id, traits: { name: 'Cy', email: `${id}@example.com` } });
    await ingest('track', { userId: id, event: 'Signed Up' });
    await eventually(async () => expect(await scheduled(id, 'welcome')).toHaveLength(1));
    await eventually(async () => expect(outbox.some((m) => m.subject === 'Welcome Cy')).toBe(true));
    const analytics = await eventually(async () => {
      const counts = await welcomeCount();
      const customer = await call('GET', `/v1/customers/${id}`);
      // the welcome email and the crm trigger's webhook (no webhook configured here: suppressed), each with its outcome
      const m = customer.body.messages;
      expect(m.scheduled).toBe(2);
      expect(m.delivered + m.suppressed + m.failed).toBe(2);
      return { counts, messages: customer.body.messages };
    });

    const csm = await call('POST', '/v1/triggers/welcome/test-send', { customerId: id, step: 'steps[0]', to: 'qa@example.com' });
    expect(csm.status).toBe(200);
    expect(csm.body).toMatchObject({
      customerId: id,
      channel: 'email',
      to: 'qa@example.com',
      test: true,
      preview: { subject: 'Welcome Cy' },
    });
    const mail = await eventually(async () => {
      const m = outbox.find((x) => (Array.isArray(x.to) ? x.to : [x.to]).some((t) => t?.text.includes('qa@example.com')));
      expect(m).toBeDefined();
      return m!;
    });
    expect(mail.subject).toBe('Welcome Cy');
    const delivered = await eventually(async () => {
      const e = (await events(id)).find((x) => x.type === 'MessageDelivered' && x.data.messageId === csm.body.messageId);
      expect(e).toBeDefined();
      return e!;
    });
    expect(delivered.data.channel).toBe('email');
    const own = (await events(id)).find((x) => x.type === 'MessageScheduled' && x.data.messageId === csm.body.messageId)!;
    expect(own.data).toMatchObject({ test: true, literal: true, to: 'qa@example.com', triggerId: 'welcome' });

    // never counted: trigger analytics and the customer's counters are as before; why-not still names the real message
    await eventually(async () => {
      const customer = await call('GET', `/v1/customers/${id}/timeline`);
      expect(JSON.stringify(customer.body)).toContain(`Test message ${csm.body.messageId as string} delivered`);
    });
    await engine.app.get(ProjectionsService).waitForCatchUp();
    expect(await welcomeCount()).toBe(analytics.counts);
    expect((await call('GET', `/v1/customers/${id}`)).body.messages).toEqual(analytics.messages);
    const context = await call('GET', `/v1/customers/${id}/context`);
    expect(context.body.recentMessages.map((m: { messageId: string }) => m.messageId)).not.toContain(csm.body.messageId);
    expect(context.body.recentMessages).toHaveLength(1);
    // explainable like any message: the test marker and the guards reported (not applied)
    const explained = await call('GET', `/v1/messages/${csm.body.messageId as string}/explain`);
    expect(explained.body).toMatchObject({
      status: 'delivered',
      trigger: { id: 'welcome', version: 1 },
      template: { subject: 'Welcome Cy' },
      guards: [{ guard: 'test-send', verdict: 'passed' }, { guard: 'consent' }, { guard: 'priority' }],
    });
    const why = await call('GET', `/v1/customers/${id}/why-not?trigger=welcome`);
    expect(why.body.message.messageId).not.toBe(csm.body.messageId);

    // an analyst previews but does not send
    const analyst = await call('POST', '/v1/admin/keys', { role: 'analyst', name: 'previews-e2e' });
    const key = `Bearer ${analyst.body.key as string}`;
    expect((await call('POST', '/v1/triggers/welcome/preview', { customerId: id, step: 0 }, key)).status).toBe(200);
    expect((await call('POST', '/v1/triggers/welcome/test-send', { customerId: id, step: 0, to: 'qa@example.com' }, key)).status).toBe(403);
  });

  it("sends an in-app test to a test customer's inbox, not the customer's", async () => {
    await define({
      id: 'tip',
      name: 'Tip',
      entry: { event: 'Tip Wanted' },
      steps: [{ send: { channel: 'inbox', subject: 'Tip', body: 'Hi {{ customer.traits.name }}' } }],
    });
    const id = `inbox-${randomUUID()}`;
    const tester = `tester-${randomUUID()}`;
    await ingest('identify', { userId: id, traits: { name: 'Di' } });
    expect((await call('POST', '/v1/triggers/tip/test-send', { customerId: id, step: 0, to: id })).status).toBe(400);
    const sent = await call('POST', '/v1/triggers/tip/test-send', { customerId: id, step: 0, to: tester });
    expect(sent.body).toMatchObject({ customerId: tester, channel: 'inbox' });
    const inbox = await eventually(async () => {
      const { body } = await call('GET', `/v1/customers/${tester}/inbox`);
      expect(JSON.stringify(body)).toContain('Hi Di');
      return body;
    });
    expect(JSON.stringify(inbox)).toContain(sent.body.messageId);
    expect(JSON.stringify((await call('GET', `/v1/customers/${id}/inbox`)).body)).not.toContain('Hi Di');
  });
});
