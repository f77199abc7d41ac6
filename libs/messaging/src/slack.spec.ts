import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { customerStreamId, envelope, workspaceStreamId, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { ChannelNotConfigured, DeliveryError, type RenderedMessage } from './channel';
import {
  formatConversationRef,
  handoffRefOf,
  parseConversationRef,
  REPLY_BLOCK_PREFIX,
  SlackChannel,
  slackSignature,
  verifySlackSignature,
} from './slack';
import { TemplateRenderer } from './templates';
import { WorkspaceSettingsReader } from './workspace-settings';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = new Date('2026-12-04T12:00:00Z');
const ts = (d: Date) => String(Math.floor(d.getTime() / 1000));

describe('Slack request signature v0', () => {
  const rawBody = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D');
  const signed = (at: Date, body = rawBody) => ({ timestamp: ts(at), signature: slackSignature(SECRET, ts(at), body) });

  it("matches Slack's documented example", () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (the example request and its signature)
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature(SECRET, '1531420618', body)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  it('accepts a request signed with the signing secret within five minutes', () => {
    const { timestamp, signature } = signed(new Date(NOW.getTime() - 4 * 60_000));
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp, signature, rawBody, now: NOW })).toBeUndefined();
  });

  it('refuses a forged signature: another secret, or another body under the same signature', () => {
    const { timestamp } = signed(NOW);
    const forged = slackSignature('not-the-secret', timestamp, rawBody);
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp, signature: forged, rawBody, now: NOW })).toMatch(/does not match/);
    const { signature } = signed(NOW);
    const tampered = Buffer.from(rawBody.toString().replace('block_actions', 'block_actionz'));
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp, signature, rawBody: tampered, now: NOW })).toMatch(/does not match/);
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp, signature: undefined, rawBody, now: NOW })).toMatch(/missing/);
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp, signature: 'v1=abc', rawBody, now: NOW })).toMatch(/not a v0/);
  });

  it('refuses a stale timestamp, and one re-signed into the window is no longer the signature it had', () => {
    const old = signed(new Date(NOW.getTime() - 6 * 60_000));
    expect(verifySlackSignature({ signingSecret: SECRET, ...old, rawBody, now: NOW })).toMatch(/more than five minutes/);
    const future = signed(new Date(NOW.getTime() + 6 * 60_000));
    expect(verifySlackSignature({ signingSecret: SECRET, ...future, rawBody, now: NOW })).toMatch(/more than five minutes/);
    // a replay that moves the timestamp into the window keeps the old signature: it does not match
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp: ts(NOW), signature: old.signature, rawBody, now: NOW })).toMatch(
      /does not match/,
    );
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp: undefined, signature: old.signature, rawBody, now: NOW })).toMatch(
      /missing/,
    );
  });

  it('refuses a replay of a valid request once its five minutes are over', () => {
    const request = signed(NOW);
    expect(verifySlackSignature({ signingSecret: SECRET, ...request, rawBody, now: NOW })).toBeUndefined();
    const later = new Date(NOW.getTime() + 5 * 60_000 + 1000);
    expect(verifySlackSignature({ signingSecret: SECRET, ...request, rawBody, now: later })).toMatch(/stale or replayed/);
  });
});

describe('conversation references', () => {
  it('round-trips ids holding slashes and percent signs, and refuses what is not one', () => {
    const ref = { workspaceId: 'acme-eu', customerId: 'bob/2', conversationId: 'c%1' };
    expect(parseConversationRef(formatConversationRef(ref))).toEqual(ref);
    expect(parseConversationRef('a/b')).toBeUndefined();
    expect(parseConversationRef('a//c')).toBeUndefined();
    expect(parseConversationRef('a/%E0%A4%A/c')).toBeUndefined();
    expect(parseConversationRef(42)).toBeUndefined();
  });
});

function at(revision: number, event: JourneyEvent, streamId: string): RecordedEvent {
  return { ...event, streamId, revision: BigInt(revision), position: BigInt(revision + 1) } as RecordedEvent;
}

const event = (type: string, data: Record<string, unknown>, customerId = '') =>
  envelope({
    id: `${type}-${JSON.stringify(data)}`,
    type,
    data,
    workspaceId: 'acme',
    customerId,
    occurredAt: NOW.toISOString(),
    recordedAt: NOW.toISOString(),
    source: 'test',
  });

/** A store holding the given streams (readStream only). */
function storeOf(streams: Record<string, JourneyEvent[]>) {
  return {
    readStream: async (id: string, options?: { fromRevision?: bigint }) =>
      (streams[id] ?? []).map((e, i) => at(i, e, id)).filter((e) => e.revision >= (options?.fromRevision ?? 0n)),
  };
}

