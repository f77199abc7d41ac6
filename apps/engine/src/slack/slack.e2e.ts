import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { customerStreamId, envelope, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { slackSignature } from '@journey/messaging';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ConversationsService } from '../conversations/conversations.service';
import { OrganisationService } from '../conversations/organisation.service';

const WS = 'default';
const SIGNING_SECRET = 'e2e-slack-signing-secret-1234567890';
const CRM_TOKEN = 'crm-token-VERY-SECRET-42';

/** A local HTTP server recording what it is sent (the Slack incoming webhook, a CRM). */
async function receiver(): Promise<{
  server: Server;
  url: string;
  got: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }>;
}> {
  const got: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

describe('Slack: the channel, interactivity and the Events API, signed the way Slack signs', () => {
  let engine: TestEngine;
  let store: EventStore;
  let slackHook: Awaited<ReturnType<typeof receiver>>;
  let crm: Awaited<ReturnType<typeof receiver>>;
  let conversationId: string;
  const stream = customerStreamId(WS, 'bob');
  const ref = () => `${WS}/bob/${conversationId}`;
  const events = () => store.readStream(stream);
  const ofType = async (type: string) => (await events()).filter((e) => e.type === type);

  const admin = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization: engine.auth.admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
  };

  /** Posts to /v1/slack/<ws>/<path> as Slack does: the raw body signed with `v0:<ts>:<body>`. */
  async function slack(
    path: 'interactivity' | 'events',
    body: string,
    options: { secret?: string; at?: Date; headers?: Record<string, string>; workspace?: string } = {},
  ) {
    const timestamp = String(Math.floor((options.at ?? new Date()).getTime() / 1000));
    const res = await fetch(`${engine.url}/v1/slack/${options.workspace ?? WS}/${path}`, {
      method: 'POST',
      headers: {
        'content-type': path === 'interactivity' ? 'application/x-www-form-urlencoded' : 'application/json',
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(options.secret ?? SIGNING_SECRET, timestamp, body),
        ...options.headers,
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }
  const form = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const action = (user: string, a: Record<string, unknown>) => ({
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: 'T0' },
    team: { id: 'T0', domain: 'acme' },
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0HANDOFF' },
    trigger_id: '123.456.abc',
    response_url: 'https://hooks.slack.com/actions/T0/1/xyz',
    actions: [{ type: 'button', block_id: 'b1', action_ts: `${Date.now() / 1000}`, ...a }],
  });
  const callback = (eventId: string, event: Record<string, unknown>) =>
    JSON.stringify({
      token: 'x',
      team_id: 'T0',
      api_app_id: 'A0',
      type: 'event_callback',
      event_id: eventId,
      event_time: 1700000000,
      event,
    });

  async function schedule(messageId: string, data: Record<string, unknown>, workspace = WS) {
    const now = new Date().toISOString();
    await store.appendToStream(customerStreamId(workspace, 'bob'), [
      envelope({
        id: `e2e-${messageId}`,
        type: 'MessageScheduled',
        data: { messageId, ...data },
        workspaceId: workspace,
        customerId: 'bob',
        occurredAt: now,
        recordedAt: now,
        source: 'test',
      }),
    ]);
  }
  const outcome = (messageId: string, workspace = WS) =>
    eventually(async () => {
      const found = (await store.readStream(customerStreamId(workspace, 'bob'))).find(
        (e) =>
          ['MessageDelivered', 'MessageFailed', 'MessageSuppressed'].includes(e.type) &&
          (e.data as { messageId: string }).messageId === messageId,
      );
      if (!found) throw new Error(`no outcome for ${messageId} yet`);
      return found;
    });

  beforeAll(async () => {
    slackHook = await receiver();
    crm = await receiver();
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
    await admin('PUT', '/v1/admin/workspace/settings', { slack: { webhookUrl: 'slack_hook', signingSecret: 'slack_signing' } });
    await admin('PUT', '/v1/admin/workspace/secrets/slack_hook', { value: `${slackHook.url}/services/T0/B0/hook` });
    await admin('PUT', '/v1/admin/workspace/secrets/slack_signing', { value: SIGNING_SECRET });
    await admin('PUT', '/v1/admin/workspace/secrets/crm_token', { value: CRM_TOKEN });
    const organisation = engine.app.get(OrganisationService);
    await organisation.decide(WS, { type: 'DefineMember', member: { memberId: 'ana', name: 'Ana', teams: [], slackUserId: 'U_ANA' } });
    await organisation.decide(WS, { type: 'DefineMember', member: { memberId: 'ben', name: 'Ben', teams: [], slackUserId: 'U_BEN' } });
    const conversations = engine.app.get(ConversationsService);
    const started = await conversations.receive(WS, 'bob', { channel: 'inbox', body: 'I cannot log in', providerId: 'p-1' }, 'test');
    conversationId = started.conversation.conversationId;
    await conversations.act(
      WS,
      'bob',
      conversationId,
      { type: 'Assign', team: 'support', priority: 'high', reason: 'queued' },
      { source: 'test' },
    );
  });
  afterAll(async () => {
    await engine?.close();
    for (const r of [slackHook, crm]) await new Promise((done) => r?.server.close(done));
  });

  it('posts a handoff to the incoming webhook as Block Kit: text, context line, Take it / Open and a reply input', async () => {
    await schedule('handoff-1', { channel: 'slack', conversationId, template: { body: 'Handoff: {{ customer.id }} needs a person' } });
    expect((await outcome('handoff-1')).type).toBe('MessageDelivered');
    const post = slackHook.got.find((g) => g.url === '/services/T0/B0/hook')!;
    const body = JSON.parse(post.body);
    expect(body.text).toBe('Handoff: bob needs a person');
    expect(body.blocks[1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Customer *bob*  ·  Team *support*  ·  Priority *high*' }],
    });
    expect(body.blocks[2].elements.map((e: any) => [e.action_id, e.text.text, e.value])).toEqual([
      ['take', 'Take it', ref()],
      ['open', 'Open', ref()],
    ]);
    expect(body.blocks[3]).toMatchObject({ type: 'input', block_id: `journey-reply:${ref()}`, element: { action_id: 'reply' } });
  });

  it('suppresses a Slack message of a workspace without the Slack settings, saying what is missing', async () => {
    await schedule('handoff-other', { channel: 'slack', template: { body: 'x' } }, 'other');
    expect((await outcome('handoff-other', 'other')).data).toMatchObject({
      reason: 'unknown-channel',
      detail: 'slack is not configured: the workspace "other" has no setting slack.webhookUrl',
    });
  });

  it('answers the Events API URL check', async () => {
    expect(await slack('events', JSON.stringify({ token: 'x', challenge: 'ch4ll3ng3', type: 'url_verification' }))).toEqual({
      status: 200,
      body: { challenge: 'ch4ll3ng3' },
    });
  });

  it('refuses forged, stale, unsigned and other-workspace requests with 401, changing nothing', async () => {
    const before = (await events()).map((e) => e.id);
    const take = form(action('U_BEN', { action_id: 'take', value: ref() }));
    expect((await slack('interactivity', take, { secret: 'a-forged-secret' })).status).toBe(401);
    expect((await slack('interactivity', take, { at: new Date(Date.now() - 6 * 60_000) })).status).toBe(401);
    expect((await slack('interactivity', take, { headers: { 'x-slack-signature': '' } })).status).toBe(401);
    // signed for this workspace, sent to another: that one has no signing secret
    expect((await slack('interactivity', take, { workspace: 'other' })).status).toBe(401);
    const reply = callback('EvForged', {
      type: 'message',
      user: 'U_ANA',
      text: 'forged',
      ts: '1.2',
      thread_ts: '1700000000.000100',
      channel: 'C0HANDOFF',
    });
    expect((await slack('events', reply, { secret: 'a-forged-secret' })).status).toBe(401);
    // the body changed after signing
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(`${engine.url}/v1/slack/${WS}/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, reply),
      },
      body: reply.replace('forged', 'tampered'),
    });
    expect(res.status).toBe(401);
    expect((await events()).map((e) => e.id)).toEqual(before);
  });

  it('answers an unknown Slack user 200 with a text saying why, and changes nothing', async () => {
    const before = (await events()).map((e) => e.id);
    const res = await slack('interactivity', form(action('U_STRANGER', { action_id: 'take', value: ref() })));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/U_STRANGER\) is not linked to a member/) });
    const { user: _user, ...anonymous } = action('U_ANA', { action_id: 'take', value: ref() });
    const nobody = await slack('interactivity', form(anonymous));
    expect(nobody).toMatchObject({ status: 200, body: { text: expect.stringMatching(/is not linked to a member/) } });
    expect((await events()).map((e) => e.id)).toEqual(before);
  });

  it('"Take it" assigns the conversation to the member who clicked, once however often Slack delivers it', async () => {
    const take = form(action('U_BEN', { action_id: 'take', value: ref(), action_ts: '1700000100.000001' }));
    expect(await slack('interactivity', take)).toEqual({ status: 200, body: {} });
    expect(await slack('interactivity', take, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })).toEqual({
      status: 200,
      body: {},
    });
    // Ana takes it over; then Slack delivers Ben's click once more: it was recorded, so it does not take it back
    expect(
      (await slack('interactivity', form(action('U_ANA', { action_id: 'take', value: ref(), action_ts: '1700000101.000001' })))).status,
    ).toBe(200);
    expect((await slack('interactivity', take, { headers: { 'x-slack-retry-num': '2' } })).status).toBe(200);
    expect((await events()).filter((e) => e.type === 'ConversationAssigned').at(-1)!.data).toMatchObject({ assignee: 'ana' });
    // a new click of Ben's is a new action
    expect(
      (await slack('interactivity', form(action('U_BEN', { action_id: 'take', value: ref(), action_ts: '1700000102.000001' })))).status,
    ).toBe(200);
    const assigned = (await ofType('ConversationAssigned')).filter((e) => (e.data as { reason: string }).reason === 'manual');
    expect(assigned.map((e) => e.data)).toEqual(
      ['ben', 'ana', 'ben'].map((member) => ({
        conversationId,
        team: 'support',
        assignee: member,
        priority: 'high',
        by: member,
        reason: 'manual',
      })),
    );
    expect(assigned.map((e) => e.metadata.source)).toEqual(['slack', 'slack', 'slack']);
  });

  it("a reply in the handoff thread is the member's AgentReplied, recorded once when Slack retries the event", async () => {
    const post = JSON.parse(slackHook.got.find((g) => g.url === '/services/T0/B0/hook')!.body);
    // Slack delivers the post itself (the app's bot message): its thread is linked to the conversation
    const echo = callback('EvPost', {
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B0',
      text: post.text,
      blocks: post.blocks,
      ts: '1700000000.000100',
      channel: 'C0HANDOFF',
    });
    expect((await slack('events', echo)).status).toBe(200);
    expect((await slack('events', echo, { headers: { 'x-slack-retry-num': '1' } })).status).toBe(200);
    const reply = callback('Ev0REPLY1', {
      type: 'message',
      user: 'U_ANA',
      text: 'Try resetting your password from the login page',
      ts: '1700000050.000200',
      thread_ts: '1700000000.000100',
      parent_user_id: 'U0BOT',
      channel: 'C0HANDOFF',
      channel_type: 'channel',
    });
    expect((await slack('events', reply)).status).toBe(200);
    expect((await slack('events', reply, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })).status).toBe(
      200,
    );
    await Promise.all([
      slack('events', reply, { headers: { 'x-slack-retry-num': '2' } }),
      slack('events', reply, { headers: { 'x-slack-retry-num': '3' } }),
    ]);
    const replies = await ofType('AgentReplied');
    expect(replies.map((e) => e.data)).toEqual([
      {
        conversationId,
        messageId: expect.any(String),
        channel: 'inbox',
        body: 'Try resetting your password from the login page',
        by: 'ana',
      },
    ]);
    // a message in another thread, or not in a thread, is nobody's reply
    await slack(
      'events',
      callback('EvOther', {
        type: 'message',
        user: 'U_ANA',
        text: 'lunch?',
        ts: '1700000060.1',
        thread_ts: '1600000000.1',
        channel: 'C0HANDOFF',
      }),
    );
    await slack(
      'events',
      callback('EvTop', { type: 'message', user: 'U_ANA', text: 'hello all', ts: '1700000061.1', channel: 'C0HANDOFF' }),
    );
    expect(await ofType('AgentReplied')).toHaveLength(1);
  });

  it('the reply input of the post answers the customer as the member', async () => {
    const typed = action('U_BEN', {
      type: 'plain_text_input',
      action_id: 'reply',
      block_id: `journey-reply:${ref()}`,
      value: 'I reset it for you',
      action_ts: '1700000200.5',
    });
    expect((await slack('interactivity', form(typed))).status).toBe(200);
    await slack('interactivity', form(typed));
    const replies = (await ofType('AgentReplied')).filter((e) => (e.data as { by: string }).by === 'ben');
    expect(replies.map((e) => (e.data as { body: string }).body)).toEqual(['I reset it for you']);
  });

  it('"Open" answers with the conversation so far; an action on a resolved conversation says why it was refused', async () => {
    const open = await slack('interactivity', form(action('U_ANA', { action_id: 'open', value: ref() })));
    expect(open.body.text).toMatch(
      /^Conversation with bob: open, assigned to ben, team support, priority high\nCustomer: I cannot log in\nana: Try resetting/,
    );
    await engine.app.get(ConversationsService).act(WS, 'bob', conversationId, { type: 'Resolve', by: 'ben' }, { source: 'test' });
    const late = await slack('interactivity', form(action('U_ANA', { action_id: 'take', value: ref(), action_ts: '1700000300.1' })));
    expect(late).toMatchObject({ status: 200, body: { text: expect.stringMatching(/^Could not take it: .*resolved/) } });
  });

  it('sends a templated webhook step with a secret in a header and a Liquid body; no stored event holds the secret', async () => {
    await schedule('crm-1', {
      channel: 'http',
      template: { body: '{"contact": "{{ customer.id }}", "note": "handoff"}' },
      request: {
        url: `${crm.url}/api/contacts/{{ customer.id }}`,
        method: 'POST',
        headers: { Authorization: 'Bearer {{ secrets.crm_token }}' },
      },
    });
    expect((await outcome('crm-1')).type).toBe('MessageDelivered');
    const call = crm.got.at(-1)!;
    expect(call).toMatchObject({
      method: 'POST',
      url: '/api/contacts/bob',
      headers: { authorization: `Bearer ${CRM_TOKEN}`, 'idempotency-key': 'crm-1' },
    });
    expect(JSON.parse(call.body)).toEqual({ contact: 'bob', note: 'handoff' });
    expect(JSON.stringify((await events()).map((e) => [e.data, e.metadata]))).not.toContain(CRM_TOKEN);

    await schedule('crm-2', {
      channel: 'http',
      template: { body: 'x' },
      request: { url: 'file:///etc/{{ customer.id }}', method: 'POST' },
    });
    const refused = (await outcome('crm-2')) as RecordedEvent;
    expect(refused.type).toBe('MessageFailed');
    expect((refused.data as { error: string }).error).toMatch(/only http and https URLs are called; this one renders to scheme "file"/);

    await schedule('crm-3', {
      channel: 'http',
      template: { body: 'x' },
      request: { url: `${crm.url}/`, method: 'POST', headers: { 'X-Key': '{{ secrets.never_set }}' } },
    });
    expect((await outcome('crm-3')).data).toMatchObject({
      reason: 'template-error',
      detail: expect.stringMatching(/^headers.X-Key: .*never_set/),
    });
  });
});
