/**
 * Triggers in conversations, end to end on the real engine (127.0.0.1): the library trigger `support-reply-triage`
 * deployed over HTTP; customer messages recorded the way every inbound path records them (ConversationsService.receive,
 * which scores their sentiment with VADER); the trigger reactor tags and hands an unhappy reply to support, answers and
 * resolves a thank-you, and stays out of a conversation a person holds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { ConversationsService } from '../../apps/engine/src/conversations/conversations.service';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../e2e/support';

const TRIGGER = 'support-reply-triage';

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
  });

  afterAll(() => engine?.close());

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
