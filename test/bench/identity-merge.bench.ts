/**
 * Identity merge (#12): (1) a merge of a long anonymous history (100,000 events by default) copied by the merge
 * reactor in its batches of 500, in a temporary SQLite store: the time, the copy rate and the heap it takes (bounded
 * by the batch, not by the history); the baseline is one appendMany of the same events. (2) What routing costs
 * ingestion: batches of 100 events over 10,000 customers appended as ingestion does, with and without the alias map's
 * lookup of each event's customer (first sight: one read of its identity stream; then the LRU), p50/p99 per batch.
 * Run: npm run build && node --expose-gc dist/test/bench/identity-merge.bench.js [--events N] (without --expose-gc the
 * heap figure includes garbage not collected yet)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { customerStreamId, envelope, type JourneyEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { IdentityDirectory, IdentityMergeReactor, type ReactorContext } from '@journey/reactors';

const T0 = Date.UTC(2026, 0, 1);

function track(customerId: string, i: number, workspaceId = 'bench'): JourneyEvent {
  const at = new Date(T0 + i * 1000).toISOString();
  return envelope({
    id: `${customerId}-${i}`,
    type: 'InteractionRecorded',
    data: { event: i % 3 ? 'Feature Used' : 'Page Opened', properties: { i } },
    workspaceId,
    customerId,
    occurredAt: at,
    recordedAt: at,
    source: 'http',
  });
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return +sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(3);
};

async function mergeLongHistory(events: number) {
  const dir = mkdtempSync(join(tmpdir(), 'journey-bench-merge-'));
  const store = new SqliteEventStore(openSqliteDatabase(join(dir, 'journey.db')));
  try {
    const history = Array.from({ length: events }, (_, i) => track('anon', i));
    for (let i = 0; i < events; i += 5000) await store.appendToStream(customerStreamId('bench', 'anon'), history.slice(i, i + 5000));
    // baseline: the same number of events appended in one go, to another stream
    const copies = history.map((e, i) => ({ ...e, id: `baseline-${i}`, metadata: { ...e.metadata, customerId: 'baseline' } }));
    const b0 = performance.now();
    for (let i = 0; i < events; i += 500) await store.appendToStream(customerStreamId('bench', 'baseline'), copies.slice(i, i + 500));
    const baselineSeconds = (performance.now() - b0) / 1000;

    const directory = new IdentityDirectory(store);
    const now = new Date().toISOString();
    await directory.merge('bench', 'anon', 'user', { occurredAt: now, recordedAt: now });
    const reactor = new IdentityMergeReactor(directory);
    const ctx: ReactorContext = { store, now: () => new Date(), owns: () => true };
    const filter = { streamPrefixes: ['identity-'] };
    let after = await store.headPosition();
    after -= 2n; // the claim's two events
    (globalThis as { gc?: () => void }).gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    let peakHeap = heap0;
    const turns: number[] = [];
    const t0 = performance.now();
    for (;;) {
      const batch = await store.readAll({ after, filter, maxCount: 500 });
      if (batch.length === 0) break;
      const s = performance.now();
      await reactor.react(batch, ctx);
      turns.push(performance.now() - s);
      after = batch[batch.length - 1].position;
      // retained heap, when node runs with --expose-gc (garbage not yet collected otherwise)
      if (turns.length % 20 === 0) (globalThis as { gc?: () => void }).gc?.();
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    const seconds = (performance.now() - t0) / 1000;
    const user = await store.readStream(customerStreamId('bench', 'user'));
    if (user.length !== events + 1) throw new Error(`copied ${user.length - 1} of ${events} events`);
    return {
      events,
      seconds: +seconds.toFixed(2),
      copiedPerSec: Math.round(events / seconds),
      baselineSeconds: +baselineSeconds.toFixed(2),
      baselinePerSec: Math.round(events / baselineSeconds),
      turns: turns.length,
      turnMsP50: percentile(turns, 50),
      turnMsP99: percentile(turns, 99),
      heapGrowthMb: +((peakHeap - heap0) / 2 ** 20).toFixed(1),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function routingCost(batches: number) {
  const dir = mkdtempSync(join(tmpdir(), 'journey-bench-route-'));
  const store = new SqliteEventStore(openSqliteDatabase(join(dir, 'journey.db')));
  try {
    const directory = new IdentityDirectory(store);
    const customers = 10_000;
    const run = async (label: string, route: boolean) => {
      const times: number[] = [];
      let seq = 0;
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        const events = Array.from({ length: 100 }, () => {
          const n = seq++;
          return track(`${label}-c${(n * 7919) % customers}`, n);
        });
        const s = performance.now();
        const streams = new Map<string, JourneyEvent[]>();
        for (const e of events) {
          const customerId = route ? await directory.resolve('bench', e.metadata.customerId) : e.metadata.customerId;
          const id = customerStreamId('bench', customerId);
          streams.set(id, [...(streams.get(id) ?? []), e]);
        }
        await store.appendMany([...streams].map(([streamId, list]) => ({ streamId, events: list })));
        times.push(performance.now() - s);
      }
      const seconds = (performance.now() - t0) / 1000;
      return { eventsPerSec: Math.round((batches * 100) / seconds), batchMsP50: percentile(times, 50), batchMsP99: percentile(times, 99) };
    };
    const baseline = await run('plain', false);
    const routed = await run('routed', true);
    // the lookup alone: an id seen for the first time (one read of its identity stream), then from the LRU
    const lookup = async (prefix: string) => {
      const t0 = performance.now();
      for (let i = 0; i < customers; i++) await directory.resolve('bench', `${prefix}-${i}`);
      return +(((performance.now() - t0) * 1000) / customers).toFixed(2);
    };
    const coldMicros = await lookup('lookup');
    const warmMicros = await lookup('lookup');
    return {
      batches,
      customers,
      baseline,
      routed,
      ratio: +(routed.eventsPerSec / baseline.eventsPerSec).toFixed(2),
      lookupMicros: { cold: coldMicros, warm: warmMicros },
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(events: number) {
  const merge = await mergeLongHistory(events);
  const routing = await routingCost(2000);
  return { bench: 'identity-merge', merge, routing };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { events: { type: 'string' } } });
  main(values.events ? Number(values.events) : 100_000)
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
