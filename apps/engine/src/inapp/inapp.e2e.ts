/**
 * The in-app client API end to end, over real HTTP on 127.0.0.1: an admin sets the identity secret and the allowed
 * origins; the customer's client (a customer token, no key) reads its inbox, marks a message read, writes, is answered
 * live on its SSE stream, rates; a forged token changes nothing; a retried clientMessageId is recorded once; internal
 * notes never reach the client; CORS answers the workspace's origins only.
 */
import { CUSTOMER_RATE_LIMIT } from './inapp.guard';
import { createHmac } from 'node:crypto';
import { customerStreamId, envelope, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ConversationsService } from '../conversations/conversations.service';
import { OrganisationService } from '../conversations/organisation.service';

const WS = 'default';
const SECRET = 'in-app-identity-secret-of-the-test';
const ORIGIN = 'https://app.example.com';
const token = (customerId: string, secret = SECRET) => createHmac('sha256', secret).update(customerId).digest('hex');

interface SseEvent {
  id?: string;
  event?: string;
  data?: unknown;
}

/** An EventSource-like reader over fetch: every frame received, parsed, and the raw text. */
class SseClient {
  readonly events: SseEvent[] = [];
  raw = '';
  status = 0;
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  async open(url: string, headers: Record<string, string> = {}): Promise<void> {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.abort.signal });
    this.status = res.status;
    if (!res.ok || !res.body) {
      this.raw = await res.text();
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = '';
    this.done = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          this.raw += value;
          pending += value;
          let end: number;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            const frame = pending.slice(0, end);
            pending = pending.slice(end + 2);
            const e: SseEvent = {};
            for (const line of frame.split('\n')) {
              if (line.startsWith('id: ')) e.id = line.slice(4);
              else if (line.startsWith('event: ')) e.event = line.slice(7);
              else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
            }
            if (e.event) this.events.push(e);
          }
        }
      } catch {
        // aborted
      }
    })();
    await eventually(() => this.raw.includes(': connected'));
  }

  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

