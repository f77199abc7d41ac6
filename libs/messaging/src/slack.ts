import { createHmac, timingSafeEqual } from 'node:crypto';
import { conversationsFromStream, customerStreamId } from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import { ChannelNotConfigured, DeliveryError, type Channel, type RenderedMessage, type RenderInput, type SendContext } from './channel';
import { httpCall } from './http-call';
import type { MessageTemplate, TemplateScope } from './templates';
import type { WorkspaceSettingsReader } from './workspace-settings';

/**
 * The reference a handoff post carries to its conversation: `<workspace>/<customer>/<conversation>`, each part
 * URI-encoded (so a `/` in an id stays inside its part). It is the value of the "Take it" and "Open" buttons and the
 * suffix of the reply input's block_id, which is how Slack's interactivity payloads name the conversation back.
 */
export interface ConversationRef {
  workspaceId: string;
  customerId: string;
  conversationId: string;
}

export const formatConversationRef = (r: ConversationRef): string =>
  [r.workspaceId, r.customerId, r.conversationId].map(encodeURIComponent).join('/');

export function parseConversationRef(value: unknown): ConversationRef | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = value.split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  try {
    const [workspaceId, customerId, conversationId] = parts.map(decodeURIComponent);
    return { workspaceId, customerId, conversationId };
  } catch {
    return undefined;
  }
}

/** The block id of a handoff post's reply input: `journey-reply:<ref>` (Slack allows 255 characters; longer: no input). */
export const REPLY_BLOCK_PREFIX = 'journey-reply:';
const MAX_BLOCK_ID = 255;

/** The conversation a message's blocks name (the value of its "Take it" button): how a post Slack delivers back is known. */
export function handoffRefOf(blocks: unknown): ConversationRef | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const block of blocks as Array<{ type?: unknown; elements?: unknown }>) {
    if (block?.type !== 'actions' || !Array.isArray(block.elements)) continue;
    const take = (block.elements as Array<{ action_id?: unknown; value?: unknown }>).find((e) => e?.action_id === 'take');
    if (take) return parseConversationRef(take.value);
  }
  return undefined;
}

/** What the post says besides the text: the customer, the conversation's team, priority and assignee. */
export interface HandoffContext {
  customerId: string;
  team?: string;
  priority?: string;
  assignee?: string;
}

type Block = Record<string, unknown>;

/** Slack's mrkdwn escapes: `&`, `<` and `>` (so a customer's text cannot mention @channel or forge a link). */
export const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The Block Kit payload: a section with the text, a context line (customer, team, priority), and for a conversation
 * (a handoff, an SLA alert on one) the buttons "Take it" (`take`) and "Open" (`open`), both valued with the
 * conversation's reference, and a reply input (`reply`, dispatching on Enter, its block id naming the conversation)
 * whose text becomes the member's answer.
 */
export function slackBlocks(text: string, context: HandoffContext, ref?: ConversationRef): { text: string; blocks: Block[] } {
  const line = [
    `Customer *${slackEscape(context.customerId)}*`,
    context.team && `Team *${slackEscape(context.team)}*`,
    context.priority && `Priority *${slackEscape(context.priority)}*`,
    context.assignee && `Assigned to *${slackEscape(context.assignee)}*`,
  ].filter(Boolean);
  // Escaped: a customer's words quoted in a handoff cannot @-mention the channel or forge a link. Slack's limits: a
  // section's text is at most 3000 characters, the notification text 40000.
  const escaped = slackEscape(text);
  const shown = escaped.length > 3000 ? `${escaped.slice(0, 2990)}…` : escaped;
  const blocks: Block[] = [
    { type: 'section', text: { type: 'mrkdwn', text: shown } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: line.join('  ·  ') }] },
  ];
  if (ref) {
    const value = formatConversationRef(ref);
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'take', style: 'primary', text: { type: 'plain_text', text: 'Take it' }, value },
        { type: 'button', action_id: 'open', text: { type: 'plain_text', text: 'Open' }, value },
      ],
    });
    if (REPLY_BLOCK_PREFIX.length + value.length <= MAX_BLOCK_ID)
      blocks.push({
        type: 'input',
        block_id: `${REPLY_BLOCK_PREFIX}${value}`,
        dispatch_action: true,
        optional: true,
        label: { type: 'plain_text', text: 'Reply to the customer' },
        element: {
          type: 'plain_text_input',
          action_id: 'reply',
          multiline: false,
          dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] },
        },
      });
  }
  return { text: escaped.slice(0, 40_000), blocks };
}

