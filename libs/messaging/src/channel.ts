import type { Logger } from 'pino';
import type { EventDataByType, Traits } from '@journey/domain';
import type { MessageTemplate, TemplateRenderer, TemplateScope } from './templates';

/** A templated webhook step's request (MessageScheduled.request), its URL and header values rendered. */
export type HttpRequestSpec = NonNullable<EventDataByType['MessageScheduled']['request']>;

/** A message ready for a channel: the template rendered for one customer. */
export interface RenderedMessage {
  messageId: string;
  channel: string;
  workspaceId: string;
  customerId: string;
  /** Recipient address: MessageScheduled.to, else the customer's `email` trait (for email). */
  to?: string;
  subject?: string;
  body: string;
  traits: Traits;
  /** MessageScheduled.conversationId: the conversation it belongs to (email threads it, Slack posts its buttons). */
  conversationId?: string;
  /** The templated webhook step's request, rendered by its channel (`http`): never stored, it may hold secrets. */
  request?: HttpRequestSpec;
}

/** What a channel that renders its own messages (`Channel.render`) is given besides the template and the scope. */
export interface RenderInput {
  workspaceId: string;
  customerId: string;
  conversationId?: string;
  request?: HttpRequestSpec;
  /** The dispatcher's renderer: the bounds of every template. */
  templates: TemplateRenderer;
}

export interface SendContext {
  /** The same for every attempt of one message (its messageId): receivers dedupe retries by it. */
  idempotencyKey: string;
  attempt: number;
  /** Aborted when the dispatcher stops: the attempt's outcome is then unknown and it is sent again after a restart. */
  signal: AbortSignal;
}

/**
 * The channel port. `send` resolves when the channel accepted the message and rejects with a `DeliveryError` saying
 * whether trying again may help; any other error counts as retryable.
 */
export interface Channel {
  readonly name: string;
  /** True when delivery is the MessageDelivered event itself (the in-app inbox): the rendered content is kept on it. */
  readonly deliveredInLog?: boolean;
  send(message: RenderedMessage, ctx: SendContext): Promise<{ detail?: string }>;
  /**
   * Renders the message instead of the dispatcher (which renders `template` with the scope): for channels that add to
   * the scope (the `http` channel's `secrets`) or render more than the body. A TemplateError suppresses the message
   * (`template-error`), a ChannelNotConfigured suppresses it as `unknown-channel`.
   */
  render?(template: MessageTemplate, scope: TemplateScope, input: RenderInput): Promise<MessageTemplate & { request?: HttpRequestSpec }>;
}

/** The channel exists but the message's workspace has not configured it (Slack without its webhook URL secret). */
export class ChannelNotConfigured extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelNotConfigured';
  }
}

/**
 * Every channel a trigger's `send.channel` may name (deploying another is a 400). `webhook` and `email` need
 * configuration, `slack` the workspace's `slack.webhookUrl` setting; a message for one that is not configured is
 * suppressed as `unknown-channel`. The `http` channel is not named by a `send`: a trigger's templated `webhook` step
 * schedules its messages (MessageScheduled.request).
 */
export const CHANNEL_NAMES: readonly string[] = ['email', 'inbox', 'log', 'slack', 'webhook'];

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** HTTP: 5xx, 408 (timeout) and 429 (rate limited) may pass later; other 4xx will not. */
export function isRetryableHttpStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The in-app inbox: the MessageDelivered event is the delivery; `GET /v1/customers/:id/inbox` reads it back. */
export class InboxChannel implements Channel {
  readonly name = 'inbox';
  readonly deliveredInLog = true;

  async send(): Promise<{ detail?: string }> {
    return { detail: 'stored in the customer inbox' };
  }
}

/** Writes the message as a structured log line: for development and dry runs. */
export class LogChannel implements Channel {
  readonly name = 'log';

  constructor(private readonly logger: Pick<Logger, 'info'>) {}

  async send(message: RenderedMessage, ctx: SendContext): Promise<{ detail?: string }> {
    const { messageId, workspaceId, customerId, to, subject, body } = message;
    this.logger.info({ channel: 'log', messageId, workspaceId, customerId, to, subject, body, attempt: ctx.attempt }, 'message');
    return { detail: 'logged' };
  }
}