describe('in-app client API (/v1/client/:workspaceId)', () => {
  let engine: TestEngine;
  let store: EventStore;
  let conversations: ConversationsService;
  const streams: SseClient[] = [];
  const client = (path: string, customerId = 'ann', init: RequestInit & { tokenOf?: string } = {}) =>
    fetch(`${engine.url}/v1/client/${WS}${path}`, {
      ...init,
      headers: {
        'x-customer-id': customerId,
        'x-customer-token': init.tokenOf ?? token(customerId),
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...(init.headers as Record<string, string>),
      },
    });
  const post = (path: string, body: unknown, customerId = 'ann', tokenOf?: string) =>
    client(path, customerId, { method: 'POST', body: JSON.stringify(body), ...(tokenOf !== undefined && { tokenOf }) });
  const admin = (method: string, path: string, body: unknown) =>
    fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization: engine.auth.admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const streamOf = (customerId: string): Promise<RecordedEvent[]> => store.readStream(customerStreamId(WS, customerId));
  const openStream = async (customerId: string, headers: Record<string, string> = {}) => {
    const s = new SseClient();
    streams.push(s);
    const q = new URLSearchParams({ customerId, token: token(customerId) });
    await s.open(`${engine.url}/v1/client/${WS}/stream?${q}`, headers);
    return s;
  };
  async function deliverInbox(customerId: string, messageId: string, body: string): Promise<void> {
    const at = new Date().toISOString();
    await store.appendToStream(customerStreamId(WS, customerId), [
      envelope({
        id: `scheduled-${messageId}`,
        type: 'MessageScheduled',
        data: { messageId, channel: 'inbox', template: { subject: 'Welcome', body } },
        workspaceId: WS,
        customerId,
        occurredAt: at,
        recordedAt: at,
        source: 'test',
      }),
    ]);
  }

  beforeAll(async () => {
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
    conversations = engine.app.get(ConversationsService);
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await engine?.close();
  });

  it('refuses every call with 403 while the workspace has no identity secret', async () => {
    const res = await client('/inbox');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/in-app is not set up/);
  });

  it('is set up by an admin: the identity secret and the allowed origins', async () => {
    expect((await admin('PUT', '/v1/admin/workspace/secrets/inapp_identity', { value: SECRET })).status).toBe(204);
    const settings = await admin('PUT', '/v1/admin/workspace/settings', {
      inApp: { allowedOrigins: [ORIGIN], identitySecret: 'inapp_identity' },
    });
    expect(settings.status).toBe(200);
    await engine.app.get(OrganisationService).decide(WS, { type: 'DefineMember', member: { memberId: 'ann-agent', name: 'Ann Agent' } });
  });

  it("refuses a missing, forged or another customer's token with 401, and records nothing", async () => {
    const before = (await streamOf('ann')).length;
    const cases: Array<[string, Record<string, string>]> = [
      ['no token', { 'x-customer-id': 'ann' }],
      ['no customer id', { 'x-customer-token': token('ann') }],
      ['forged', { 'x-customer-id': 'ann', 'x-customer-token': token('ann', 'a-guessed-secret') }],
      ["bob's token", { 'x-customer-id': 'ann', 'x-customer-token': token('bob') }],
      ['not hex', { 'x-customer-id': 'ann', 'x-customer-token': 'x'.repeat(64) }],
      ['a server key instead', { 'x-customer-id': 'ann', authorization: engine.auth.admin }],
    ];
    for (const [what, headers] of cases) {
      for (const [method, path, body] of [
        ['GET', '/inbox', undefined],
        ['POST', '/conversations', { body: 'Let me in', clientMessageId: `forged-${what}` }],
        ['GET', '/stream', undefined],
      ] as const) {
        const res = await fetch(`${engine.url}/v1/client/${WS}${path}`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: body && JSON.stringify(body),
        });
        expect({ what, path, status: res.status }).toEqual({ what, path, status: 401 });
        expect(((await res.json()) as { message: string }).message).toMatch(/X-Customer-Token|customer token/);
      }
    }
    // the query form is for the stream only: a token in the URL of another endpoint is not read
    const q = new URLSearchParams({ customerId: 'ann', token: token('ann') });
    expect((await fetch(`${engine.url}/v1/client/${WS}/inbox?${q}`)).status).toBe(401);
    expect((await streamOf('ann')).length).toBe(before);
  });

  it('gives the customer its inbox, marks a message read, pushes new inbox messages live', async () => {
    const live = await openStream('ann');
    await deliverInbox('ann', 'welcome-1', 'Hi {{ customer.id }}, welcome');
    const inbox = await eventually(async () => {
      const body = (await (await client('/inbox')).json()) as { messages: Array<{ messageId: string; body: string; opened: boolean }> };
      expect(body.messages.map((m) => m.messageId)).toEqual(['welcome-1']);
      return body;
    });
    expect(inbox.messages[0]).toMatchObject({ body: 'Hi ann, welcome', opened: false });
    await eventually(() =>
      expect(live.of('MessageDelivered').map((e) => e.data)).toEqual([
        expect.objectContaining({ messageId: 'welcome-1', body: 'Hi ann, welcome' }),
      ]),
    );

    const read = await client('/inbox/welcome-1/read', 'ann', { method: 'POST' });
    expect(read.status).toBe(200);
    expect((await client('/inbox/nothing-like-it/read', 'ann', { method: 'POST' })).status).toBe(404);
    const after = (await (await client('/inbox')).json()) as { messages: Array<{ opened: boolean }> };
    expect(after.messages[0].opened).toBe(true);
    expect((await streamOf('ann')).filter((e) => e.type === 'MessageOpened')).toHaveLength(1);
    // another customer's inbox is its own
    expect(((await (await client('/inbox', 'bob')).json()) as { messages: unknown[] }).messages).toEqual([]);
  });

  let conversationId = '';

  it('records a reply to an inbox message once, however often the client retries it', async () => {
    const first = await post('/conversations', { body: 'How do I invite my team?', inReplyTo: 'welcome-1', clientMessageId: 'local-1' });
    expect(first.status).toBe(201);
    const written = (await first.json()) as { conversationId: string; messageId: string; duplicate: boolean };
    expect(written).toMatchObject({ duplicate: false });
    conversationId = written.conversationId;
    const again = await post('/conversations', { body: 'How do I invite my team?', inReplyTo: 'welcome-1', clientMessageId: 'local-1' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ...written, duplicate: true });
    // concurrent retries, too
    const racing = await Promise.all([1, 2, 3].map(() => post('/conversations', { body: 'Also: SSO?', clientMessageId: 'local-2' })));
    expect(new Set(await Promise.all(racing.map(async (r) => ((await r.json()) as { messageId: string }).messageId))).size).toBe(1);

    const replies = (await streamOf('ann')).filter((e) => e.type === 'CustomerReplied');
    expect(replies.map((e) => e.data.body)).toEqual(['How do I invite my team?', 'Also: SSO?']);
    expect(replies.every((e) => e.metadata.source === 'inbox' && e.data.channel === 'inbox')).toBe(true);
    const started = (await streamOf('ann')).filter((e) => e.type === 'ConversationStarted');
    expect(started.map((e) => e.data)).toEqual([expect.objectContaining({ conversationId, channel: 'inbox', inReplyTo: 'welcome-1' })]);

    // the same clientMessageId of another customer is another message
    const bobs = await post('/conversations', { body: 'Hello from Bob', clientMessageId: 'local-1' }, 'bob');
    expect(bobs.status).toBe(201);
    expect((await streamOf('bob')).filter((e) => e.type === 'CustomerReplied').map((e) => e.data.body)).toEqual(['Hello from Bob']);

    const inbox = (await (await client('/inbox')).json()) as { conversations: Array<Record<string, any>> };
    expect(inbox.conversations).toEqual([
      expect.objectContaining({
        conversationId,
        status: 'open',
        channel: 'inbox',
        inReplyTo: 'welcome-1',
        messages: [
          expect.objectContaining({
            messageId: written.messageId,
            from: 'customer',
            body: 'How do I invite my team?',
            clientMessageId: 'local-1',
          }),
          expect.objectContaining({ from: 'customer', body: 'Also: SSO?', clientMessageId: 'local-2' }),
        ],
      }),
    ]);
  });

  it("limits one customer's requests (429 past the burst) without slowing another customer", async () => {
    const statuses = await Promise.all(Array.from({ length: CUSTOMER_RATE_LIMIT.burst + 10 }, () => client('/inbox', 'greedy')));
    const codes = statuses.map((r) => r.status);
    expect(codes.filter((c) => c === 200).length).toBeLessThanOrEqual(CUSTOMER_RATE_LIMIT.burst + 1);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(9);
    expect((await client('/inbox', 'patient')).status).toBe(200);
  });

  it('answers bad input with a 400 or 404 naming what is wrong, and records nothing', async () => {
    const before = (await streamOf('ann')).length;
    const bad: Array<[unknown, number, RegExp]> = [
      [{}, 400, /^body: must be a non-empty string/],
      [{ body: '   ' }, 400, /^body: must be a non-empty string/],
      [{ body: 'x'.repeat(20_001) }, 400, /^body: at most 20000 characters/],
      [{ body: 'Hi', clientMessageId: 42 }, 400, /^clientMessageId: must be a non-empty string/],
      [{ body: 'Hi', to: 'someone' }, 400, /^to: unknown field/],
      [['Hi'], 400, /must be a JSON object/],
      [{ body: 'Hi', conversationId: 'not-mine' }, 404, /^conversationId: you have no conversation "not-mine"/],
      [{ body: 'Hi', inReplyTo: 'no-such-message' }, 404, /^inReplyTo: no message "no-such-message"/],
    ];
    for (const [body, status, message] of bad) {
      const res = await post('/conversations', body);
      const answer = (await res.json()) as { message: string };
      expect({ body, status: res.status, message: answer.message }).toEqual({ body, status, message: expect.stringMatching(message) });
    }
    // bob's conversation is not ann's to write in
    const bobs = (await (await client('/inbox', 'bob')).json()) as { conversations: Array<{ conversationId: string }> };
    expect((await post('/conversations', { body: 'Hi', conversationId: bobs.conversations[0].conversationId })).status).toBe(404);
    expect((await streamOf('ann')).length).toBe(before);
  });

  it('pushes agent replies and resolution on the open stream, never internal notes, and takes a rating', async () => {
    const live = await openStream('ann');
    await conversations.act(
      WS,
      'ann',
      conversationId,
      { type: 'AddNote', body: 'NOTE: she is on the legacy plan', by: 'ann-agent' },
      { source: 'test' },
    );
    await conversations.act(WS, 'ann', conversationId, { type: 'Reply', body: 'Settings, then Team', by: 'ann-agent' }, { source: 'test' });
    await conversations.act(
      WS,
      'ann',
      conversationId,
      { type: 'Reply', body: 'Anything else?', by: 'someone-removed' },
      { source: 'test' },
    );
    await eventually(() =>
      expect(live.of('AgentReplied').map((e) => e.data)).toEqual([
        { conversationId, message: expect.objectContaining({ from: 'agent', body: 'Settings, then Team', agent: 'Ann Agent' }) },
        { conversationId, message: expect.objectContaining({ from: 'agent', body: 'Anything else?', agent: 'Support' }) },
      ]),
    );
    await conversations.act(WS, 'ann', conversationId, { type: 'Resolve', by: 'ann-agent' }, { source: 'test' });
    await eventually(() =>
      expect(live.of('ConversationResolved').map((e) => e.data)).toEqual([expect.objectContaining({ conversationId, status: 'resolved' })]),
    );
    const positions = (await streamOf('ann')).map((e) => e.position.toString());
    expect(live.events.every((e) => e.id !== undefined && positions.includes(e.id))).toBe(true);

    const inbox = await (await client('/inbox')).text();
    for (const text of [inbox, live.raw]) {
      expect(text).not.toContain('legacy plan');
      expect(text).not.toContain('InternalNoteAdded');
      expect(text).not.toContain('ann-agent'); // member ids stay internal
    }
    const conversation = (
      JSON.parse(inbox) as { conversations: Array<{ conversationId: string; status: string; messages: Array<{ from: string }> }> }
    ).conversations.find((c) => c.conversationId === conversationId)!;
    expect(conversation.status).toBe('resolved');
    expect(conversation.messages.map((m) => m.from)).toEqual(['customer', 'customer', 'agent', 'agent']);

    expect((await post(`/conversations/${conversationId}/rating`, { score: 7 })).status).toBe(400);
    expect((await post(`/conversations/${conversationId}/rating`, { score: 5, comment: '' })).status).toBe(400);
    expect((await post('/conversations/not-mine/rating', { score: 5 })).status).toBe(404);
    const rated = await post(`/conversations/${conversationId}/rating`, { score: 5, comment: 'Quick and kind' });
    expect(rated.status).toBe(201);
    expect(await rated.json()).toEqual({ conversationId, rating: { score: 5, comment: 'Quick and kind' } });
    expect((await streamOf('ann')).filter((e) => e.type === 'SatisfactionRated').map((e) => e.data)).toEqual([
      { conversationId, score: 5, comment: 'Quick and kind' },
    ]);

    // a customer writing again reopens it, and the client is told
    expect((await post('/conversations', { body: 'One more thing', conversationId })).status).toBe(201);
    await eventually(() =>
      expect(live.of('ConversationReopened').map((e) => e.data)).toEqual([expect.objectContaining({ conversationId, status: 'open' })]),
    );
  });

  it('resumes a stream after Last-Event-ID with what it missed, and only its own customer', async () => {
    const first = (await streamOf('ann')).find((e) => e.type === 'AgentReplied')!;
    const resumed = await openStream('ann', { 'last-event-id': first.position.toString() });
    const bobs = await openStream('bob');
    await eventually(() =>
      expect(resumed.events.map((e) => e.event)).toEqual(['AgentReplied', 'ConversationResolved', 'ConversationReopened']),
    );
    expect(resumed.of('AgentReplied')[0].data).toMatchObject({ message: { body: 'Anything else?' } });
    await conversations.act(WS, 'ann', conversationId, { type: 'Reply', body: 'Sure, go ahead', by: 'ann-agent' }, { source: 'test' });
    await eventually(() => expect(resumed.of('AgentReplied')).toHaveLength(2));
    expect(bobs.events).toEqual([]);
    const bad = new SseClient();
    await bad.open(`${engine.url}/v1/client/${WS}/stream?${new URLSearchParams({ customerId: 'ann', token: token('ann') })}`, {
      'last-event-id': 'abc',
    });
    expect(bad.status).toBe(400);
  });

  it("answers CORS preflights from the workspace's allowed origins only", async () => {
    const preflight = (origin: string, workspace = WS) =>
      fetch(`${engine.url}/v1/client/${workspace}/conversations`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-customer-id,x-customer-token',
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/X-Customer-Token/);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // the same origin for a workspace that did not list it
    expect((await preflight(ORIGIN, 'another-workspace')).headers.get('access-control-allow-origin')).toBeNull();
    // the actual request carries the header too, for the allowed origin only
    const get = await client('/inbox', 'ann', { headers: { origin: ORIGIN } });
    expect(get.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(
      (await client('/inbox', 'ann', { headers: { origin: 'https://evil.example.com' } })).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it("never lets a workspace's token into another workspace", async () => {
    const res = await fetch(`${engine.url}/v1/client/another-workspace/inbox`, {
      headers: { 'x-customer-id': 'ann', 'x-customer-token': token('ann') },
    });
    expect(res.status).toBe(403);
  });
});
