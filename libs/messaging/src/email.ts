import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, type Channel, type RenderedMessage, type SendContext } from './channel';

export interface EmailOptions {
  /** e.g. `smtp://user:pass@host:587` or `smtps://host:465`. */
  smtpUrl: string;
  from: string;
  /** Domain part of the Message-ID header. */
  messageIdDomain?: string;
  timeoutMs?: number;
}

/**
 * Email over SMTP (nodemailer). The Message-ID header is derived from the messageId, so every attempt of one message
 * carries the same Message-ID and a retry is recognisable downstream. Recipient: MessageScheduled.to, else the
 * customer's `email` trait; no recipient is a permanent failure.
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
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to,
        subject: message.subject ?? '',
        text: message.body,
        messageId: `<${ctx.idempotencyKey}@${this.options.messageIdDomain ?? 'journey-engine'}>`,
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