describe('SlackChannel', () => {
  let server: Server;
  let url: string;
  const received: Array<{ headers: IncomingHttpHeaders; body: any }> = [];
  let status = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(raw) });
        res.writeHead(status).end(status === 200 ? 'ok' : 'invalid_payload');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/xyz`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const settings = (withUrl: boolean) => [
    event('WorkspaceSettingsChanged', { settings: { slack: { webhookUrl: 'slack_hook', signingSecret: 'slack_signing' } } }),
    ...(withUrl ? [event('WorkspaceSecretSet', { name: 'slack_hook', value: url })] : []),
  ];
  const conversation = [
    event('ConversationStarted', { conversationId: 'conv-1', channel: 'inbox' }, 'bob'),
    event('CustomerReplied', { conversationId: 'conv-1', messageId: 'cm-1', channel: 'inbox', body: 'I cannot log in' }, 'bob'),
    event('ConversationAssigned', { conversationId: 'conv-1', team: 'support', priority: 'high', reason: 'queued' }, 'bob'),
  ];
  const message: RenderedMessage = {
    messageId: 'm-1',
    channel: 'slack',
    workspaceId: 'acme',
    customerId: 'bob',
    conversationId: 'conv-1',
    body: 'Handoff: bob wrote "I cannot log in" <!channel>',
    traits: {},
  };
  const ctx = { idempotencyKey: 'm-1', attempt: 1, signal: new AbortController().signal };

  it('posts a Block Kit handoff to the incoming webhook: the text, the context line, Take it / Open and the reply input', async () => {
    const store = storeOf({ [workspaceStreamId('acme')]: settings(true), [customerStreamId('acme', 'bob')]: conversation });
    const channel = new SlackChannel({ settings: new WorkspaceSettingsReader(store), store });
    await expect(channel.send(message, ctx)).resolves.toEqual({ detail: 'HTTP 200' });
    const { body, headers } = received.at(-1)!;
    expect(headers['content-type']).toBe('application/json');
    const ref = 'acme/bob/conv-1';
    expect(body).toEqual({
      text: 'Handoff: bob wrote "I cannot log in" &lt;!channel&gt;',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'Handoff: bob wrote "I cannot log in" &lt;!channel&gt;' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Customer *bob*  ·  Team *support*  ·  Priority *high*' }] },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'take', style: 'primary', text: { type: 'plain_text', text: 'Take it' }, value: ref },
            { type: 'button', action_id: 'open', text: { type: 'plain_text', text: 'Open' }, value: ref },
          ],
        },
        {
          type: 'input',
          block_id: `${REPLY_BLOCK_PREFIX}${ref}`,
          dispatch_action: true,
          optional: true,
          label: { type: 'plain_text', text: 'Reply to the customer' },
          element: {
            type: 'plain_text_input',
            action_id: 'reply',
            multiline: false,
            dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] },
          },
        },
      ],
    });
    expect(handoffRefOf(body.blocks)).toEqual({ workspaceId: 'acme', customerId: 'bob', conversationId: 'conv-1' });
  });

  it('posts an alert without a conversation as text and context only', async () => {
    const store = storeOf({ [workspaceStreamId('acme')]: settings(true) });
    const channel = new SlackChannel({ settings: new WorkspaceSettingsReader(store), store });
    const { conversationId: _c, ...alert } = message;
    await channel.send({ ...alert, body: 'SLA breached' }, ctx);
    expect(received.at(-1)!.body.blocks.map((b: { type: string }) => b.type)).toEqual(['section', 'context']);
  });

  it('is not configured without the webhook URL secret (rendering says so), and a 4xx from Slack is a permanent failure', async () => {
    const unset = storeOf({ [workspaceStreamId('acme')]: settings(false) });
    const channel = new SlackChannel({ settings: new WorkspaceSettingsReader(unset), store: unset });
    const input = { workspaceId: 'acme', customerId: 'bob', templates: new TemplateRenderer() };
    const scope = { customer: { id: 'bob', traits: {} }, event: {} };
    await expect(channel.render({ body: 'x' }, scope, input)).rejects.toThrow(ChannelNotConfigured);
    await expect(channel.render({ body: 'x' }, scope, input)).rejects.toThrow(
      /names the secret "slack_hook", which workspace "acme" has not set/,
    );
    await expect(channel.render({ body: 'x' }, scope, { ...input, workspaceId: 'other' })).rejects.toThrow(
      /has no setting slack.webhookUrl/,
    );

    const store = storeOf({ [workspaceStreamId('acme')]: settings(true) });
    status = 404;
    try {
      const error = await new SlackChannel({ settings: new WorkspaceSettingsReader(store), store }).send(message, ctx).catch((e) => e);
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ retryable: false, message: 'slack answered HTTP 404: invalid_payload' });
      status = 500;
      const again = await new SlackChannel({ settings: new WorkspaceSettingsReader(store), store }).send(message, ctx).catch((e) => e);
      expect(again).toMatchObject({ retryable: true });
    } finally {
      status = 200;
    }
  });
});
