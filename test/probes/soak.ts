/**
 * `npm run probe:soak [-- --short] [--minutes=N] [--rate=N] [--warmup-minutes=N] [--max-slope=N]`: the engine as
 * `npm start` runs it, one enabled trigger (a count window half as long as the warm-up), a steady ingestion rate
 * (default 1,000 events/s over 10,000 customers) for a bounded time (short form: 4 minutes, the first one a warm-up;
 * long form: 30, 5 of warm-up), the process RSS and each thread's used heap sampled every 2 s into rss.csv. Each slope
 * (MB/min, least squares over the samples after the warm-up) must stay under the threshold: an engine whose memory is
 * bounded levels off once every customer is known, so a slope that lasts is memory growing with the number of events
 * seen. RSS alone can hide it for minutes (the allocator gives pages back now and then), hence the heaps too.
 * Threshold: 5 MB/min in the short form (a 3-minute fit still carries GC saw-teeth of tens of MB), 2 MB/min in the long
 * one (60 MB over 30 minutes); the unbounded trigger histories of issue 9 grew 26.6 MB/min. Writes rss.csv and rss.png
 * (matplotlib, from the probes' venv) under probe-results/ and prints the folder.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_KEY, ROOT, freePort, postJson, probeArgs, report, resultsDir, run, sleep, startProbeEngine } from './probe';
import { slope } from './figures';
import { probeVenv } from './venv';

/**
 * The trigger reads a count window of `windowSeconds`: the reactor keeps per customer what its triggers can still read
 * (README "Trigger limits"), pruning a view once it has doubled, so its memory levels off about two windows in. The
 * window is half the warm-up, so the fit after it measures growth with the number of events seen, not the window
 * filling (a trigger with a 1 h window levels off after about 2 h).
 */
const trigger = (windowSeconds: number) => ({
  id: 'soak-usage-nudge',
  name: 'Soak: a nudge after the first report',
  entry: { count: { event: 'Report Viewed', within: `${Math.max(1, Math.round(windowSeconds))}s`, gte: 3 } },
  reentry: { oncePer: '1d' },
  steps: [{ send: { channel: 'inbox', body: 'You viewed {{ event.report }}: try the weekly digest.' } }],
});
const CUSTOMERS = 10_000;
const TICK_MS = 100;
const SAMPLE_MS = 2_000;

interface Sample {
  seconds: number;
  rssMb: number;
  heapMainMb: number;
  heapWorkerMb: number;
  acked: number;
}

