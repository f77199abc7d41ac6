import { createHmac } from 'node:crypto';
import type { Channel, RenderedMessage, SendContext } from './channel';
import { httpCall } from './http-call';

export interface WebhookOptions {
  url: string;
  /** Signs each body: `X-Journey-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. Unsigned without it. */
  secret?: string;
  timeoutMs?: number;
  now?: () => Date;
}

export const SIGNATURE_HEADER = 'x-journey-signature';
export const TIMESTAMP_HEADER = 'x-journey-timestamp';

/** `sha256=<hex>`: what a receiver recomputes over the raw body with the shared secret (compare in constant time). */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs the message as JSON. The body carries `sentAt` (also sent as `X-Journey-Timestamp`), so the signature covers the
 * timestamp and a receiver can reject replays. `Idempotency-Key` is the messageId: the same on every attempt.
 */
export class WebhookChannel implements Channel {
  readonly name = 'webhook';
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: WebhookOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
  }

  async send(message: RenderedMessage, ctx: SendContext): Promise<{ detail?: string }> {
    const sentAt = this.now().toISOString();
    const { messageId, channel, workspaceId, customerId, to, subject, body: text } = message;
    const body = JSON.stringify({ messageId, channel, workspaceId, customerId, to, subject, body: text, attempt: ctx.attempt, sentAt });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': ctx.idempotencyKey,
      [TIMESTAMP_HEADER]: sentAt,
    };
    if (this.options.secret) headers[SIGNATURE_HEADER] = webhookSignature(this.options.secret, body);
    return httpCall(
      this.options.url,
      { method: 'POST', headers, body },
      { what: 'webhook', timeoutMs: this.timeoutMs, signal: ctx.signal },
    );
  }
}
