/**
 * A broadcast's fan-out at scale (issue 12): a segment of 100,000 members (each with an identify and a SegmentEntered in
 * their stream, and a `segment_members` document), one broadcast now. The BroadcastReactor's fan-out (pages of 500
 * members from the read model, each member's stream read and decided through the guards, the page's messages appended,
 * a progress event) runs in this process on the engine's SQLite stores, as the reactor role would. Figures: members per
 * second, the time per page (p50/p99) against the baseline of the same page without deciding (read the members' page
 * and their streams, append one ready-made event per member: the I/O a fan-out cannot do without), and the heap while
 * it runs (a page at a time: what stays after a GC must not grow with the segment).
 * Run: npm run build && node --expose-gc dist/test/bench/broadcast-fanout.bench.js [--members N] [--short]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  broadcastStreamId,
  customerStreamId,
  decideBroadcast,
  deterministicId,
  envelope,
  foldBroadcast,
  type JourneyEvent,
  type RecordedEvent,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type AppendRequest, type EventStore } from '@journey/event-store';
import { BROADCAST_PAGE, BroadcastReactor, type SegmentMembers } from '@journey/reactors';
import { SqliteReadModelStore, type Projection } from '@journey/read-models';
import { SEGMENT_MEMBERS, segmentMembers } from '../../apps/engine/src/broadcasts/segment-members';
import { percentile } from './harness';

const WS = 'bench';
const SEGMENT = 'everyone';

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => +v.toFixed(2);
  return { p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
};

const at = '2026-12-01T00:00:00.000Z';
const event = (type: string, data: Record<string, unknown>, customerId: string, id: string): JourneyEvent =>
  envelope({ id, type, data, workspaceId: WS, customerId, occurredAt: at, recordedAt: at, source: 'bench' });

async function load(events: EventStore, readModels: SqliteReadModelStore, members: number): Promise<void> {
  const ids = Array.from({ length: members }, (_, i) => `cust-${String(i).padStart(7, '0')}`);
  for (let i = 0; i < members; i += 2000) {
    const requests: AppendRequest[] = ids.slice(i, i + 2000).map((c, j) => ({
      streamId: customerStreamId(WS, c),
      events: [
        event('CustomerIdentified', { userId: c, traits: { name: c, unsubscribed: (i + j) % 10 === 0 } }, c, deterministicId('b', c, 1)),
        event('SegmentEntered', { segmentId: SEGMENT, version: 1 }, c, deterministicId('b', c, 2)),
      ],
    }));
    await events.appendMany(requests);
  }
  const projection: Projection = {
    name: 'bench-segment-members',
    collections: [
      {
        name: SEGMENT_MEMBERS,
        indexes: [
          ['workspaceId', 'segmentId', 'member', 'customerId'],
          ['workspaceId', 'customerId'],
        ],
      },
    ],
    reads: () => [],
    apply: (batch) =>
      ids.map((customerId) => ({
        collection: SEGMENT_MEMBERS,
        id: [WS, SEGMENT, customerId].join('/'),
        pos: batch[0].position,
        doc: { workspaceId: WS, segmentId: SEGMENT, customerId, enteredAt: at, leftAt: '', version: 1, member: 1 },
      })),
  };
  await readModels.prepare(projection);
  const marker = { ...event('Marker', {}, '', 'marker'), streamId: 'bench-', revision: 0n, position: 1n } as RecordedEvent;
  await readModels.applyBatch(projection, [marker]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { members: { type: 'string' }, short: { type: 'boolean' } } });
  const members = Number(values.members ?? (values.short ? 10_000 : 100_000));
  const dir = mkdtempSync(join(tmpdir(), 'journey-bench-broadcast-'));
  const db = openSqliteDatabase(join(dir, 'journey.db'), { synchronous: 'NORMAL' });
  try {
    const events = new SqliteEventStore(db);
    const readModels = new SqliteReadModelStore(db);
    const loadStart = performance.now();
    await load(events, readModels, members);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    // baseline: the same pages and the members' streams read, and one ready-made event per member appended (to a
    // stream of its own, in one appendMany per page): the I/O a fan-out cannot do without, with no decision
    const source = segmentMembers(readModels);
    const baselinePages: number[] = [];
    for (let after: string | undefined; ;) {
      const t = performance.now();
      const page = await source.page(WS, SEGMENT, after, BROADCAST_PAGE);
      const appends: AppendRequest[] = [];
      for (const c of page) {
        await events.readStream(customerStreamId(WS, c));
        appends.push({ streamId: `baseline-${c}`, events: [event('Marker', { customerId: c }, c, deterministicId('baseline', c))] });
      }
      if (appends.length > 0) await events.appendMany(appends);
      baselinePages.push(performance.now() - t);
      if (page.length < BROADCAST_PAGE) break;
      after = page[page.length - 1];
    }
    const baselineSeconds = baselinePages.reduce((a, b) => a + b, 0) / 1000;

    // the broadcast: scheduled, its start timer fired, the fan-out
    const now = new Date('2026-12-09T12:00:00Z');
    const scheduled = decideBroadcast(
      {
        type: 'ScheduleBroadcast',
        definition: {
          broadcastId: 'b',
          segmentId: SEGMENT,
          send: { channel: 'email', subject: 'News', body: 'Hi {{ customer.traits.name }}' },
        },
        startAt: now.getTime(),
      },
      foldBroadcast('b', []),
      { workspaceId: WS, now },
    );
    const timer = scheduled[1];
    const fired = envelope({
      id: deterministicId('timer-fired', String(timer.data.timerId)),
      type: 'TimerFired',
      data: { timerId: timer.data.timerId, purpose: timer.data.purpose },
      workspaceId: WS,
      customerId: '',
      occurredAt: now.toISOString(),
      recordedAt: now.toISOString(),
      source: 'timer',
      cause: timer,
    });
    const { position } = await events.appendToStream(broadcastStreamId(WS, 'b'), [...scheduled, fired]);
    const delivered = await events.readAll({ after: position - 1n });

    const pageMs: number[] = [];
    let previous: number | undefined;
    const timed: SegmentMembers = {
      page: async (...args) => {
        const t = performance.now();
        if (previous !== undefined) pageMs.push(t - previous); // deciding and appending the page before
        previous = t;
        return source.page(...args);
      },
    };
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 50);
    const start = performance.now();
    await new BroadcastReactor(timed).react(delivered, { store: events, now: () => now, owns: () => true });
    const fanOutSeconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    global.gc?.();
    const heapRetained = process.memoryUsage().heapUsed - heapBefore;
    const state = foldBroadcast('b', await events.readStream(broadcastStreamId(WS, 'b')));

    const figures = {
      bench: 'broadcast-fanout',
      members,
      loadSeconds: +loadSeconds.toFixed(1),
      fanOutSeconds: +fanOutSeconds.toFixed(2),
      membersPerSecond: Math.round(members / fanOutSeconds),
      pageMs: stats(pageMs),
      baselineSeconds: +baselineSeconds.toFixed(2),
      baselinePageMs: stats(baselinePages),
      ratioToBaseline: +(fanOutSeconds / baselineSeconds).toFixed(2),
      /** Peak heap above the start while it ran (garbage included), and what stays after a GC (with --expose-gc). */
      heapGrowthMb: +((heapPeak - heapBefore) / 1024 / 1024).toFixed(1),
      heapRetainedMb: +(heapRetained / 1024 / 1024).toFixed(1),
      counts: state.counts,
      status: state.status,
    };
    console.log(JSON.stringify(figures, null, 2));
    if (state.status !== 'completed' || state.counts.targeted !== members) process.exitCode = 1;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