async function main(): Promise<void> {
  const args = probeArgs();
  const minutes = args.number('minutes', 30, 4);
  const warmupMinutes = args.number('warmup-minutes', Math.min(5, minutes / 4), 1);
  const rate = args.number('rate', 1000, 1000);
  const maxSlope = args.number('max-slope', 2, 5);
  const bin = await probeVenv();
  const out = resultsDir('soak');
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-probe-soak-'));
  const engine = await startProbeEngine(dataDir, await freePort());
  const samples: Sample[] = [];
  let acked = 0;
  let refused = 0;
  let workerRestarts = NaN;
  try {
    const TRIGGER = trigger((warmupMinutes * 60) / 2);
    for (const [path, body] of [
      ['/v1/triggers', TRIGGER],
      [`/v1/triggers/${TRIGGER.id}/enable`, {}],
    ] as const) {
      const res = await fetch(`${engine.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    }
    const heap = async () => {
      const text = await (await fetch(`${engine.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
      const used = (thread: string) =>
        Number(new RegExp(`journey_thread_heap_bytes\\{thread="${thread}",kind="used"\\} (\\d+)`).exec(text)?.[1] ?? NaN) / 2 ** 20;
      workerRestarts = Number(/^journey_worker_thread_restarts_total (\d+)/m.exec(text)?.[1] ?? NaN);
      return { main: used('main'), worker: used('worker') };
    };
    const runId = randomUUID().slice(0, 8);
    const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
    const started = Date.now();
    const end = started + minutes * 60_000;
    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    let nextSample = started;
    for (let tick = 0; Date.now() < end; tick++) {
      const batch = Array.from({ length: perTick }, () => {
        const i = sent++;
        const userId = `user-${i % CUSTOMERS}`;
        const messageId = `${runId}-${i}`;
        if (i % 25 === 0) return { type: 'identify', userId, messageId, traits: { plan: i % 3 ? 'pro' : 'free', name: 'Ada' } };
        return i % 4 === 0
          ? { type: 'track', userId, messageId, event: 'Report Viewed', properties: { report: `r${i % 7}` } }
          : { type: 'track', userId, messageId, event: 'Feature Used', properties: { feature: `f${i % 13}`, count: i % 5 } };
      });
      const p = postJson(engine.url, '/v1/batch', JSON.stringify({ batch }))
        .then((res) => {
          if (res.status === 200) acked += batch.length;
          else refused += batch.length;
        })
        .catch(() => void (refused += batch.length))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (Date.now() >= nextSample) {
        const h = await heap();
        samples.push({ seconds: (Date.now() - started) / 1000, rssMb: engine.rssMb(), heapMainMb: h.main, heapWorkerMb: h.worker, acked });
        // A terminal gets a live line; a log (CI) a line every 30 s.
        const line = `soak: ${Math.round((Date.now() - started) / 1000)} s, ${acked} events acked, RSS ${samples[samples.length - 1].rssMb.toFixed(1)} MB`;
        if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
        else if (samples.length % 15 === 0) console.log(line);
        nextSample += SAMPLE_MS;
      }
      const wait = started + (tick + 1) * TICK_MS - Date.now();
      if (wait > 0) await sleep(wait);
    }
    await Promise.all(inFlight);
    process.stdout.write('\n');
  } finally {
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const csv = join(out, 'rss.csv');
  writeFileSync(
    csv,
    [
      'seconds,rss_mb,heap_main_mb,heap_worker_mb,events_acked',
      ...samples.map((s) =>
        [s.seconds.toFixed(1), s.rssMb.toFixed(2), s.heapMainMb.toFixed(2), s.heapWorkerMb.toFixed(2), s.acked].join(','),
      ),
    ].join('\n') + '\n',
  );
  const after = samples.filter((s) => s.seconds >= warmupMinutes * 60);
  const rssSlope = slope(after.map((s) => [s.seconds / 60, s.rssMb]));
  const heapMainSlope = slope(after.map((s) => [s.seconds / 60, s.heapMainMb]));
  const heapWorkerSlope = slope(after.map((s) => [s.seconds / 60, s.heapWorkerMb]));
  const png = join(out, 'rss.png');
  const chart = await run(
    join(bin, 'python'),
    [join(ROOT, 'test', 'probes', 'chart.py'), csv, png, String(warmupMinutes * 60), String(maxSlope)],
    { env: { ...process.env, MPLBACKEND: 'Agg' } },
  );
  const seconds = samples.length ? samples[samples.length - 1].seconds : 0;
  const achieved = seconds > 0 ? acked / (minutes * 60) : 0;

  const failures: string[] = [];
  if (after.length < 5) failures.push(`only ${after.length} samples after the warm-up: run longer (--minutes)`);
  if (!(rssSlope <= maxSlope)) failures.push(`RSS grew ${rssSlope.toFixed(2)} MB/min after the warm-up (threshold ${maxSlope} MB/min)`);
  if (!(heapMainSlope <= maxSlope))
    failures.push(`the main thread's used heap grew ${heapMainSlope.toFixed(2)} MB/min after the warm-up (threshold ${maxSlope} MB/min)`);
  if (!(heapWorkerSlope <= maxSlope))
    failures.push(
      `the worker thread's used heap grew ${heapWorkerSlope.toFixed(2)} MB/min after the warm-up (threshold ${maxSlope} MB/min)`,
    );
  if (refused > 0) failures.push(`${refused} events were not acknowledged`);
  if (workerRestarts !== 0) failures.push(`the worker thread restarted ${workerRestarts} times (journey_worker_thread_restarts_total)`);
  if (achieved < rate * 0.9) failures.push(`the engine took ${achieved.toFixed(0)} events/s, under 90% of the ${rate} asked`);
  if (chart !== 0) failures.push(`the chart was not written (python exited ${chart})`);
  report('soak', failures, {
    minutes,
    rate,
    achievedRate: Math.round(achieved),
    acked,
    samples: samples.length,
    workerRestarts,
    rssStartMb: Number(after[0]?.rssMb.toFixed(1)),
    rssEndMb: Number(samples[samples.length - 1]?.rssMb.toFixed(1)),
    rssSlopeMbPerMin: Number(rssSlope.toFixed(2)),
    heapMainSlopeMbPerMin: Number(heapMainSlope.toFixed(2)),
    heapWorkerSlopeMbPerMin: Number(heapWorkerSlope.toFixed(2)),
    maxSlopeMbPerMin: maxSlope,
    csv,
    png,
  });
  console.log(`soak: results in ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
