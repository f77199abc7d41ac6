/**
 * Decision latency, push-based: the built engine runs as a child process with a trigger (deployed and enabled over
 * the HTTP API) that schedules a message at once on a "Probe" track call. We ingest a steady 2,000 events/s through
 * /v1/batch for ~20 s (a quarter of them probes) and measure, per probe, from the moment its ingestion answer arrived
 * to its MessageScheduled: `decidedMs` uses the event's recordedAt (the reactor's decision time), `storedMs` the moment
 * this process saw it committed in the SQLite file (read only, polled every 10 ms: an upper bound), `reactionMs` the
 * time inside the engine, from the probe's own recordedAt (taken at ingestion, before its commit) to the decision.
 * The figures cover the steady state after a warm-up at the same rate (default 5 s: a freshly started engine compiles
 * its hot paths and fills its caches in the first seconds); the warm-up's own p99 is reported beside them.
 * Target: decided p99 < 50 ms. Run: npm run build && node dist/test/bench/decision-latency.bench.js [--rate N --seconds N --warmup N]
 * (BENCH_ROLES sets the engine's JOURNEY_ROLES, to see what each role costs; default: all, as `npm start` runs).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { ingestedEventId } from '@journey/domain';
import { ADMIN_KEY, percentile, postJson, startEngine } from './harness';

const TARGET_P99_MS = 50;
const PROBE = {
  id: 'latency-probe',
  name: 'Latency probe',
  reentry: 'every',
  entry: { event: 'Probe' },
  steps: [{ send: { channel: 'inbox', body: 'probe {{ event.properties.n }}' } }],
};

export interface LatencyFigures {
  bench: 'decision-latency';
  rate: number;
  seconds: number;
  ingested: number;
  probes: number;
  decided: number;
  decidedMs: { p50: number; p90: number; p99: number; max: number };
  storedMs: { p50: number; p90: number; p99: number; max: number };
  /** Inside the engine: from the probe's recordedAt (ingestion, before its commit) to the decision. */
  reactionMs: { p50: number; p90: number; p99: number; max: number };
  warmup: { seconds: number; probes: number; decidedP99Ms: number };
  ingestAnswerMs: { p50: number; p99: number };
  targetP99Ms: number;
  meetsTargets: boolean;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => +v.toFixed(1);
  return { p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
};

