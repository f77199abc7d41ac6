import { createHmac } from 'node:crypto';
import { DeliveryError, isRetryableHttpStatus, type Channel, type RenderedMessage, type SendContext } from './channel';

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
    // A timer we hold, not `AbortSignal.any([.., AbortSignal.timeout()])`: Node 20 may collect the timeout signal that
    // `any` only references weakly, and the call then never times out.
    const call = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      call.abort();
    }, this.timeoutMs);
    const stop = () => call.abort(ctx.signal.reason);
    if (ctx.signal.aborted) stop();
    else ctx.signal.addEventListener('abort', stop, { once: true });
    try {
      let response: Response;
      try {
        response = await fetch(this.options.url, { method: 'POST', headers, body, signal: call.signal });
      } catch (error) {
        if (timedOut) throw new DeliveryError(`webhook timed out after ${this.timeoutMs} ms`, true);
        const e = error as Error & { cause?: { code?: string; message?: string } };
        throw new DeliveryError(`webhook unreachable: ${e.cause?.code ?? e.cause?.message ?? e.message}`, true);
      }
      // Drain the body (within the deadline) so the connection can be reused; its text helps explain a refusal.
      const answer = (await response.text().catch(() => '')).slice(0, 200);
      if (response.ok) return { detail: `HTTP ${response.status}` };
      throw new DeliveryError(
        `webhook answered HTTP ${response.status}${answer ? `: ${answer}` : ''}`,
        isRetryableHttpStatus(response.status),
      );
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', stop);
    }
  }
}
