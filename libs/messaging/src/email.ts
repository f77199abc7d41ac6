import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, type Channel, type RenderedMessage, type SendContext } from './channel';

export interface EmailOptions {
  /** e.g. `smtp://user:pass@host:587` or `smtps://host:465`. */
  smtpUrl: string;
  from: string;
  /** Domain part of the Message-ID header. */
  messageIdDomain?: string;
  timeoutMs?: number;
  /**
   * Threading headers of a message (its workspace's reply address, the Message-IDs it answers); the engine reads them
   * from the workspace settings and the conversation. A failure is the attempt's failure (retried).
   */
  threading?: (message: RenderedMessage) => Promise<EmailThreading | undefined>;
}

/** How an email is threaded: its Message-ID's domain, where replies go, what it answers. */
export interface EmailThreading {
  /** Domain of the Message-ID (default: `messageIdDomain`, else `journey-engine`). */
  messageIdDomain?: string;
  /** `reply+<token>@<replyDomain>`: replies reach the conversation. */
  replyTo?: string;
  /** The customer's last Message-ID in the conversation. */
  inReplyTo?: string;
  references?: string[];
}

/**
 * Email over SMTP (nodemailer). The Message-ID header is derived from the messageId (`<messageId@domain>`), so every
 * attempt of one message carries the same Message-ID and a retry is recognisable downstream. Recipient:
 * MessageScheduled.to, else the customer's `email` trait; no recipient is a permanent failure. With `threading`, a
 * Reply-To (the workspace's per-conversation reply address) and In-Reply-To / References (the customer's mail it
 * answers), so the customer's mail client threads the answer and the reply comes back into the conversation.
 */
export class EmailChannel implements Channel {
  readonly name = 'email';
  private readonly transport: Transporter;

  constructor(private readonly options: EmailOptions) {
    const timeout = options.timeoutMs ?? 30_000;
    this.transport = nodemailer.createTransport({
      url: options.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(message: RenderedMessage, ctx: SendContext): Promise<{ detail?: string }> {
    const to = message.to ?? (typeof message.traits.email === 'string' ? message.traits.email : undefined);
    if (!to) throw new DeliveryError('no recipient: the message has no "to" and the customer has no "email" trait', false);
    const thread = (await this.options.threading?.(message)) ?? {};
    const domain = thread.messageIdDomain ?? this.options.messageIdDomain ?? 'journey-engine';
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to,
        subject: message.subject ?? '',
        text: message.body,
        messageId: `<${ctx.idempotencyKey}@${domain}>`,
        ...(thread.replyTo !== undefined && { replyTo: thread.replyTo }),
        ...(thread.inReplyTo !== undefined && { inReplyTo: thread.inReplyTo }),
        ...(thread.references?.length && { references: thread.references }),
        headers: { 'X-Journey-Attempt': String(ctx.attempt) },
      });
      return { detail: String(info.response ?? 'accepted') };
    } catch (error) {
      throw classifySmtpError(error as Error & { responseCode?: number; code?: string });
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** SMTP reply codes: 4xx is transient, 5xx permanent (the opposite of HTTP); connection problems are transient. */
function classifySmtpError(error: Error & { responseCode?: number; code?: string }): DeliveryError {
  const code = error.responseCode;
  const retryable = code !== undefined ? code < 500 : error.code !== 'EENVELOPE' && error.code !== 'EMESSAGE';
  return new DeliveryError(`smtp: ${error.message}`, retryable);
}
