import { DeliveryError, isRetryableHttpStatus } from './channel';

export interface HttpCallOptions {
  /** Names the call in errors: `webhook`, `slack`, `http`. */
  what: string;
  timeoutMs: number;
  /** The dispatcher's stop signal: aborting it aborts the call (its outcome is then unknown). */
  signal: AbortSignal;
}

/**
 * One HTTP call of a channel, classified the way the dispatcher retries: a 2xx resolves (`HTTP <status>`); 5xx, 408
 * and 429 are retryable DeliveryErrors, other 4xx permanent; a timeout or a network error is retryable. The answer's
 * first 200 characters explain a refusal.
 */
export async function httpCall(url: string, init: Omit<RequestInit, 'signal'>, options: HttpCallOptions): Promise<{ detail: string }> {
  const { what, timeoutMs, signal } = options;
  // A timer we hold, not `AbortSignal.any([.., AbortSignal.timeout()])`: Node 20 may collect the timeout signal that
  // `any` only references weakly, and the call then never times out.
  const call = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    call.abort();
  }, timeoutMs);
  const stop = () => call.abort(signal.reason);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  try {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: call.signal });
    } catch (error) {
      if (timedOut) throw new DeliveryError(`${what} timed out after ${timeoutMs} ms`, true);
      const e = error as Error & { cause?: { code?: string; message?: string } };
      throw new DeliveryError(`${what} unreachable: ${e.cause?.code ?? e.cause?.message ?? e.message}`, true);
    }
    // Drain the body (within the deadline) so the connection can be reused; its text helps explain a refusal.
    const answer = (await response.text().catch(() => '')).slice(0, 200);
    if (response.ok) return { detail: `HTTP ${response.status}` };
    throw new DeliveryError(
      `${what} answered HTTP ${response.status}${answer ? `: ${answer}` : ''}`,
      isRetryableHttpStatus(response.status),
    );
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
  }
}
