/**
 * Triggers in conversations, end to end on the real engine (127.0.0.1): the library trigger `support-reply-triage`
 * deployed over HTTP; customer messages recorded the way every inbound path records them (ConversationsService.receive,
 * which scores their sentiment with VADER); the trigger reactor tags and hands an unhappy reply to support, answers and
 * resolves a thank-you, and stays out of a conversation a person holds; a trigger's Liquid reply body is rendered with
 * the customer's traits (an email conversation's answer mailed once, as rendered), and one that does not render is
 * suppressed as `template-error`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { ConversationsService } from '../../apps/engine/src/conversations/conversations.service';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../e2e/support';

const TRIGGER = 'support-reply-triage';
const PERSONAL = 'export-help';
const PERSONAL_BODY =
  'Hi {{ customer.traits.name }}, here is how to export on {{ customer.traits.plan | default: "your plan" }}: Settings → Export.';

describe('support-reply-triage on the running engine', () => {
  let engine: TestEngine;
  let store: EventStore;
  let conversations: ConversationsService;
  const stream = (customerId: string) => store.readStream(customerStreamId('default', customerId));
  const ofType = (events: RecordedEvent[], type: string) => events.filter((e) => e.type === type);

  beforeAll(async () => {
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
    conversations = engine.app.get(ConversationsService);
    const call = async (method: string, path: string, body?: string) =>
      fetch(`${engine.url}${path}`, {
        method,
        headers: { authorization: engine.auth.admin, ...(body ? { 'content-type': 'application/yaml' } : {}) },
        body,
      });
    const yaml = readFileSync(join(__dirname, '../../triggers/library', `${TRIGGER}.yaml`), 'utf8');
    expect((await call('POST', '/v1/triggers', yaml)).status).toBe(201);
    expect((await call('POST', `/v1/triggers/${TRIGGER}/enable`)).status).toBe(200);
    // a personal answer: the reply body is a Liquid template (refused at deploy time when it does not parse)
    const personal = (body: string) =>
      [
        `id: ${PERSONAL}`,
        'name: Export help',
        'reentry: every',
        'entry: { reply: { contains: [how do i export] } }',
        'steps:',
        `  - reply: { body: ${JSON.stringify(body)} }`,
      ].join('\n');
    const refused = await call('POST', '/v1/triggers', personal('Hi {{ customer.traits.name | shout }}'));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('steps[0].reply.body: not a valid template: undefined filter: shout');
    expect((await call('POST', '/v1/triggers', personal(PERSONAL_BODY))).status).toBe(201);
    expect((await call('POST', `/v1/triggers/${PERSONAL}/enable`)).status).toBe(200);
  });

  afterAll(() => engine?.close());

  const identify = async (userId: string, traits: Record<string, unknown>) =>
    fetch(`${engine.url}/v1/identify`, {
      method: 'POST',
      headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, traits }),
    });

  it('an automated answer is personal: its Liquid body is rendered with the traits, in the thread, and mailed once, as rendered, in an email conversation', async () => {
    expect((await identify('kim', { name: 'Kim', email: 'kim@example.com' })).status).toBe(200);
    await eventually(async () => expect(ofType(await stream('kim'), 'CustomerIdentified')).toHaveLength(1));
    const { conversation } = await conversations.receive(
      'default',
      'kim',
      { channel: 'email', body: 'How do I export my invoices?' },
      'email',
    );
    const answer = 'Hi Kim, here is how to export on your plan: Settings → Export.';
    const thread = await eventually(async () => {
      const c = await conversations.get('default', 'kim', conversation.conversationId);
      expect(c.thread).toHaveLength(2);
      return c.thread;
    });
    expect(thread.map((t) => [t.from, t.body, t.automated ?? false])).toEqual([
      ['customer', 'How do I export my invoices?', false],
      ['agent', answer, true],
    ]);
    // the email conversation's answer goes out by email (EmailRepliesReactor), as rendered, never rendered again, once
    const mail = await eventually(async () => {
      const scheduled = ofType(await stream('kim'), 'MessageScheduled').filter((e) => e.data.channel === 'email');
      expect(scheduled).toHaveLength(1);
      return scheduled[0];
    });
    expect(mail.data).toMatchObject({
      conversationId: conversation.conversationId,
      literal: true,
      to: 'kim@example.com',
      triggerId: PERSONAL,
    });
    expect((mail.data.template as { body: string }).body).toBe(answer);
    await eventually(async () => {
      const outcome = ofType(await stream('kim'), 'MessageSent').concat(ofType(await stream('kim'), 'MessageSuppressed'));
      expect(outcome.length).toBeGreaterThan(0);
    });
    expect(ofType(await stream('kim'), 'AgentReplied')).toHaveLength(1);
    expect(ofType(await stream('kim'), 'MessageScheduled').filter((e) => e.data.channel === 'email')).toHaveLength(1);
  });

  it('a body that does not render for a customer (no name) is no answer: suppressed as template-error, which explain shows', async () => {
    const { conversation } = await conversations.receive('default', 'lou', { channel: 'inbox', body: 'how do I export to csv?' }, 'inbox');
    const suppressed = await eventually(async () => {
      const [s] = ofType(await stream('lou'), 'MessageSuppressed');
      expect(s).toBeDefined();
      return s;
    });
    expect(suppressed.data).toMatchObject({ reason: 'template-error', triggerId: PERSONAL, channel: 'inbox' });
    expect(String(suppressed.data.detail)).toContain('customer.traits.name');
    expect(ofType(await stream('lou'), 'AgentReplied')).toEqual([]);
    expect((await conversations.get('default', 'lou', conversation.conversationId)).thread).toHaveLength(1);
    const explained = await eventually(async () => {
      const res = await fetch(`${engine.url}/v1/messages/${String(suppressed.data.messageId)}/explain`, {
        headers: { authorization: engine.auth.admin },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { decision: Record<string, unknown>; guards: unknown[] };
    });
    expect(explained.decision).toMatchObject({ outcome: 'suppressed', reason: 'template-error' });
    expect(explained.guards).toEqual([
      { guard: 'template', verdict: 'suppressed', detail: expect.stringContaining('customer.traits.name') },
    ]);
  });

  it('an unhappy reply (scored when recorded) is tagged and queued for support at high priority; then a thank-you in it gets no automated answer', async () => {
    const first = await conversations.receive(
      'default',
      'hal',
      { channel: 'inbox', body: 'The export keeps failing and we lost data. Unacceptable.' },
      'inbox',
    );
    const id = first.conversation.conversationId;
    const [replied] = ofType(await stream('hal'), 'CustomerReplied');
    expect(replied.data.sentiment).toBeLessThan(-0.5);
    const assigned = await eventually(async () => {
      const [a] = ofType(await stream('hal'), 'ConversationAssigned');
      expect(a).toBeDefined();
      return a;
    });
    expect(assigned.data).toMatchObject({ conversationId: id, team: 'support', priority: 'high', reason: 'queued', triggerId: TRIGGER });
    expect(ofType(await stream('hal'), 'ConversationTagged').map((e) => e.data)).toEqual([{ conversationId: id, tags: ['unhappy'] }]);
    expect((await conversations.get('default', 'hal', id)).held).toBe(true);

    await conversations.receive('default', 'hal', { channel: 'inbox', conversationId: id, body: 'Thanks, that fixed it!' }, 'inbox');
    const suppressed = await eventually(async () => {
      const [s] = ofType(await stream('hal'), 'MessageSuppressed');
      expect(s).toBeDefined();
      return s;
    });
    expect(suppressed.data).toMatchObject({ reason: 'held-by-person', triggerId: TRIGGER });
    expect(ofType(await stream('hal'), 'AgentReplied')).toEqual([]);
    // explain says why automation did not answer
    const explained = await eventually(async () => {
      const res = await fetch(`${engine.url}/v1/messages/${String(suppressed.data.messageId)}/explain`, {
        headers: { authorization: engine.auth.admin },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { decision: Record<string, unknown>; guards: unknown[] };
    });
    expect(explained.decision).toMatchObject({ outcome: 'suppressed', reason: 'held-by-person' });
    expect(explained.guards).toEqual([
      { guard: 'conversation', verdict: 'suppressed', detail: expect.stringContaining('held by a person') },
    ]);
    expect((await conversations.get('default', 'hal', id)).status).toBe('open');
  });

  it('a thank-you nobody holds is answered in its conversation and resolved by automation', async () => {
    const { conversation } = await conversations.receive('default', 'ivy', { channel: 'email', body: 'Found it, thank you!' }, 'email');
    const resolved = await eventually(async () => {
      const c = await conversations.get('default', 'ivy', conversation.conversationId);
      expect(c.status).toBe('resolved');
      return c;
    });
    expect(resolved.personInvolved).toBe(false);
    expect(resolved.thread.map((t) => [t.from, t.body, t.automated ?? false])).toEqual([
      ['customer', 'Found it, thank you!', false],
      ['agent', 'Glad we could help! Just reply here if anything else comes up.', true],
    ]);
    expect(ofType(await stream('ivy'), 'AgentReplied')[0].data).toMatchObject({ channel: 'email', automated: true, triggerId: TRIGGER });
  });
});