export interface SlackChannelOptions {
  settings: WorkspaceSettingsReader;
  /** To read the conversation's team, priority and assignee for the context line. */
  store: Pick<EventStore, 'readStream'>;
  timeoutMs?: number;
}

/**
 * Posts handoffs and SLA alerts (MessageScheduled { channel: 'slack', conversationId?, template }) to the workspace's
 * Slack incoming webhook: the URL is the secret the setting `slack.webhookUrl` names. Without it the message is
 * suppressed as `unknown-channel` (naming what is missing). Answers are classified as the webhook channel's: 5xx, 408,
 * 429 and network errors retried, other 4xx (Slack's `invalid_payload`, `channel_not_found`, ...) failed.
 */
export class SlackChannel implements Channel {
  readonly name = 'slack';
  private readonly timeoutMs: number;

  constructor(private readonly options: SlackChannelOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async render(template: MessageTemplate, scope: TemplateScope, input: RenderInput): Promise<MessageTemplate> {
    const url = await this.options.settings.slackSecret(input.workspaceId, 'webhookUrl');
    if ('missing' in url) throw new ChannelNotConfigured(`slack is not configured: ${url.missing}`);
    return input.templates.render(template, scope);
  }

  async send(message: RenderedMessage, ctx: SendContext): Promise<{ detail?: string }> {
    const url = await this.options.settings.slackSecret(message.workspaceId, 'webhookUrl');
    if ('missing' in url) throw new DeliveryError(`slack is not configured: ${url.missing}`, false);
    if (!/^https?:\/\//i.test(url.value)) throw new DeliveryError('slack: the webhook URL secret is not an http(s) URL', false);
    let context: HandoffContext = { customerId: message.customerId };
    let ref: ConversationRef | undefined;
    if (message.conversationId !== undefined) {
      const events = await this.options.store.readStream(customerStreamId(message.workspaceId, message.customerId));
      const conversation = conversationsFromStream(events).get(message.conversationId);
      context = { ...context, team: conversation?.team, priority: conversation?.priority, assignee: conversation?.assignee };
      ref = { workspaceId: message.workspaceId, customerId: message.customerId, conversationId: message.conversationId };
    }
    const body = JSON.stringify(slackBlocks(message.body, context, ref));
    return httpCall(
      url.value,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      {
        what: 'slack',
        timeoutMs: this.timeoutMs,
        signal: ctx.signal,
      },
    );
  }
}

/** Slack's request signature v0: `v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>">` with the app's signing secret. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/** How far a request's `X-Slack-Request-Timestamp` may be from now (Slack's advice: five minutes). */
export const SLACK_TIMESTAMP_WINDOW_S = 5 * 60;

/**
 * Why a request does not carry a valid Slack signature (undefined: it does): the timestamp must be within five minutes
 * of `now` (a replay of an older request is stale), the signature the HMAC of exactly these bytes, compared in constant time.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  now: Date;
}): string | undefined {
  const { signingSecret, timestamp, signature, rawBody, now } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return 'X-Slack-Request-Timestamp is missing or not a Unix time';
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_WINDOW_S)
    return 'X-Slack-Request-Timestamp is more than five minutes from now (a stale or replayed request)';
  if (!signature || !/^v0=[0-9a-f]{64}$/.test(signature)) return 'X-Slack-Signature is missing or not a v0 signature';
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'X-Slack-Signature does not match the request';
  return undefined;
}