export async function run(
  options: { rate?: number; seconds?: number; warmupSeconds?: number; customers?: number } = {},
): Promise<LatencyFigures> {
  const rate = options.rate ?? 2000;
  const seconds = options.seconds ?? 20;
  const warmupSeconds = options.warmupSeconds ?? 5;
  const customers = options.customers ?? 2000;
  const tickMs = 20;
  const perTick = Math.round((rate * tickMs) / 1000);
  const engine = await startEngine(process.env.BENCH_ROLES ? { JOURNEY_ROLES: process.env.BENCH_ROLES } : {});
  const db = new Database(join(engine.dataDir, 'journey.db'), { readonly: true, fileMustExist: true });
  try {
    for (const [path, body] of [
      ['/v1/triggers', PROBE],
      [`/v1/triggers/${PROBE.id}/enable`, {}],
    ] as const) {
      const res = await postJson(engine.url, path, JSON.stringify(body), ADMIN_KEY);
      if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${res.text}`);
    }

    /** event id of a probe -> when its ingestion answer arrived (ms since epoch). */
    const answered = new Map<string, number>();
    const decided = new Map<string, number>();
    const stored = new Map<string, number>();
    const answerMs: number[] = [];
    let after = 0;
    const poll = db.prepare<[number], { position: number; data: string; metadata: string }>(
      "SELECT position, data, metadata FROM events WHERE position > ? AND type = 'MessageScheduled' ORDER BY position",
    );
    const drain = () => {
      const seenAt = Date.now();
      for (const row of poll.all(after)) {
        after = row.position;
        const cause = JSON.parse(row.data).causingEventId as string;
        decided.set(cause, Date.parse(JSON.parse(row.metadata).recordedAt));
        stored.set(cause, seenAt);
      }
    };
    const poller = setInterval(drain, 10);

    const runId = Date.now().toString(36);
    let sent = 0;
    let probes = 0;
    /** Probes sent during the warm-up: measured apart. */
    const warmupProbes = new Set<string>();
    const inflight: Array<Promise<void>> = [];
    const warmupTicks = (warmupSeconds * 1000) / tickMs;
    const schedule = Date.now();
    let started = schedule;
    for (let tick = 0; tick < warmupTicks + (seconds * 1000) / tickMs; tick++) {
      if (tick === warmupTicks) [started, sent] = [Date.now(), 0];
      const wait = schedule + tick * tickMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const ids: string[] = [];
      const batch = Array.from({ length: perTick }, () => {
        const i = sent++;
        const messageId = `${runId}-${tick < warmupTicks ? 'w' : 'm'}${i}`;
        const probe = i % 4 === 0;
        if (probe) {
          const id = ingestedEventId('default', messageId);
          ids.push(id);
          if (tick < warmupTicks) warmupProbes.add(id);
          else probes++;
        }
        return {
          type: 'track',
          userId: `user-${i % customers}`,
          messageId,
          timestamp: new Date().toISOString(),
          event: probe ? 'Probe' : 'Feature Used',
          properties: { n: i, feature: `f${i % 13}` },
        };
      });
      inflight.push(
        postJson(engine.url, '/v1/batch', JSON.stringify({ batch })).then((res) => {
          const at = Date.now();
          if (res.status !== 200) throw new Error(`/v1/batch answered ${res.status}: ${res.text}`);
          answerMs.push(res.ms);
          for (const id of ids) answered.set(id, at);
        }),
      );
    }
    await Promise.all(inflight);
    const sendSeconds = (Date.now() - started) / 1000;
    const deadline = Date.now() + 60_000;
    while (decided.size < probes + warmupProbes.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    clearInterval(poller);
    drain();

    const decidedMs: number[] = [];
    const storedMs: number[] = [];
    const reactionMs: number[] = [];
    const warmupMs: number[] = [];
    const recordedAt = db.prepare<[string], { metadata: string }>('SELECT metadata FROM events WHERE id = ?');
    for (const [id, at] of answered) {
      if (warmupProbes.has(id)) {
        if (decided.has(id)) warmupMs.push(decided.get(id)! - at);
        continue;
      }
      if (decided.has(id)) decidedMs.push(decided.get(id)! - at);
      if (stored.has(id)) storedMs.push(stored.get(id)! - at);
      const probe = recordedAt.get(id);
      if (probe && decided.has(id)) reactionMs.push(decided.get(id)! - Date.parse(JSON.parse(probe.metadata).recordedAt));
    }
    const d = stats(decidedMs);
    const a = [...answerMs].sort((x, y) => x - y);
    return {
      bench: 'decision-latency',
      rate: Math.round(sent / sendSeconds),
      seconds: +sendSeconds.toFixed(1),
      ingested: sent,
      probes,
      decided: decidedMs.length,
      decidedMs: d,
      storedMs: stats(storedMs),
      reactionMs: stats(reactionMs),
      warmup: { seconds: warmupSeconds, probes: warmupProbes.size, decidedP99Ms: stats(warmupMs).p99 },
      ingestAnswerMs: { p50: +percentile(a, 50).toFixed(1), p99: +percentile(a, 99).toFixed(1) },
      targetP99Ms: TARGET_P99_MS,
      meetsTargets: decidedMs.length === probes && d.p99 < TARGET_P99_MS,
    };
  } finally {
    db.close();
    await engine.stop();
    rmSync(engine.dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { rate: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' }, customers: { type: 'string' } },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  run({ rate: num(values.rate), seconds: num(values.seconds), warmupSeconds: num(values.warmup), customers: num(values.customers) })
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
