/**
 * Server-Sent Events over fetch (EventSource cannot send the key's Authorization header): parses the stream into
 * events, and reconnects after the server's `retry:` (default 2 s) when the stream ends or fails, until stopped.
 */

export interface LiveEvent {
  event: string;
  data: string;
  id?: string;
}

/** Parses SSE text: returns the complete events and the unfinished rest. Comments (`: heartbeat`) are dropped. */
export function parseSse(buffer: string): { events: LiveEvent[]; rest: string; retry?: number } {
  const events: LiveEvent[] = [];
  let retry: number | undefined;
  const blocks = buffer.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    if (data.length || event !== 'message') events.push({ event, data: data.join('\n'), ...(id === undefined ? {} : { id }) });
  }
  return { events, rest, ...(retry === undefined ? {} : { retry }) };
}

export interface LiveOptions {
  url: string;
  headers: Record<string, string>;
  onEvent(event: LiveEvent): void;
  /** Connected (true) or lost (false, with the reason). */
  onStatus?(connected: boolean, reason?: string): void;
}

/** Opens the stream and keeps it open; the returned function closes it for good. */
export function openLive(options: LiveOptions): () => void {
  let stopped = false;
  let controller: AbortController | undefined;
  let retryMs = 2000;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connect = async () => {
    controller = new AbortController();
    try {
      const res = await fetch(options.url, { headers: { accept: 'text/event-stream', ...options.headers }, signal: controller.signal });
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        let message = `the live stream answered ${res.status}`;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          /* not JSON */
        }
        throw new Error(message);
      }
      options.onStatus?.(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseSse(buffer + value);
        buffer = parsed.rest;
        if (parsed.retry !== undefined) retryMs = parsed.retry;
        for (const event of parsed.events) options.onEvent(event);
      }
      if (!stopped) options.onStatus?.(false, 'the live stream ended; reconnecting');
    } catch (error) {
      if (stopped) return;
      options.onStatus?.(false, `${(error as Error).message}; reconnecting`);
    }
    if (!stopped) timer = setTimeout(() => void connect(), retryMs);
  };
  void connect();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    controller?.abort();
  };
}
