import { makeCall, postJson } from './harness';

/** A steady ingest load: harness.makeCall's Segment calls POSTed to /v1/batch at `rate` events/s in ticks of `tickMs`. */
export interface SteadyLoad {
  /** Stops sending and resolves once every request in flight was answered; the figures of the run. */
  stop(): Promise<{ sent: number; seconds: number; eventsPerSec: number; errors: number }>;
}

export function steadyLoad(
  url: string,
  options: { rate: number; customers?: number; tickMs?: number; writeKey?: string; runId?: string },
): SteadyLoad {
  const tickMs = options.tickMs ?? 20;
  const perTick = Math.max(1, Math.round((options.rate * tickMs) / 1000));
  const customers = options.customers ?? 2000;
  const runId = options.runId ?? `load-${Date.now().toString(36)}`;
  const inflight = new Set<Promise<void>>();
  const started = Date.now();
  let sent = 0;
  let errors = 0;
  let tick = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    if (stopped) return;
    const batch = Array.from({ length: perTick }, () => makeCall(sent++, customers, runId));
    const request = postJson(url, '/v1/batch', JSON.stringify({ batch }), options.writeKey)
      .then((res) => {
        if (res.status !== 200) errors++;
      })
      .catch(() => {
        errors++;
      })
      .finally(() => inflight.delete(request));
    inflight.add(request);
    tick++;
    timer = setTimeout(next, Math.max(0, started + tick * tickMs - Date.now()));
  };
  next();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(inflight);
      const seconds = (Date.now() - started) / 1000;
      return { sent, seconds: +seconds.toFixed(1), eventsPerSec: Math.round(sent / seconds), errors };
    },
  };
}

/**
 * As a process of its own (so that the load does not share the event loop of what it loads):
 * `node steady-load.js <url> <rate> [writeKey]` sends until its stdin closes, then prints its figures as one JSON line.
 */
if (require.main === module) {
  const [url, rate, writeKey] = process.argv.slice(2);
  const load = steadyLoad(url, { rate: Number(rate), ...(writeKey && { writeKey }) });
  process.stdin.resume();
  process.stdin.on('end', () => {
    void load.stop().then((figures) => {
      process.stdout.write(`${JSON.stringify(figures)}\n`);
      process.exit(0);
    });
  });
}
